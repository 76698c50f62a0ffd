// Tells the ledger every --report-interval that the node is alive, and how much it uses.
import type { Logger } from "pino";
import { describeError, type Capacity } from "../core/index.js";
import type { NodeSigner } from "./ledger.js";

export class Reporter {
  private timer?: NodeJS.Timeout;
  private readonly started = Date.now();
  private inFlight = false;

  constructor(
    private readonly signer: Pick<NodeSigner, "send">,
    private readonly nodeId: number,
    private readonly used: () => Capacity,
    private readonly log: Logger,
  ) {}

  start(intervalMs: number): void {
    void this.report();
    this.timer = setInterval(() => void this.report(), intervalMs);
  }

  async report(): Promise<void> {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await this.signer.send("node.report", { nodeId: this.nodeId, uptime: Math.floor((Date.now() - this.started) / 1000), used: this.used() });
    } catch (err) {
      this.log.warn({ err: describeError(err) }, "uptime report failed");
    } finally {
      this.inFlight = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

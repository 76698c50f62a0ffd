// Posts workload results to the ledger as signed `contract.result` transactions, one batch per
// contract: results that arrive close together travel in one transaction. A failed post is
// retried with back-off; a refusal (the contract is gone, the version moved on) is dropped.
import type { Logger } from "pino";
import { describeError, type WorkloadResult, type WorkloadState } from "../core/index.js";
import type { NodeSigner } from "./ledger.js";

interface Batch { version: number; results: Map<string, WorkloadResult>; timer?: NodeJS.Timeout; sending: boolean; attempt: number }

const PERMANENT = new Set(["invalid", "forbidden", "not_found", "conflict", "bad_signature"]);

export class ResultPoster {
  private readonly batches = new Map<number, Batch>();
  private closed = false;

  constructor(
    private readonly signer: Pick<NodeSigner, "send">,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly delayMs = 25,
  ) {}

  post(contractId: number, version: number, name: string, state: WorkloadState, message = "", data: Record<string, unknown> = {}): void {
    if (this.closed) return;
    let b = this.batches.get(contractId);
    if (!b || b.version !== version) {
      // A newer version's results replace an older version's unsent ones.
      if (b && b.version > version) return;
      if (b?.timer) clearTimeout(b.timer);
      // The signer serialises sends, so a new batch may start while an old one is in flight.
      b = { version, results: new Map(), sending: false, attempt: 0 };
      this.batches.set(contractId, b);
    }
    b.results.set(name, { name, state, message: message.slice(0, 4096), data, created: Math.max(0, Math.floor(this.now())) });
    this.schedule(contractId, b, this.delayMs);
  }

  private schedule(contractId: number, b: Batch, ms: number): void {
    if (b.timer || b.sending || this.closed) return;
    b.timer = setTimeout(() => { b.timer = undefined; void this.flush(contractId, b); }, ms);
  }

  private async flush(contractId: number, b: Batch): Promise<void> {
    if (b.results.size === 0 || this.batches.get(contractId) !== b) return;
    const results = [...b.results.values()];
    b.results = new Map();
    b.sending = true;
    try {
      for (let i = 0; i < results.length; i += 64) {
        await this.signer.send("contract.result", { contractId, version: b.version, results: results.slice(i, i + 64) });
      }
      b.attempt = 0;
      this.log.debug({ contractId, version: b.version, results: results.map((r) => `${r.name}:${r.state}`) }, "results posted");
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code && PERMANENT.has(code)) {
        this.log.warn({ contractId, version: b.version, err: describeError(err) }, "ledger refused results; dropped");
      } else {
        // Put them back unless something newer for the same workload arrived meanwhile.
        for (const r of results) if (!b.results.has(r.name)) b.results.set(r.name, r);
        b.attempt++;
        this.log.warn({ contractId, attempt: b.attempt, err: describeError(err) }, "posting results failed; will retry");
      }
    } finally {
      b.sending = false;
    }
    if (this.batches.get(contractId) !== b) {
      const next = this.batches.get(contractId);
      if (next) this.schedule(contractId, next, this.delayMs);
    } else if (b.results.size > 0) {
      this.schedule(contractId, b, b.attempt ? Math.min(30_000, 250 * 2 ** b.attempt) : this.delayMs);
    } else {
      this.batches.delete(contractId);
    }
  }

  close(): void {
    this.closed = true;
    for (const b of this.batches.values()) if (b.timer) clearTimeout(b.timer);
  }
}

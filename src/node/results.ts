// Posts workload results to the ledger as signed `contract.result` transactions, one batch per
// contract: results that arrive close together travel in one transaction. A failed post is
// retried with back-off while the ledger is unreachable; a refusal (the contract is gone, the
// version moved on) is dropped, never retried in a loop. A gate (the engine's view of the contract)
// keeps results for workloads the contract no longer holds from being sent at all.
import type { Logger } from "pino";
import { describeError, toGridError, type WorkloadResult, type WorkloadState } from "../core/index.js";
import type { NodeSigner } from "./ledger.js";

interface Batch { version: number; results: Map<string, WorkloadResult>; timer?: NodeJS.Timeout; sending: boolean; attempt: number }

/** Whether a result may be posted now: the workload is in the contract's current version (or it is its final `deleted`). */
export type ResultGate = (contractId: number, version: number, name: string, state: WorkloadState) => boolean;

/** Unclassified failures (`internal`, a nonce race) are retried this many times, then dropped. */
const MAX_UNCLASSIFIED_ATTEMPTS = 5;

export class ResultPoster {
  private readonly batches = new Map<number, Batch>();
  private closed = false;
  private gate: ResultGate = () => true;
  /** Sends refused by the ledger or withheld by the gate (for tests and logs). */
  dropped = 0;

  constructor(
    private readonly signer: Pick<NodeSigner, "send">,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly delayMs = 25,
  ) {}

  /** Results the gate refuses are not sent; it is asked again when a batch leaves. */
  restrict(gate: ResultGate): void { this.gate = gate; }

  post(contractId: number, version: number, name: string, state: WorkloadState, message = "", data: Record<string, unknown> = {}): void {
    if (this.closed) return;
    if (!this.gate(contractId, version, name, state)) { this.dropped++; return; }
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
    // The contract may have changed since these were queued (deleted, or a workload removed).
    const results = [...b.results.values()].filter((r) => this.gate(contractId, b.version, r.name, r.state));
    this.dropped += b.results.size - results.length;
    b.results = new Map();
    b.sending = true;
    try {
      for (let i = 0; i < results.length; i += 64) {
        await this.signer.send("contract.result", { contractId, version: b.version, results: results.slice(i, i + 64) });
      }
      b.attempt = 0;
      this.log.debug({ contractId, version: b.version, results: results.map((r) => `${r.name}:${r.state}`) }, "results posted");
    } catch (err) {
      const e = toGridError(err);
      const retry = e.transient || ((e.code === "internal" || e.code === "bad_nonce") && b.attempt + 1 < MAX_UNCLASSIFIED_ATTEMPTS);
      if (!retry) {
        this.dropped += results.length;
        this.log.warn({ contractId, version: b.version, code: e.code, err: describeError(err) }, "ledger refused results; dropped");
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

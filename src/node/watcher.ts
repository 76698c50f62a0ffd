// Follows the ledger's event stream for this node and turns it into desired state. Events only
// say *which* contract changed; the watcher fetches the contract itself and hands the engine the
// ledger's current view. A height counts as processed once every contract touched up to it was
// fetched and applied; only then is it persisted, so a restart resumes without missing anything.
import type { Logger } from "pino";
import { describeError } from "../core/index.js";
import type { Cursor } from "./cursor.js";
import type { ContractView, EventView, NodeLedger } from "./ledger.js";
import type { Engine } from "./engine.js";
import type { ApprovalVerifier } from "./verify.js";

const CONTRACT_EVENTS = new Set([
  "contract.created", "contract.approved", "contract.updated", "contract.signed",
  "contract.grace", "contract.resumed", "contract.deleted",
]);

export interface WatcherOptions {
  ledger: NodeLedger;
  nodeId: number;
  engine: Engine;
  verifier: ApprovalVerifier;
  cursor: Cursor;
  log: Logger;
  /** Told the latest ledger time and processed height (results use ledger time). */
  onBlock?: (height: number, time: number) => void;
}

export class Watcher {
  private sub?: { close(): void };
  private pending = new Set<number>();
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private persistedAt = 0;
  private lastHeight = -1;

  constructor(private readonly o: WatcherOptions) {}

  /** Full resync from the ledger's contract list, then follow the stream. */
  async start(): Promise<void> {
    const { ledger, nodeId, log } = this.o;
    const status = await this.retry("read ledger status", () => ledger.status());
    this.o.onBlock?.(status.height, status.time);
    const from = this.o.cursor.get();
    const lists = await this.retry("list contracts", async () => [
      ...(await ledger.contracts({ nodeId, state: "active" })),
      ...(await ledger.contracts({ nodeId, state: "grace" })),
    ]);
    const seen = new Set<number>();
    for (const c of lists) { seen.add(c.id); await this.applyContract(c); }
    // What this node holds for a contract the lists did not show: ask for it (deleted, or unknown).
    for (const id of this.o.engine.localContracts()) if (!seen.has(id)) await this.refresh(id);
    await this.o.cursor.set(status.height);
    log.info({ contracts: lists.length, height: status.height, resumedFrom: from }, "resynced with the ledger");
    this.sub = ledger.subscribe({ from: (from === null ? status.height : Math.min(from, status.height)) + 1, nodeId }, (e) => this.onEvent(e));
  }

  private onEvent(e: EventView): void {
    if (this.stopped) return;
    if (e.type === "block") {
      const height = e.height, time = e.time ?? 0;
      const ids = [...this.pending];
      this.pending.clear();
      this.chain = this.chain.then(async () => {
        try {
          await Promise.all(ids.map((id) => this.refresh(id)));
          // Blocks without events for this node need no fsync each: resuming from a slightly older
          // height only replays blocks that hold nothing for us.
          if (ids.length > 0 || Date.now() - this.persistedAt > 30_000) {
            await this.o.cursor.set(height);
            this.persistedAt = Date.now();
          }
        } catch (err) {
          // E.g. out of descriptors or disk for the cursor file: a rejected link would stop the
          // chain for good. The contracts are looked at again with the next block instead, and
          // this height does not count as processed.
          if (this.stopped) return;
          for (const id of ids) this.pending.add(id);
          this.o.log.warn({ err: describeError(err), height }, "processing a block failed; retried with the next one");
          return;
        }
        this.lastHeight = height;
        this.o.onBlock?.(height, time);
      });
      return;
    }
    if (CONTRACT_EVENTS.has(e.type) && typeof e.contractId === "number") this.pending.add(e.contractId);
  }

  private async refresh(id: number): Promise<void> {
    const c = await this.retry(`fetch contract ${id}`, async () => {
      try {
        return await this.o.ledger.contract(id);
      } catch (err) {
        if ((err as { code?: string }).code === "not_found") return null;
        throw err;
      }
    });
    if (c === null) { this.o.engine.forget(id); return; }
    await this.applyContract(c);
  }

  private async applyContract(c: ContractView): Promise<void> {
    if (c.nodeId !== this.o.nodeId) return;
    const verdict = c.state === "deleted" ? { ok: false as const, reason: "deleted" } : await this.retry(`verify contract ${c.id}`, () => this.o.verifier.verify(c));
    this.o.engine.apply(c, verdict);
  }

  /** Ledger calls are retried until they succeed (an outage must delay the node, never skip work). */
  private async retry<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (this.stopped) throw err;
        const ms = Math.min(5000, 200 * 2 ** attempt);
        if (attempt % 5 === 0) this.o.log.warn({ err: describeError(err), retryInMs: ms }, `${what} failed`);
        await new Promise((r) => setTimeout(r, ms));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.sub?.close();
    await this.chain.catch(() => {});
    if (this.lastHeight >= 0) await this.o.cursor.set(this.lastHeight).catch(() => {});
  }
}

// The reconcile engine: desired state (approved, verified contract versions for this node) against
// actual state (the durable store of what this node provisioned). Contracts map to per-workload
// tasks; the engine hands each task its target and never waits on one.
import type { Logger } from "pino";
import { addCapacity, canonicalJson, sha256Hex, subCapacity, ZERO_CAPACITY, type Capacity, type SealKeyPair } from "../core/index.js";
import type { Registry } from "./provisioners/index.js";
import type { ContractView } from "./ledger.js";
import type { WorkloadStore } from "./store.js";
import type { ResultPoster } from "./results.js";
import type { Verdict } from "./verify.js";
import { WorkloadTask, type TaskHost } from "./task.js";

export interface EngineOptions {
  nodeId: number;
  dataDir: string;
  underlay: string;
  sealKeys: SealKeyPair;
  capacity: Capacity;
  log: Logger;
  registry: Registry;
  store: WorkloadStore;
  results: ResultPoster;
  onError?: () => void;
  retry?: { baseMs: number; maxMs: number };
  checkIntervalMs?: number;
}

export class Engine {
  private readonly tasks = new Map<string, WorkloadTask>();
  private readonly host: TaskHost;
  private checkTimer?: NodeJS.Timeout;
  private readonly rejected = new Map<number, string>();
  /** Per contract: the workloads of the version this node acts on, or "deleted" (the ledger's word). */
  private readonly current = new Map<number, { version: number; names: Set<string> } | "deleted">();
  /** Per workload id: who waits for it to be provisioned (a container for its deployment's 0-db). */
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(private readonly opts: EngineOptions) {
    this.host = {
      nodeId: opts.nodeId, dataDir: opts.dataDir, underlay: opts.underlay, sealKeys: opts.sealKeys, log: opts.log,
      registry: opts.registry, store: opts.store, results: opts.results,
      retry: opts.retry ?? { baseMs: 1000, maxMs: 60_000 },
      freeExcept: (id) => subCapacity(opts.capacity, this.reservedExcept(id)),
      onReleased: (id) => this.released(id),
      onProvisioned: (id) => { for (const f of [...this.waiters.get(id) ?? []]) f(); },
      waitProvisioned: (id, signal) => this.waitProvisioned(id, signal),
      onError: () => opts.onError?.(),
    };
  }

  /** Load what was provisioned before (a restart or a crash); nothing acts until desired state arrives. */
  async load(): Promise<void> {
    for (const r of await this.opts.store.load()) this.task(r.id, r.contractId).check();
  }

  /** Start periodic health checks of running workloads. */
  startChecks(): void {
    const ms = this.opts.checkIntervalMs ?? 30_000;
    this.checkTimer = setInterval(() => { for (const t of this.tasks.values()) t.check(); }, ms);
    this.checkTimer.unref();
  }

  /** Contract ids this node holds anything for. */
  localContracts(): number[] {
    return [...new Set(this.opts.store.all().map((r) => r.contractId))];
  }

  reserved(): Capacity {
    return this.reservedExcept("");
  }

  private reservedExcept(id: string): Capacity {
    let c = ZERO_CAPACITY;
    for (const r of this.opts.store.all()) if (r.id !== id) c = addCapacity(c, r.reserved);
    return c;
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = { provisioning: 0, ok: 0, error: 0, paused: 0, deprovisioning: 0, refused: 0 };
    for (const r of this.opts.store.all()) out[r.state]++;
    for (const t of this.tasks.values()) if (t.isRefused) out.refused++;
    return out;
  }

  private waitProvisioned(id: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let set = this.waiters.get(id);
      if (!set) { set = new Set(); this.waiters.set(id, set); }
      const done = () => {
        set.delete(look);
        if (!set.size) this.waiters.delete(id);
        signal.removeEventListener("abort", aborted);
      };
      const look = () => {
        const r = this.opts.store.get(id);
        if (r?.state === "ok") { done(); resolve(r.data ?? {}); }
      };
      const aborted = () => { done(); reject(signal.reason); };
      if (signal.aborted) return aborted();
      set.add(look);
      signal.addEventListener("abort", aborted, { once: true });
      look();
    });
  }

  private task(id: string, contractId: number): WorkloadTask {
    let t = this.tasks.get(id);
    if (!t) { t = new WorkloadTask(id, contractId, this.host); this.tasks.set(id, t); }
    return t;
  }

  private released(id: string): void {
    // Freed capacity may let a refused workload in; a finished removal's task can go.
    for (const [tid, t] of this.tasks) {
      if (tid !== id) t.retryRefused();
    }
    queueMicrotask(() => { const t = this.tasks.get(id); if (t?.isDone) this.tasks.delete(id); });
  }

  /** Apply the ledger's current view of one contract (already checked by the verifier). */
  apply(c: ContractView, verdict: Verdict): void {
    const mine = [...this.tasks.values()].filter((t) => t.contractId === c.id);
    if (c.state === "deleted") {
      this.current.set(c.id, "deleted");
      const reason = c.deletedReason ? `contract deleted: ${c.deletedReason}` : "contract deleted";
      for (const t of mine) t.setDesired(null, { version: c.approvedVersion ?? 0, reason });
      this.rejected.delete(c.id);
      return;
    }
    if (!verdict.ok) {
      // Not approved, or not signed right: do nothing at all (what runs keeps running as it was).
      if (this.rejected.get(c.id) !== verdict.reason) {
        this.rejected.set(c.id, verdict.reason);
        this.opts.log.info({ contractId: c.id, reason: verdict.reason }, "contract ignored");
      }
      return;
    }
    this.rejected.delete(c.id);
    const d = verdict.deployment;
    this.current.set(c.id, { version: verdict.version, names: new Set(d.workloads.map((w) => w.name)) });
    const wanted = new Set<string>();
    for (const w of d.workloads) {
      const id = `${c.id}-${w.name}`;
      wanted.add(id);
      this.task(id, c.id).setDesired({
        id, contractId: c.id, twinId: c.twinId, version: verdict.version, workload: w, deployment: d,
        hash: sha256Hex(canonicalJson(w)), mode: c.state === "grace" ? "pause" : "run",
      });
    }
    for (const t of mine) if (!wanted.has(t.id)) t.setDesired(null, { version: verdict.version, reason: `removed by version ${verdict.version}` });
  }

  /** The ledger has never heard of this contract: whatever is held for it goes. */
  forget(contractId: number): void {
    this.current.set(contractId, "deleted");
    for (const t of this.tasks.values()) if (t.contractId === contractId) t.setDesired(null, { version: 0, reason: "contract unknown to the ledger" });
  }

  /**
   * Whether a result may go to the ledger: a workload of the contract's current version (for that
   * version), or the final `deleted` of one the contract dropped or of a deleted contract. Nothing
   * else — a late progress line, an error of a step that outlived its workload — is ever posted.
   * A contract not seen yet (before the first sync) is left to the ledger to judge.
   */
  allowsResult(contractId: number, version: number, name: string, state: string): boolean {
    const c = this.current.get(contractId);
    if (c === undefined) return true;
    if (state === "deleted") return c === "deleted" || !c.names.has(name);
    return c !== "deleted" && c.names.has(name) && version === c.version;
  }

  async stop(): Promise<void> {
    if (this.checkTimer) clearInterval(this.checkTimer);
    await Promise.all([...this.tasks.values()].map((t) => t.stop()));
  }
}

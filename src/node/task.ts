// One workload's reconcile loop. Each workload has its own task, queue and retry timer, so a
// stuck or slow workload never holds up another: the engine never awaits a task.
import type { Logger } from "pino";
import { describeError, toGridError, workloadCapacity, capacityShortfall, type Capacity, type Deployment, type SealKeyPair, type Workload } from "../core/index.js";
import { provisionerFor, unsupported, type BoundProvisioner, type Registry, type WorkloadContext } from "./provisioners/index.js";
import type { WorkloadRecord, WorkloadStore } from "./store.js";
import type { ResultPoster } from "./results.js";

export interface Desired {
  id: string;
  contractId: number;
  twinId: number;
  /** The approved deployment's version (results are posted against it). */
  version: number;
  workload: Workload;
  deployment: Deployment;
  hash: string;
  mode: "run" | "pause";
}

/** What a task needs from the engine around it. */
export interface TaskHost {
  nodeId: number;
  dataDir: string;
  underlay: string;
  sealKeys: SealKeyPair;
  log: Logger;
  registry: Registry;
  store: WorkloadStore;
  results: ResultPoster;
  /** Free capacity if this task's own reservation were released. */
  freeExcept(id: string): Capacity;
  onReleased(id: string): void;
  /** Workload `id` is now provisioned (`ok`): wakes whatever waits for it. */
  onProvisioned(id: string): void;
  /** Resolves with the data of workload `id` once it is `ok` here; rejects when `signal` aborts. */
  waitProvisioned(id: string, signal: AbortSignal): Promise<Record<string, unknown>>;
  onError(): void;
  retry: { baseMs: number; maxMs: number };
}

export class WorkloadTask {
  /** undefined: not known yet (do nothing); null: must not exist; else: what should run. */
  private desired: Desired | null | undefined = undefined;
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;
  private attempt = 0;
  /** Failed steps of the current spec since it last was ok: the count the `error` result carries. */
  private failures = 0;
  private abort = new AbortController();
  private needsCheck = false;
  /** Last refusal (capacity, unsupported type) for this spec, so it is reported once, not retried in a loop. */
  private refused?: { hash: string; message: string };
  /** A permanent failure (bad input, image not found, a process that cannot start) of this spec:
   *  it stays `error` until the spec changes, instead of being retried as if transient. */
  private failedFor?: string;
  private lastErrorPosted?: string;
  private lastProgress = 0;
  /** The contract's latest version, for a `deleted` result after an update removed the workload. */
  private lastVersion = 0;
  private removalReason = "removed";
  private stopped = false;
  private idle?: () => void;

  constructor(readonly id: string, readonly contractId: number, private readonly host: TaskHost) {}

  get isDone(): boolean {
    return this.desired === null && !this.host.store.get(this.id) && !this.running;
  }

  get isRefused(): boolean {
    return this.refused !== undefined;
  }

  /** `removal` says why the workload goes (for its `deleted` result) and the contract's version then. */
  setDesired(d: Desired | null, removal?: { version: number; reason: string }): void {
    const prev = this.desired;
    if (d) this.lastVersion = d.version;
    if (removal) { this.lastVersion = Math.max(this.lastVersion, removal.version); this.removalReason = removal.reason; }
    if (prev !== undefined && prev !== null && d !== null && prev.hash === d.hash && prev.mode === d.mode) {
      // Another workload of the contract changed: this one stays as it is, under the new version.
      this.desired = d;
      return;
    }
    if (prev === null && d === null) return;
    // A removal, or a new spec, makes whatever runs now moot.
    if (this.running && (d === null || (prev && prev.hash !== d.hash))) this.abort.abort(new Error("workload changed"));
    this.desired = d;
    this.refused = undefined;
    this.failedFor = undefined;
    this.attempt = 0;
    this.failures = 0;
    this.kick();
  }

  /** Re-run the health check (after a restart, and periodically). */
  check(): void {
    this.needsCheck = true;
    this.kick();
  }

  /** Capacity was released elsewhere: a workload refused for capacity may fit now. */
  retryRefused(): void {
    if (this.refused) { this.refused = undefined; this.kick(); }
  }

  kick(): void {
    if (this.stopped) return;
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.running) { this.again = true; return; }
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort.abort(new Error("node is stopping"));
    if (this.running) await new Promise<void>((r) => { this.idle = r; });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        this.again = false;
        if (this.stopped) break;
        if (this.abort.signal.aborted) this.abort = new AbortController();
        let progressed: boolean;
        const target = this.desired;
        try {
          progressed = await this.step();
          this.attempt = 0;
        } catch (err) {
          if (this.stopped) break;
          await this.failed(err, target);
          if (this.again) continue;
          break;
        }
        if (!progressed && !this.again) break;
      }
    } finally {
      this.running = false;
      this.idle?.();
    }
  }

  private async failed(err: unknown, target: Desired | null | undefined): Promise<void> {
    // errno errors become typed here: EMFILE/ENOSPC are `exhausted` (transient, retried), etc.
    const e = toGridError(err);
    this.failures++;
    // The result carries the latest reason and how many times it was tried: a retry never hides
    // an error behind `init` (it stays `error` until a step succeeds or the spec changes).
    const message = this.failures > 1 ? `${describeError(e)} (tried ${this.failures} times)` : describeError(e);
    // Unclassified failures (`internal`: a command that failed for a reason we cannot name) keep
    // the old behaviour, a retry with back-off; only named permanent codes stop the retries.
    const permanent = !e.transient && e.code !== "internal";
    this.host.onError();
    const r = this.host.store.get(this.id);
    const d = this.desired;
    if (r && d) {
      r.state = "error";
      r.message = message;
      r.updatedAt = Date.now();
      await this.host.store.put(r).catch(() => {});
    }
    if (d && this.lastErrorPosted !== message) {
      this.lastErrorPosted = message;
      this.host.results.post(d.contractId, d.version, d.workload.name, "error", message, { code: e.code, retries: this.failures - 1, retrying: !permanent });
    }
    if (permanent && d && d === target) {
      this.failedFor = d.hash;
      this.host.log.warn({ workload: this.id, code: e.code, err: message }, "workload failed; it stays failed until its spec changes");
      return;
    }
    this.attempt++;
    const ms = Math.min(this.host.retry.maxMs, this.host.retry.baseMs * 2 ** (this.attempt - 1));
    this.host.log.warn({ workload: this.id, code: e.code, attempt: this.attempt, retryInMs: ms, err: message }, "workload step failed; will retry");
    if (!this.stopped) this.timer = setTimeout(() => { this.timer = undefined; this.kick(); }, ms);
  }

  private ctx(contractId: number, twinId: number, deployment: Deployment, version: number, name: string): WorkloadContext {
    const h = this.host;
    return {
      nodeId: h.nodeId, contractId, twinId, workloadId: this.id, deployment, dataDir: h.dataDir, underlay: h.underlay,
      sealKeys: h.sealKeys, log: h.log.child({ workload: this.id }), signal: this.abort.signal,
      progress: (message: string) => {
        // A step still running after its workload was removed or changed reports nothing.
        const d = this.desired;
        if (!d || d.version !== version || d.workload.name !== name) return;
        // While a failed step is retried, its `error` result stands (progress would read as `init`).
        if (this.failures > 0) return;
        const now = Date.now();
        if (now - this.lastProgress < 1000) return;
        this.lastProgress = now;
        h.results.post(contractId, version, name, "init", message);
      },
      changed: () => this.check(),
      sibling: (sibling: string) => h.waitProvisioned(`${contractId}-${sibling}`, this.abort.signal),
    };
  }

  private provisioner(w: Workload): BoundProvisioner | undefined {
    return provisionerFor(this.host.registry, w);
  }

  /** One step towards the desired state; true if it changed something (so look again). */
  private async step(): Promise<boolean> {
    const d = this.desired;
    const r = this.host.store.get(this.id);
    if (d === undefined) return false;
    if (d === null) {
      if (!r) return false;
      await this.remove(r);
      return true;
    }
    if (this.refused?.hash === d.hash || this.failedFor === d.hash) return false;

    const p = this.provisioner(d.workload);
    if (!p) return this.refuse(d, unsupported(d.workload.type));

    if (!r || r.hash !== d.hash || r.state === "provisioning" || r.state === "error" || r.state === "deprovisioning") {
      if (r && r.workload.type !== d.workload.type) {
        await this.remove(r, false);
        return true;
      }
      const need = workloadCapacity(d.workload);
      const shortfall = capacityShortfall(need, this.host.freeExcept(this.id));
      if (shortfall) return this.refuse(d, `not enough capacity on node ${this.host.nodeId}: workload ${d.workload.name} ${shortfall}`);
      // Write-ahead: the record exists before anything is made, so a crash can never leak it.
      const rec: WorkloadRecord = {
        id: this.id, contractId: d.contractId, twinId: d.twinId, name: d.workload.name, workload: d.workload, deployment: d.deployment,
        hash: d.hash, state: "provisioning", reserved: need, updatedAt: Date.now(),
      };
      await this.host.store.put(rec);
      // A retry keeps its error shown; after a node restart the record says it failed before.
      if (this.failures === 0 && r?.hash === d.hash && r.state === "error") this.failures = 1;
      if (this.failures === 0) this.host.results.post(d.contractId, d.version, d.workload.name, "init", "provisioning");
      const data = await p.provision(this.ctx(d.contractId, d.twinId, d.deployment, d.version, d.workload.name));
      if (this.desired !== d) return true;
      await this.host.store.put({ ...rec, state: "ok", data, message: undefined, updatedAt: Date.now() });
      this.needsCheck = false;
      this.lastErrorPosted = undefined;
      this.failures = 0;
      this.host.results.post(d.contractId, d.version, d.workload.name, "ok", "", data);
      this.host.log.info({ workload: this.id, type: d.workload.type }, "workload provisioned");
      this.host.onProvisioned(this.id);
      return true;
    }
    const ctx = this.ctx(d.contractId, d.twinId, d.deployment, d.version, d.workload.name);
    if (d.mode === "pause" && r.state === "ok") {
      await p.pause(ctx);
      await this.host.store.put({ ...r, deployment: d.deployment, state: "paused", updatedAt: Date.now() });
      this.host.results.post(d.contractId, d.version, d.workload.name, "paused", "contract is in grace: out of funds");
      this.host.log.info({ workload: this.id }, "workload paused");
      return true;
    }
    if (d.mode === "run" && r.state === "paused") {
      const data = await p.resume(ctx);
      await this.host.store.put({ ...r, deployment: d.deployment, state: "ok", data, updatedAt: Date.now() });
      this.host.results.post(d.contractId, d.version, d.workload.name, "ok", "", data);
      this.host.log.info({ workload: this.id }, "workload resumed");
      this.host.onProvisioned(this.id);
      return true;
    }
    if (this.needsCheck && r.state === "ok") {
      this.needsCheck = false;
      const health = await p.check(ctx);
      if (!health.ok) {
        this.host.log.warn({ workload: this.id, why: health.message }, "workload check failed; provisioning it again");
        await this.host.store.put({ ...r, state: "provisioning", message: health.message, updatedAt: Date.now() });
        return true;
      }
      if (health.report) {
        // It still runs (nothing to make again): its new word is its result. The record stays `ok`.
        const { state, message } = health.report;
        const data = { ...r.data, ...health.report.data };
        await this.host.store.put({ ...r, data, message: message || undefined, updatedAt: Date.now() });
        this.host.results.post(d.contractId, d.version, d.workload.name, state, message, data);
        this.host.log.info({ workload: this.id, state, why: message.split("\n")[0] }, "workload reported");
      }
    }
    return false;
  }

  private refuse(d: Desired, message: string): false {
    this.refused = { hash: d.hash, message };
    this.host.log.warn({ workload: this.id, reason: message }, "workload refused");
    this.host.results.post(d.contractId, d.version, d.workload.name, "error", message);
    return false;
  }

  private async remove(r: WorkloadRecord, report = true): Promise<void> {
    if (r.state !== "deprovisioning") await this.host.store.put({ ...r, state: "deprovisioning", updatedAt: Date.now() });
    const p = this.provisioner(r.workload);
    if (p) await p.deprovision(this.ctx(r.contractId, r.twinId, r.deployment, this.lastVersion, r.name));
    await this.host.store.delete(this.id);
    this.host.onReleased(this.id);
    this.host.log.info({ workload: this.id }, "workload removed");
    if (report) this.host.results.post(r.contractId, this.lastVersion, r.name, "deleted", this.removalReason);
  }
}

// What every provisioner is: one workload type's steps (provision, deprovision, pause, resume,
// check), each idempotent. The registry maps a type to its provisioner with the types kept
// together, so no caller casts: a new workload type is one file and one registry line.
import type { Logger } from "pino";
import type { Deployment, SealKeyPair, Workload, WorkloadOf, WorkloadType } from "../../core/index.js";

export interface WorkloadContext {
  nodeId: number; contractId: number; twinId: number;
  /** `${contractId}-${workloadName}`: unique on this node, safe as a file or namespace name. */
  workloadId: string;
  /** The approved deployment the workload belongs to (siblings: volumes to mount, networks). */
  deployment: Deployment;
  /** This node's data folder; a provisioner keeps its files under `${dataDir}/<its type>/`. */
  dataDir: string;
  /** The node's underlay address (where workloads' ports are reachable). */
  underlay: string;
  sealKeys: SealKeyPair;
  log: Logger;
  /** Report progress of a long step; posted as an `init` result (rate-limited by the engine). */
  progress(message: string): void;
  /** Aborted when the workload is being removed or the node stops. */
  signal: AbortSignal;
  /** The workload changed by itself (a container exited, crash-loops, recovered): check it soon
   *  instead of at the next periodic check. */
  changed?(): void;
  /** Waits until workload `name` of the same deployment is provisioned here (`ok`) and resolves
   *  with its result's data; rejects when `signal` aborts. For a workload that needs a sibling's
   *  address (a container logging into a 0-db of its deployment). */
  sibling?(name: string): Promise<Record<string, unknown>>;
}

/** A health check's answer. `ok: false` makes the engine provision the workload again; a `report`
 *  is a new word on a workload that still runs (restarts, a crash loop), posted as its result. */
export interface Health {
  ok: boolean;
  message?: string;
  report?: { state: "ok" | "error"; message: string; data: Record<string, unknown> };
}

export interface Provisioner<T extends WorkloadType = WorkloadType> {
  readonly type: T;
  /** Create, or adopt if it already exists (idempotent); resolves with the result's data. */
  provision(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<Record<string, unknown>>;
  /** Remove everything the workload made (idempotent; succeeds if already gone). */
  deprovision(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<void>;
  pause(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<void>;
  resume(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<Record<string, unknown>>;
  /** Health check used after restarts and periodically: is it still there and working? */
  check(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<Health>;
  /** Optional: called once when the node starts, before any workload (e.g. start a shared server). */
  init?(dataDir: string, log: Logger): Promise<void>;
  /** Optional: called when the node stops. */
  shutdown?(): Promise<void>;
}

/** The node's provisioners by workload type; a type with no entry is refused as unsupported. */
export type Registry = { readonly [T in WorkloadType]?: Provisioner<T> };

/** An object-literal provisioner, its type parameter taken from its `type`. */
export function defineProvisioner<T extends WorkloadType>(p: Provisioner<T>): Provisioner<T> {
  return p;
}

/** One workload's provisioner with the workload bound in: what the engine calls. */
export interface BoundProvisioner {
  readonly type: WorkloadType;
  provision(ctx: WorkloadContext): Promise<Record<string, unknown>>;
  deprovision(ctx: WorkloadContext): Promise<void>;
  pause(ctx: WorkloadContext): Promise<void>;
  resume(ctx: WorkloadContext): Promise<Record<string, unknown>>;
  check(ctx: WorkloadContext): Promise<Health>;
}

type WorkloadByType = { [T in WorkloadType]: WorkloadOf<T> };

// Indexed by the same T, the registry's entry and the workload stay paired (a correlated union),
// which is what lets the engine call a provisioner with no cast.
function bindAs<T extends WorkloadType>(registry: Registry, type: T, w: WorkloadByType[T]): BoundProvisioner | undefined {
  const p: Provisioner<T> | undefined = registry[type];
  if (!p) return undefined;
  return {
    type,
    provision: (ctx) => p.provision(ctx, w),
    deprovision: (ctx) => p.deprovision(ctx, w),
    pause: (ctx) => p.pause(ctx, w),
    resume: (ctx) => p.resume(ctx, w),
    check: (ctx) => p.check(ctx, w),
  };
}

/** The provisioner for `w` with `w` bound in, or undefined when this node does not support its type. */
export function provisionerFor(registry: Registry, w: Workload): BoundProvisioner | undefined {
  return bindAs(registry, w.type, w);
}

/** What the node does with every provisioner at once: start it and stop it. */
export type ProvisionerLifecycle = Pick<Provisioner, "type" | "init" | "shutdown">;

/** Every provisioner of a registry (for init and shutdown). */
export function provisionersOf(registry: Registry): ProvisionerLifecycle[] {
  return Object.values(registry).filter((p): p is NonNullable<typeof p> => p !== undefined);
}

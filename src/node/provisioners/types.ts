import type { Logger } from "pino";
import type { Deployment, SealKeyPair, WorkloadOf, WorkloadType } from "../../core/index.js";
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
  check(ctx: WorkloadContext, w: WorkloadOf<T>): Promise<{ ok: boolean; message?: string }>;
  /** Optional: called once when the node starts, before any workload (e.g. start a shared server). */
  init?(dataDir: string, log: Logger): Promise<void>;
  /** Optional: called when the node stops. */
  shutdown?(): Promise<void>;
}

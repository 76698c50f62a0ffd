// The deploy's vocabulary: the plan shown before signing, the progress events a caller follows, and
// the error of a deployment that failed on its node.
import { DeploymentFailedError, type Capacity } from "../core/index.js";
import type { Contract, NodeInfo } from "../ledger/client/index.js";
import type { DeploymentDiff } from "./diff.js";
import type { Runway } from "./money.js";
import type { CostEstimate } from "./planner.js";
import type { DeploymentView, WorkloadView } from "./views.js";

export interface Plan {
  name: string;
  node: NodeInfo;
  need: Capacity;
  cost: CostEstimate;
  /** The live contract of the same name (the deploy updates it), if any. */
  existing: Contract | null;
  /** Whether signing is needed at all (false: the file matches what is deployed). */
  changed: boolean;
  /** On an update, what changes per workload. */
  diff: DeploymentDiff | null;
  /** The balance against the price: how long it lasts, whether it pays one billing period. */
  runway: Runway;
  /** What was checked before signing, one line each (the flists, the node's last report). */
  checks: string[];
  /** Other twins must sign before the node provisions it (it is billed from creation all the same). */
  waitsForSignatures: boolean;
}

export type DeployProgress =
  | { stage: "planned"; plan: Plan }
  | { stage: "unchanged"; contractId: number }
  | { stage: "submitted"; contractId: number; version: number; update: boolean }
  | { stage: "signatures"; contractId: number; version: number; weight: number; weightRequired: number; waitingFor: number[] }
  | { stage: "approved"; contractId: number; version: number }
  /** A file spanning nodes: containers logging into a 0-db on another node are added once it is up. */
  | { stage: "held"; contractId: number; containers: string[]; zdbs: string[] }
  | { stage: "workload"; contractId: number; name: string; state: WorkloadView["state"]; message: string };

/** A workload ended in `error` (or the contract was deleted under the wait): permanent until the
 *  deployment changes, so `deployment_failed` (exit 10), never retried as if transient. */
export class DeploymentFailed extends DeploymentFailedError {
  constructor(message: string, readonly view: DeploymentView, hint = "read the workloads' messages (`kosmos show NAME`), fix the file and deploy again") {
    super(message, hint);
  }
}

// Picks the node a deployment goes to and estimates what it costs, before anything is signed.
// Pure: the caller fetches candidate nodes (GET /nodes with the capacity filter) and passes them in.
import {
  CapacityError, NotFoundError, capacityShortfall, deploymentCapacity, reservationCost, formatBytes,
  type Capacity, type Deployment,
} from "../core/index.js";

/** The fields of the ledger's NodeInfo the planner reads. */
export interface PlannerNode {
  id: number;
  farmId: number;
  status: "up" | "down";
  free: Capacity;
  underlay: string;
  sealKey: string;
}

export interface Placement { node?: number; farm?: number }

export interface CostEstimate { perHour: number; perMonth: number }

export const HOURS_PER_MONTH = 30 * 24;

export function estimateCost(need: Capacity): CostEstimate {
  const perHour = reservationCost(need, { publicIps: 0, names: 0 }, 3600);
  return { perHour, perMonth: reservationCost(need, { publicIps: 0, names: 0 }, 3600 * HOURS_PER_MONTH) };
}

export function needOf(workloads: Deployment["workloads"]): Capacity {
  return deploymentCapacity({ workloads } as Deployment);
}

export function describeNeed(c: Capacity): string {
  const parts: string[] = [];
  if (c.cru) parts.push(`${c.cru} CPU`);
  if (c.mru) parts.push(`${formatBytes(c.mru)} memory`);
  if (c.sru) parts.push(`${formatBytes(c.sru)} SSD`);
  if (c.hru) parts.push(`${formatBytes(c.hru)} HDD`);
  return parts.join(", ") || "no capacity";
}

/** Choose among `candidates` (already filtered or not): up, in the farm, with room. The node with
 *  the most free disk wins so deployments spread; the lowest id breaks ties, for repeatable plans. */
export function chooseNode<N extends PlannerNode>(candidates: N[], need: Capacity, placement: Placement = {}): N {
  if (placement.node !== undefined) {
    const n = candidates.find((c) => c.id === placement.node);
    if (!n) throw new NotFoundError(`node ${placement.node} is not on the ledger`, "list the nodes with `kosmos nodes`");
    if (placement.farm !== undefined && n.farmId !== placement.farm) throw new CapacityError(`node ${n.id} is in farm ${n.farmId}, not farm ${placement.farm}`, "drop `farm` or `node` from the file");
    if (n.status !== "up") throw new CapacityError(`node ${n.id} is down`, "choose another node, or leave `node` out and let the planner pick");
    const short = capacityShortfall(need, n.free);
    if (short) throw new CapacityError(`node ${n.id} cannot take this deployment: it ${short}`, "choose another node, or leave `node` out");
    return n;
  }
  const fits = candidates
    .filter((c) => c.status === "up" && (placement.farm === undefined || c.farmId === placement.farm) && capacityShortfall(need, c.free) === null)
    .sort((a, b) => (b.free.hru + b.free.sru) - (a.free.hru + a.free.sru) || b.free.cru - a.free.cru || a.id - b.id);
  if (!fits.length) {
    const where = placement.farm !== undefined ? ` in farm ${placement.farm}` : "";
    throw new CapacityError(`no node${where} is up with ${describeNeed(need)} free`, "see `kosmos nodes` for what is free, or make the deployment smaller");
  }
  return fits[0];
}

// The ledger's state: plain data, folded from the blocks by apply.ts. Nothing here reads a clock or
// a disk; snapshots are this state as JSON.
import { ZERO_CAPACITY, addCapacity, subCapacity, type Capacity, type Deployment, type DeploymentSignature, type WorkloadResult } from "../core/index.js";
import type { Contract, ContractState, Genesis, NodeInfo, PublicConfig } from "./types.js";

export interface TwinRec { id: number; publicKey: string; balance: number; createdAt: number }
export interface FarmRec { id: number; name: string; twinId: number }
export interface NodeRec {
  id: number; farmId: number; twinId: number; capacity: Capacity; used: Capacity; reserved: Capacity;
  sealKey: string; underlay: string; publicConfig: PublicConfig | null;
  lastReportAt: number | null; uptime: number; registeredAt: number;
}
export interface ContractRec {
  id: number; twinId: number; nodeId: number; state: ContractState; deletedReason?: "cancelled" | "out of funds";
  deployment: Deployment; signatures: DeploymentSignature[]; approved: boolean;
  approvedVersion: number | null; approvedDeployment: Deployment | null; approvedSignatures: DeploymentSignature[];
  results: Record<string, WorkloadResult & { version: number }>;
  /** What the contract reserves on its node (its latest deployment), and pays for. */
  capacity: Capacity; names: string[];
  costPerPeriod: number; createdAt: number; updatedAt: number; graceSince?: number;
  /** Ledger time up to which the contract has paid; the next charge is due one period later. */
  billedUntil: number;
}
export interface NameRec { name: string; twinId: number; contractId: number | null }

export interface State {
  genesis: Genesis;
  height: number;
  hash: string;
  time: number;
  supply: number;
  /** Last used nonce of every key that ever signed, twin or not. */
  nonces: Map<string, number>;
  twinByKey: Map<string, number>;
  twins: Map<number, TwinRec>;
  farms: Map<number, FarmRec>;
  farmByName: Map<string, number>;
  nodes: Map<number, NodeRec>;
  nodeByTwin: Map<number, number>;
  contracts: Map<number, ContractRec>;
  /** Contracts that still bill (active or grace); the only ones billing looks at. */
  billable: Set<number>;
  names: Map<string, NameRec>;
  next: { twin: number; farm: number; node: number; contract: number };
  /** Earliest ledger time at which billing has anything to do (derived; Infinity when nothing). */
  billingDue: number;
}

export const GENESIS_TWIN = 1;

export function emptyState(genesis: Genesis, time: number): State {
  const s: State = {
    genesis, height: -1, hash: "0".repeat(64), time, supply: genesis.supply,
    nonces: new Map(), twinByKey: new Map(), twins: new Map(), farms: new Map(), farmByName: new Map(),
    nodes: new Map(), nodeByTwin: new Map(), contracts: new Map(), billable: new Set(), names: new Map(),
    next: { twin: 2, farm: 1, node: 1, contract: 1 }, billingDue: Infinity,
  };
  s.twins.set(GENESIS_TWIN, { id: GENESIS_TWIN, publicKey: genesis.publicKey, balance: genesis.supply, createdAt: time });
  s.twinByKey.set(genesis.publicKey, GENESIS_TWIN);
  return s;
}

/** When a billable contract next needs billing's attention. */
export function contractDue(c: ContractRec, g: Genesis): number {
  const next = c.billedUntil + g.billingPeriod;
  return c.state === "grace" && c.graceSince !== undefined ? Math.min(next, c.graceSince + g.gracePeriod) : next;
}

export function recomputeBillingDue(s: State): void {
  let due = Infinity;
  for (const id of s.billable) due = Math.min(due, contractDue(s.contracts.get(id)!, s.genesis));
  s.billingDue = due;
}

// ---- views (what the API returns) ----

export function contractView(c: ContractRec): Contract {
  const { capacity: _c, names: _n, ...rest } = c;
  return structuredClone(rest);
}

/** A node is up once it has reported, and down after two report intervals of ledger time without a
 *  report (what the issue promises and what Kosmos's planner checks); registering is not reporting. */
export function nodeView(n: NodeRec, ledgerTime: number, reportInterval: number): NodeInfo {
  return {
    id: n.id, farmId: n.farmId, twinId: n.twinId, capacity: { ...n.capacity }, used: { ...n.used }, reserved: { ...n.reserved },
    free: subCapacity(n.capacity, n.reserved), sealKey: n.sealKey, underlay: n.underlay,
    publicConfig: n.publicConfig ? { ...n.publicConfig } : null,
    status: n.lastReportAt !== null && n.lastReportAt !== undefined && ledgerTime - n.lastReportAt <= 2 * reportInterval ? "up" : "down",
    lastReportAt: n.lastReportAt, uptime: n.uptime, registeredAt: n.registeredAt,
  };
}

export function reserve(n: NodeRec, c: Capacity): void { n.reserved = addCapacity(n.reserved, c); }
export function unreserve(n: NodeRec, c: Capacity): void { n.reserved = subCapacity(n.reserved, c); }

// ---- snapshots ----

export interface StateJson {
  genesis: Genesis; height: number; hash: string; time: number; supply: number;
  nonces: [string, number][]; twins: TwinRec[]; farms: FarmRec[]; nodes: NodeRec[]; contracts: ContractRec[]; names: NameRec[];
  next: State["next"];
}

export function stateToJson(s: State): StateJson {
  return {
    genesis: s.genesis, height: s.height, hash: s.hash, time: s.time, supply: s.supply,
    nonces: [...s.nonces], twins: [...s.twins.values()], farms: [...s.farms.values()], nodes: [...s.nodes.values()],
    contracts: [...s.contracts.values()], names: [...s.names.values()], next: s.next,
  };
}

export function stateFromJson(j: StateJson): State {
  const s = emptyState(j.genesis, j.time);
  s.height = j.height; s.hash = j.hash; s.supply = j.supply; s.next = { ...j.next };
  s.nonces = new Map(j.nonces);
  s.twins = new Map(j.twins.map((t) => [t.id, t]));
  s.twinByKey = new Map(j.twins.map((t) => [t.publicKey, t.id]));
  s.farms = new Map(j.farms.map((f) => [f.id, f]));
  s.farmByName = new Map(j.farms.map((f) => [f.name, f.id]));
  s.nodes = new Map(j.nodes.map((n) => [n.id, n]));
  s.nodeByTwin = new Map(j.nodes.map((n) => [n.twinId, n.id]));
  s.contracts = new Map(j.contracts.map((c) => [c.id, c]));
  s.billable = new Set(j.contracts.filter((c) => c.state !== "deleted").map((c) => c.id));
  s.names = new Map(j.names.map((n) => [n.name, n]));
  recomputeBillingDue(s);
  return s;
}

export { ZERO_CAPACITY };

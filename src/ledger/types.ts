// The ledger's public shapes: what its HTTP API returns and its event stream sends. Shared by the
// server and the typed client, so the two can never disagree.
import type { Capacity, Deployment, DeploymentSignature, WorkloadResult } from "../core/index.js";

export interface Receipt {
  height: number;
  /** The transaction's index in its block. */
  index: number;
  /** txHash of the transaction. */
  hash: string;
  /** The events the transaction caused (superset of the contract: e.g. the new contract's id). */
  events?: LedgerEvent[];
}

export interface LedgerStatus {
  height: number;
  hash: string;
  /** Ledger time: the last block's time, in seconds. */
  time: number;
  twins: number;
  nodes: number;
  contracts: number;
  pending: number;
}

export interface Account { publicKey: string; twinId: number | null; nonce: number; balance: number }
export interface TwinInfo { id: number; publicKey: string; balance: number; nonce: number; createdAt: number }
export interface FarmInfo { id: number; name: string; twinId: number }

export interface PublicConfig { domain?: string; ipv4?: string }

export interface NodeInfo {
  id: number;
  farmId: number;
  twinId: number;
  capacity: Capacity;
  /** As last reported by the node. */
  used: Capacity;
  /** Sum of the capacity of the node's active and grace contracts. */
  reserved: Capacity;
  /** capacity - reserved. */
  free: Capacity;
  sealKey: string;
  underlay: string;
  publicConfig: PublicConfig | null;
  status: "up" | "down";
  lastReportAt: number | null;
  uptime: number;
  registeredAt: number;
}

export type ContractState = "active" | "grace" | "deleted";

export interface Contract {
  id: number;
  twinId: number;
  nodeId: number;
  state: ContractState;
  deletedReason?: "cancelled" | "out of funds";
  deployment: Deployment;
  signatures: DeploymentSignature[];
  approved: boolean;
  approvedVersion: number | null;
  approvedDeployment: Deployment | null;
  approvedSignatures: DeploymentSignature[];
  results: { [workloadName: string]: WorkloadResult & { version: number } };
  costPerPeriod: number;
  createdAt: number;
  updatedAt: number;
  graceSince?: number;
  /** Ledger time up to which the contract has paid (superset of the contract). */
  billedUntil: number;
}

export interface NameInfo { name: string; twinId: number; contractId: number | null }

export interface Genesis {
  publicKey: string;
  supply: number;
  billingPeriod: number;
  gracePeriod: number;
  reportInterval: number;
}

export interface Block {
  height: number;
  prevHash: string;
  time: number;
  /** Signed transactions exactly as their signers sent them. */
  txs: unknown[];
  hash: string;
  /** Only in block 0: the parameters the chain was born with. */
  genesis?: Genesis;
}

export interface NodeFilter { farmId?: number; status?: "up" | "down"; cru?: number; mru?: number; sru?: number; hru?: number }
export interface ContractFilter {
  twinId?: number; nodeId?: number; state?: ContractState;
  /** Contracts whose latest version requests this twin's signature. */
  signer?: number;
  /** With `signer`: only those that twin has not signed yet (and that are not deleted). */
  pending?: boolean;
}

interface At { height: number; index: number; time: number }
export type EventBody =
  | { type: "twin.created"; twinId: number }
  | { type: "transfer"; from: number; to: number; amount: number }
  | { type: "mint"; to: number; amount: number }
  | { type: "farm.created"; farmId: number; twinId: number }
  | { type: "node.registered"; nodeId: number; twinId: number; farmId: number }
  | { type: "node.reported"; nodeId: number; twinId: number }
  | { type: "contract.created"; contractId: number; twinId: number; nodeId: number; version: number; signers: number[] }
  | { type: "contract.approved"; contractId: number; twinId: number; nodeId: number; version: number }
  | { type: "contract.updated"; contractId: number; twinId: number; nodeId: number; version: number; signers: number[] }
  | { type: "contract.signed"; contractId: number; twinId: number; nodeId: number; version: number }
  | { type: "contract.billed"; contractId: number; twinId: number; nodeId: number; amount: number }
  | { type: "contract.grace"; contractId: number; twinId: number; nodeId: number }
  | { type: "contract.resumed"; contractId: number; twinId: number; nodeId: number }
  | { type: "contract.deleted"; contractId: number; twinId: number; nodeId: number; reason: "cancelled" | "out of funds" }
  | { type: "contract.result"; contractId: number; twinId: number; nodeId: number; version: number; names: string[] }
  | { type: "name.reserved"; name: string; twinId: number }
  | { type: "name.released"; name: string; twinId: number };

/** One change, at its unique position (height, index). `tx` is the index of the transaction that
 *  caused it, absent for billing (superset of the contract). */
export type ChainEvent = EventBody & At & { tx?: number };
/** Sent after every block, unfiltered: the subscriber has seen everything up to `height`. */
export interface BlockMarker { type: "block"; height: number; time: number; hash: string }
export type LedgerEvent = ChainEvent | BlockMarker;
export type EventType = EventBody["type"];

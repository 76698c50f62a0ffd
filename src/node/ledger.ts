// The slice of the ledger client the node uses. The real LedgerClient satisfies it structurally;
// keeping the node's needs in one place shows how little of the ledger a node touches.
import type { Capacity, Deployment, DeploymentSignature, TxType, Payload } from "../core/index.js";

export interface ContractView {
  id: number;
  twinId: number;
  nodeId: number;
  state: "active" | "grace" | "deleted";
  deletedReason?: string;
  approvedVersion: number | null;
  approvedDeployment: Deployment | null;
  approvedSignatures: DeploymentSignature[];
}

export interface EventView {
  type: string;
  height: number;
  index?: number;
  time?: number;
  contractId?: number;
  nodeId?: number;
}

export interface NodeLedger {
  status(): Promise<{ height: number; time: number }>;
  twin(id: number): Promise<{ id: number; publicKey: string }>;
  nodes(filter?: { farmId?: number }): Promise<Array<{ id: number; twinId: number; farmId: number; capacity: Capacity }>>;
  contract(id: number): Promise<ContractView>;
  contracts(filter?: { nodeId?: number; state?: string }): Promise<ContractView[]>;
  subscribe(opts: { from?: number; nodeId?: number }, onEvent: (e: EventView) => void | Promise<void>): { close(): void };
}

export interface NodeSigner {
  readonly publicKey: string;
  send<T extends TxType>(type: T, payload: Payload<T>): Promise<unknown>;
  ensureTwin(): Promise<number>;
}

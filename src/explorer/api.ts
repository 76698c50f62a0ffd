// The explorer's own HTTP API: what its server answers under /api and sends on /api/live, shared
// (as types only) by the server and the browser code, so the two cannot disagree. Every list is
// paged: no answer grows with the size of the grid.

export interface Cap { cru: number; mru: number; sru: number; hru: number }

export interface Overview {
  height: number;
  hash: string;
  /** Ledger time of the last block (seconds). */
  time: number;
  nodes: { up: number; total: number };
  farms: number;
  twins: number;
  /** Whole grid: total capacity, and the part reserved by contracts. */
  capacity: { total: Cap; reserved: Cap };
  contracts: { active: number; grace: number; total: number };
  /** Tokens billed per hour by the active contracts. */
  tokensPerHour: number;
  /** Transactions per second over the last blocks seen. */
  txPerSecond: number;
  /** The newest contracts, newest first (at most 10). */
  latestContracts: ContractRow[];
}

export interface NodeRow {
  id: number; farmId: number; twinId: number; status: "up" | "down"; gateway: boolean;
  capacity: Cap; reserved: Cap; free: Cap; used: Cap;
  lastReportAt: number | null; uptime: number; workloads: number; contracts: number;
}

export interface ContractRow {
  id: number; twinId: number; nodeId: number; state: "active" | "grace" | "deleted"; version: number;
  approved: boolean; costPerPeriod: number; createdAt: number; workloads: number;
}

export interface Page<T> { total: number; offset: number; limit: number; items: T[] }

export const NODE_SORT_KEYS = ["id", "farmId", "status", "freeCru", "freeMru", "freeSru", "freeHru", "lastReportAt", "contracts"] as const;
export type NodeSortKey = (typeof NODE_SORT_KEYS)[number];

export interface NodeQuery {
  farmId?: number; status?: "up" | "down"; gateway?: boolean;
  /** Minimum free capacity per unit. */
  minCru?: number; minMru?: number; minSru?: number; minHru?: number;
  sort: NodeSortKey; desc: boolean; offset: number; limit: number;
}

export interface NodeDetail {
  node: NodeRow & { sealKey: string; underlay: string; publicConfig: { domain?: string; ipv4?: string } | null; registeredAt: number };
  /** Report times (ledger seconds) this explorer saw, oldest first (a bounded ring). */
  reports: { time: number }[];
  reportInterval: number;
  contracts: ContractRow[];
}

export interface SignatureView { twinId: number; weight: number; required: boolean; present: boolean }
export interface ContractDetail {
  id: number; twinId: number; nodeId: number; state: string; deletedReason?: string;
  version: number; approved: boolean; approvedVersion: number | null;
  costPerPeriod: number; tokensPerHour: number; createdAt: number; updatedAt: number; billedUntil: number;
  weightRequired: number; signatures: SignatureView[];
  workloads: { name: string; type: string; version: number; description: string; data: unknown;
    result: { state: string; message: string; version: number; created?: number } | null }[];
  /** Versions this explorer saw (the ledger keeps only the latest and the approved one). */
  versions: { version: number; height: number; time: number; event: string }[];
  metadata: string; description: string;
}

export interface BlockRow { height: number; hash: string; prevHash: string; time: number; txs: number }
export interface TxView { index: number; hash: string | null; type: string; signer: string; nonce: number; payload: unknown }
export interface BlockDetail extends BlockRow { transactions: TxView[]; genesis?: unknown }

export interface TwinDetail {
  id: number; publicKey: string; balance: number; nonce: number; createdAt: number;
  contracts: Page<ContractRow>; farms: { id: number; name: string }[];
  /** Billing this explorer saw (most recent first, bounded). */
  billing: { contractId: number; amount: number; height: number; time: number }[];
}

export interface FarmRow { id: number; name: string; twinId: number; nodes: number; up: number; tokensPerHour: number }
export interface FarmDetail extends FarmRow { nodeList: NodeRow[] }

export interface SearchHit { kind: "twin" | "node" | "farm" | "contract" | "block" | "account"; id: string; label: string; href: string }

/** One message on /api/live (server-sent events; the event id is the block height, so a browser
 *  that reconnects sends Last-Event-ID and learns everything that changed since). */
export interface LiveUpdate {
  height: number;
  overview: Overview;
  /** What changed since the browser's last height; `all` when the explorer no longer knows (too old). */
  changed: { all: boolean; contracts: number[]; nodes: number[]; farms: boolean; twins: number[] };
}

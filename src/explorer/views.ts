// Pure functions from the ledger's shapes to the explorer's: rows, the overview, the nodes table's
// filter/sort/page, what a search string can be, and secrets shown only as sealed. No I/O here, so
// each is tested on plain values.
import type { Contract, NodeInfo, Block } from "../ledger/client/index.js";
import type { BlockRow, Cap, ContractRow, NodeQuery, NodeRow, Page, TxView } from "./api.js";
import { NODE_SORT_KEYS } from "./api.js";
import { ValidationError } from "../core/index.js";

export const MAX_PAGE = 100;
const ZERO: Cap = { cru: 0, mru: 0, sru: 0, hru: 0 };

/** A node is down once it missed three reports (the ledger's own rule, at the explorer's last block time). */
export function nodeStatus(n: Pick<NodeInfo, "lastReportAt" | "registeredAt">, time: number, reportInterval: number): "up" | "down" {
  return time - (n.lastReportAt ?? n.registeredAt) > 3 * reportInterval ? "down" : "up";
}

export function contractRow(c: Contract): ContractRow {
  return {
    id: c.id, twinId: c.twinId, nodeId: c.nodeId, state: c.state, version: c.deployment.version, approved: c.approved,
    costPerPeriod: c.costPerPeriod, createdAt: c.createdAt, workloads: c.deployment.workloads.length,
  };
}

export function nodeRow(n: NodeInfo, counts: { contracts: number; workloads: number }): NodeRow {
  return {
    id: n.id, farmId: n.farmId, twinId: n.twinId, status: n.status, gateway: !!n.publicConfig?.domain,
    capacity: n.capacity, reserved: n.reserved, free: n.free, used: n.used, lastReportAt: n.lastReportAt, uptime: n.uptime,
    workloads: counts.workloads, contracts: counts.contracts,
  };
}

export function addCap(a: Cap, b: Cap): Cap { return { cru: a.cru + b.cru, mru: a.mru + b.mru, sru: a.sru + b.sru, hru: a.hru + b.hru }; }
export function sumCap(caps: Iterable<Cap>): Cap { let s = ZERO; for (const c of caps) s = addCap(s, c); return s; }

/** Tokens per hour for a cost per billing period. */
export function perHour(costPerPeriod: number, billingPeriod: number): number {
  return billingPeriod > 0 ? (costPerPeriod * 3600) / billingPeriod : 0;
}

// ---- the nodes table ----

function intParam(q: URLSearchParams, k: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = q.get(k);
  if (v === null || v === "") return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ValidationError(`${k} must be an integer from 0 to ${max}, got "${v}"`);
  return n;
}

/** A page request from query parameters: offset, limit (≤ MAX_PAGE). */
export function parsePage(q: URLSearchParams, defaultLimit = 25): { offset: number; limit: number } {
  return { offset: intParam(q, "offset") ?? 0, limit: intParam(q, "limit", MAX_PAGE) ?? defaultLimit };
}

export function parseNodeQuery(q: URLSearchParams): NodeQuery {
  const status = q.get("status") || undefined;
  if (status !== undefined && status !== "up" && status !== "down") throw new ValidationError(`status is "up" or "down", not "${status}"`);
  const gw = q.get("gateway") || undefined;
  if (gw !== undefined && gw !== "yes" && gw !== "no") throw new ValidationError(`gateway is "yes" or "no", not "${gw}"`);
  const sort = (q.get("sort") || "id") as NodeQuery["sort"];
  if (!NODE_SORT_KEYS.includes(sort)) throw new ValidationError(`sort is one of ${NODE_SORT_KEYS.join(", ")}, not "${sort}"`);
  return {
    farmId: intParam(q, "farmId"), status, gateway: gw === undefined ? undefined : gw === "yes",
    minCru: intParam(q, "minCru"), minMru: intParam(q, "minMru"), minSru: intParam(q, "minSru"), minHru: intParam(q, "minHru"),
    sort, desc: q.get("desc") === "1" || q.get("desc") === "true", ...parsePage(q),
  };
}

const sortValue: Record<NodeQuery["sort"], (n: NodeRow) => number> = {
  id: (n) => n.id, farmId: (n) => n.farmId, status: (n) => (n.status === "up" ? 1 : 0),
  freeCru: (n) => n.free.cru, freeMru: (n) => n.free.mru, freeSru: (n) => n.free.sru, freeHru: (n) => n.free.hru,
  lastReportAt: (n) => n.lastReportAt ?? -1, contracts: (n) => n.contracts,
};

/** Filter, sort (ties by id) and cut one page: O(n log n) in the nodes, done here so the browser gets one page. */
export function queryNodes(rows: Iterable<NodeRow>, q: NodeQuery): Page<NodeRow> {
  const out: NodeRow[] = [];
  for (const n of rows) {
    if (q.farmId !== undefined && n.farmId !== q.farmId) continue;
    if (q.status !== undefined && n.status !== q.status) continue;
    if (q.gateway !== undefined && n.gateway !== q.gateway) continue;
    if ((q.minCru ?? 0) > n.free.cru || (q.minMru ?? 0) > n.free.mru || (q.minSru ?? 0) > n.free.sru || (q.minHru ?? 0) > n.free.hru) continue;
    out.push(n);
  }
  const key = sortValue[q.sort], sign = q.desc ? -1 : 1;
  out.sort((a, b) => (key(a) - key(b)) * sign || a.id - b.id);
  return { total: out.length, offset: q.offset, limit: q.limit, items: out.slice(q.offset, q.offset + q.limit) };
}

/** A page of `items` taken newest (highest id) first without sorting them all. */
export function pageNewestFirst<T extends { id: number }>(items: T[], offset: number, limit: number): Page<T> {
  // The mirror's maps keep insertion order, which is id order but for a late re-insert: check, O(n).
  let ordered = true;
  for (let i = 1; i < items.length && ordered; i++) ordered = items[i - 1].id < items[i].id;
  const sorted = ordered ? items : [...items].sort((a, b) => a.id - b.id);
  const end = sorted.length - offset;
  const page = sorted.slice(Math.max(0, end - limit), Math.max(0, end)).reverse();
  return { total: items.length, offset, limit, items: page };
}

// ---- secrets ----

/** A copy of `v` where every sealed secret ({sealed: base64}) shows only as sealed, with its size. */
export function redactSealed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactSealed);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "sealed" && typeof o.sealed === "string") {
      return { sealed: `(sealed, ${Math.floor((o.sealed.length * 3) / 4)} bytes)` };
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = redactSealed(o[k]);
    return out;
  }
  return v;
}

// ---- blocks ----

export function blockRow(b: Block): BlockRow {
  return { height: b.height, hash: b.hash, prevHash: b.prevHash, time: b.time, txs: b.txs.length };
}

/** A block's transactions as the explorer shows them: type, signer, nonce, payload with secrets sealed. */
export function txViews(b: Block, hashOf: (tx: unknown) => string | null): TxView[] {
  return b.txs.map((raw, index) => {
    const t = (raw ?? {}) as { type?: unknown; signer?: unknown; nonce?: unknown; payload?: unknown };
    return {
      index, hash: hashOf(raw), type: String(t.type ?? "?"), signer: String(t.signer ?? ""),
      nonce: typeof t.nonce === "number" ? t.nonce : 0, payload: redactSealed(t.payload ?? null),
    };
  });
}

// ---- search ----

export type SearchTerm = { kind: "number"; n: number } | { kind: "hex"; hex: string } | { kind: "none" };

/** What a search string can be: a number (twin, node, farm, contract id or block height) or a 64-hex hash/key. */
export function parseSearch(raw: string): SearchTerm {
  const s = raw.trim().replace(/^#/, "").toLowerCase();
  if (/^\d{1,15}$/.test(s)) return { kind: "number", n: Number(s) };
  if (/^[0-9a-f]{64}$/.test(s)) return { kind: "hex", hex: s };
  return { kind: "none" };
}

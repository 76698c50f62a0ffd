// The explorer's /api: each route answers from the mirror (no ledger request) or, for what the
// mirror does not keep (a contract's full deployment, a twin's balance, blocks), from the ledger
// through a small cache. Every list is one page.
import type { Block, Contract } from "../ledger/client/index.js";
import { NotFoundError, ValidationError, txHash } from "../core/index.js";
import type { BlockDetail, BlockRow, ContractDetail, FarmDetail, NodeDetail, Page, SearchHit, TwinDetail } from "./api.js";
import { Lru } from "./cache.js";
import type { Mirror } from "./mirror.js";
import { MAX_PAGE, blockRow, pageNewestFirst, parseNodeQuery, parsePage, parseSearch, perHour, queryNodes, redactSealed, txViews } from "./views.js";

export type Route = (parts: string[], q: URLSearchParams) => Promise<unknown> | unknown;

export function apiRoutes(m: Mirror): Record<string, Route> {
  const blocks = new Lru<number, Block>(2000);
  const hashes = m.hashes;
  const contracts = new Lru<number, Contract>(1000, 1000);
  const twins = new Lru<number, Awaited<ReturnType<typeof m.client.twin>>>(1000, 1000);

  const id = (v: string | undefined, what: string): number => {
    const n = Number(v);
    if (!v || !/^\d{1,15}$/.test(v) || !Number.isSafeInteger(n)) throw new ValidationError(`${what} must be a non-negative integer, got "${v ?? ""}"`);
    return n;
  };
  const block = (h: number) => blocks.through(h, async () => {
    const b = await m.client.block(h);
    hashes.set(b.hash, b.height);
    return b;
  });
  const hashOf = (tx: unknown) => { try { return txHash(tx as object); } catch { return null; } };

  return {
    overview: () => m.overview(),

    nodes: (parts, q) => {
      if (parts.length === 1) return queryNodes(m.nodeRows(), parseNodeQuery(q));
      const n = m.nodes.get(id(parts[1], "node id"));
      if (!n) throw new NotFoundError(`node ${parts[1]} does not exist`);
      const detail: NodeDetail = {
        node: { ...m.nodeRow(n), sealKey: n.sealKey, underlay: n.underlay, publicConfig: n.publicConfig, registeredAt: n.registeredAt },
        reports: (m.reports.get(n.id) ?? []).map((time) => ({ time })), reportInterval: m.reportInterval,
        contracts: pageNewestFirst(m.contractsOfNode(n.id), 0, MAX_PAGE).items,
      };
      return detail;
    },

    farms: (parts, q) => {
      if (parts.length === 1) {
        const { offset, limit } = parsePage(q);
        return pageNewestFirst([...m.farms.values()].map((f) => m.farmRow(f)), offset, limit);
      }
      const f = m.farms.get(id(parts[1], "farm id"));
      if (!f) throw new NotFoundError(`farm ${parts[1]} does not exist`);
      const nodes = queryNodes(m.nodeRows(), { farmId: f.id, sort: "id", desc: false, offset: 0, limit: MAX_PAGE });
      const detail: FarmDetail = { ...m.farmRow(f), nodeList: nodes.items };
      return detail;
    },

    contracts: async (parts, q) => {
      if (parts.length === 1) {
        const { offset, limit } = parsePage(q);
        const state = q.get("state") || undefined;
        const rows = [...m.contracts.values()].filter((c) => state === undefined || c.state === state);
        return pageNewestFirst(rows, offset, limit);
      }
      const cid = id(parts[1], "contract id");
      const c = await contracts.through(cid, () => m.client.contract(cid));
      return contractDetail(c, m);
    },

    twins: async (parts, q) => {
      const tid = id(parts[1], "twin id");
      const t = await twins.through(tid, () => m.client.twin(tid));
      const { offset, limit } = parsePage(q);
      const detail: TwinDetail = {
        ...t, contracts: pageNewestFirst(m.contractsOfTwin(tid), offset, limit),
        farms: [...m.farms.values()].filter((f) => f.twinId === tid).slice(0, MAX_PAGE).map((f) => ({ id: f.id, name: f.name })),
        billing: m.billing.get(tid) ?? [],
      };
      return detail;
    },

    blocks: async (parts, q) => {
      if (parts.length === 1) {
        const { limit } = parsePage(q, 20);
        const before = q.get("before") ? id(q.get("before")!, "before") : m.height + 1;
        const top = Math.min(before - 1, m.height);
        const rows: BlockRow[] = [];
        if (top >= 0 && blocks.get(top) === undefined) {
          // One ranged read for a page not seen yet; the ledger may answer fewer (it pages by bytes).
          const from = Math.max(0, top - limit + 1);
          for (const b of await m.client.blocks(from, top - from + 1)) { blocks.set(b.height, b); hashes.set(b.hash, b.height); }
        }
        for (let h = top; h >= 0 && rows.length < limit; h--) rows.push(blockRow(await block(h)));
        const page: Page<BlockRow> = { total: m.height + 1, offset: m.height - top, limit, items: rows };
        return page;
      }
      const key = parts[1];
      let height: number;
      if (/^[0-9a-f]{64}$/.test(key)) {
        const h = hashes.get(key);
        if (h === undefined) throw new NotFoundError(`no block with hash ${key} among those this explorer has seen`, "search by height");
        height = h;
      } else height = id(key, "height");
      if (height > m.height) throw new NotFoundError(`no block at height ${height} (the chain is at ${m.height})`);
      const b = await block(height);
      const detail: BlockDetail = { ...blockRow(b), transactions: txViews(b, hashOf), genesis: b.genesis };
      return detail;
    },

    search: async (_parts, q) => {
      if ((q.get("q") ?? "").length > 200) throw new ValidationError("a search is at most 200 characters", "an id, a height, a hash or a public key");
      const term = parseSearch(q.get("q") ?? "");
      const hits: SearchHit[] = [];
      if (term.kind === "number") {
        const n = term.n;
        if (m.contracts.has(n)) hits.push({ kind: "contract", id: String(n), label: `contract ${n}`, href: `#/contracts/${n}` });
        if (m.nodes.has(n)) hits.push({ kind: "node", id: String(n), label: `node ${n}`, href: `#/nodes/${n}` });
        if (m.farms.has(n)) hits.push({ kind: "farm", id: String(n), label: `farm ${n} (${m.farms.get(n)!.name})`, href: `#/farms/${n}` });
        if (n >= 1 && n <= m.twins) hits.push({ kind: "twin", id: String(n), label: `twin ${n}`, href: `#/twins/${n}` });
        if (n <= m.height) hits.push({ kind: "block", id: String(n), label: `block ${n}`, href: `#/blocks/${n}` });
      } else if (term.kind === "hex") {
        const h = hashes.get(term.hex);
        if (h !== undefined) hits.push({ kind: "block", id: String(h), label: `block ${h}`, href: `#/blocks/${h}` });
        const acc = await m.client.account(term.hex);
        if (acc.twinId !== null) hits.push({ kind: "account", id: String(acc.twinId), label: `twin ${acc.twinId} (key ${term.hex.slice(0, 8)}…)`, href: `#/twins/${acc.twinId}` });
      }
      return { q: q.get("q") ?? "", hits };
    },
  };
}

function contractDetail(c: Contract, m: Mirror): ContractDetail {
  const d = c.deployment;
  const signed = new Set(c.signatures.map((s) => s.twinId));
  return {
    id: c.id, twinId: c.twinId, nodeId: c.nodeId, state: c.state, deletedReason: c.deletedReason,
    version: d.version, approved: c.approved, approvedVersion: c.approvedVersion,
    costPerPeriod: c.costPerPeriod, tokensPerHour: perHour(c.costPerPeriod, m.billingPeriod),
    createdAt: c.createdAt, updatedAt: c.updatedAt, billedUntil: c.billedUntil,
    weightRequired: d.signatureRequirement.weightRequired,
    signatures: d.signatureRequirement.requests.map((r) => ({ twinId: r.twinId, weight: r.weight, required: r.required, present: signed.has(r.twinId) })),
    workloads: d.workloads.map((w) => {
      const r = c.results[w.name];
      return {
        name: w.name, type: w.type, version: w.version, description: w.description, data: redactSealed(w.data),
        result: r ? { state: r.state, message: r.message, version: r.version, created: (r as { created?: number }).created } : null,
      };
    }),
    versions: m.versions.get(c.id) ?? [],
    metadata: d.metadata, description: d.description,
  };
}

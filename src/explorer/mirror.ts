// The explorer's copy of the ledger's state, kept current from ONE event subscription: however many
// browsers are open, the ledger sees one reader. Loaded once at start (the ledger's lists are not
// paged yet), then each block's events mark what changed and only those objects are fetched again,
// with a per-block budget so a burst of changes is spread over several blocks instead of a storm.
import { LedgerClient, type ChainEvent, type Contract, type FarmInfo, type LedgerEvent, type NodeInfo, type Subscription } from "../ledger/client/index.js";
import { NotFoundError, UnavailableError } from "../core/index.js";
import type { ContractRow, FarmRow, LiveUpdate, NodeRow, Overview } from "./api.js";
import { contractRow, nodeRow, nodeStatus, perHour, sumCap } from "./views.js";
import { Lru } from "./cache.js";

/** Objects fetched again per block at most; the rest wait for the next block. */
const FETCH_BUDGET = 200;
/** Above this many changed nodes, one GET /nodes is cheaper than one request each. */
const NODE_LIST_THRESHOLD = 50;
const FETCH_CONCURRENCY = 8;
const REPORTS_KEPT = 120;
const VERSIONS_KEPT = 20;
const BILLING_KEPT = 50;
const CHANGES_KEPT = 600;
const TX_WINDOW = 30;
/** Live updates go out at most this often: under load the ledger makes many blocks a second, and a
 *  page redrawn more often than this shows nothing more; the changes are merged meanwhile. */
export const LIVE_INTERVAL_MS = 250;
/** The overview and the node rows are recomputed at most this often while blocks keep coming. */
const VIEW_TTL_MS = 200;

export interface MirrorLog { warn(o: object, m?: string): void; info(o: object, m?: string): void }

interface Change { height: number; contracts: Set<number>; nodes: Set<number>; farms: boolean; twins: Set<number> }

export class Mirror {
  readonly client: LedgerClient;
  height = -1; hash = ""; time = 0; twins = 0;
  billingPeriod = 3600; reportInterval = 10;
  readonly farms = new Map<number, FarmInfo>();
  readonly nodes = new Map<number, NodeInfo>();
  readonly contracts = new Map<number, ContractRow>();
  /** Contract ids per node, and per twin (kept with the contracts). */
  private readonly byNode = new Map<number, Set<number>>();
  private readonly byTwin = new Map<number, Set<number>>();
  /** Block hash → height for the blocks seen (and read), so a hash can be searched. */
  readonly hashes = new Lru<string, number>(100_000);
  readonly reports = new Map<number, number[]>();
  readonly versions = new Map<number, { version: number; height: number; time: number; event: string }[]>();
  readonly billing = new Map<number, { contractId: number; amount: number; height: number; time: number }[]>();
  private readonly txRing: { height: number; time: number; txs: number }[] = [];
  private readonly changes: Change[] = [];
  private overviewCache: { at: number; height: number; v: Overview } | undefined;
  private rowsCache: { at: number; height: number; v: NodeRow[] } | undefined;
  private emitTimer: NodeJS.Timeout | undefined;
  private emitted = { height: -1, at: 0 };
  private sub: Subscription | undefined;
  private dirty = { contracts: new Set<number>(), nodes: new Set<number>(), farms: false };
  private blockTxs = new Set<number>();
  private current: Change = { height: 0, contracts: new Set(), nodes: new Set(), farms: false, twins: new Set() };
  private listeners = new Set<(u: LiveUpdate) => void>();
  private loaded: Promise<void> | undefined;
  private closed = false;

  constructor(url: string, private readonly log: MirrorLog) { this.client = new LedgerClient(url); }

  get ready(): boolean { return this.height >= 0; }

  /** Load the state and follow the event stream; retries (with back-off) while the ledger is unreachable. */
  start(): Promise<void> {
    this.loaded ??= (async () => {
      for (let delay = 200; !this.closed; delay = Math.min(delay * 2, 5000)) {
        try { await this.load(); return; } catch (e) {
          this.log.warn({ err: String(e), retryMs: delay }, "cannot load the ledger's state yet");
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    })();
    return this.loaded;
  }

  private async load(): Promise<void> {
    const st = await this.client.status();
    const genesis = (await this.client.block(0)).genesis;
    if (genesis) { this.billingPeriod = genesis.billingPeriod; this.reportInterval = genesis.reportInterval; }
    const [farms, nodes, contracts] = await Promise.all([this.client.farms(), this.client.nodes(), this.client.contracts()]);
    for (const f of farms) this.farms.set(f.id, f);
    for (const n of nodes) this.nodes.set(n.id, n);
    for (const c of contracts) this.putContract(c);
    this.height = st.height; this.hash = st.hash; this.time = st.time; this.twins = st.twins;
    this.hashes.set(st.hash, st.height);
    this.current.height = st.height + 1;
    // From the height the lists were read at: an event already reflected in them is fetched again, harmlessly.
    this.sub = this.client.subscribe({ from: st.height + 1 }, (e) => this.onEvent(e));
    this.log.info({ height: st.height, nodes: nodes.length, contracts: contracts.length }, "explorer mirror loaded");
  }

  close(): void { this.closed = true; this.sub?.close(); this.listeners.clear(); if (this.emitTimer) clearTimeout(this.emitTimer); }

  /** Called after each block is taken in; returns the unsubscribe function. */
  onUpdate(fn: (u: LiveUpdate) => void): () => void { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  private onEvent(e: LedgerEvent): Promise<void> | void {
    if (e.type === "block") return this.endBlock(e.height, e.time, e.hash);
    this.take(e);
  }

  private take(e: ChainEvent): void {
    if (e.tx !== undefined) this.blockTxs.add(e.tx);
    const c = this.current;
    switch (e.type) {
      case "twin.created": this.twins++; c.twins.add(e.twinId); break;
      case "transfer": c.twins.add(e.from); c.twins.add(e.to); break;
      case "mint": c.twins.add(e.to); break;
      case "farm.created": this.dirty.farms = true; break;
      case "node.registered": this.dirty.nodes.add(e.nodeId); break;
      case "node.reported": {
        // The report time is enough for status and the uptime chart; capacity is re-read with the next change.
        const n = this.nodes.get(e.nodeId);
        if (n) { n.lastReportAt = e.time; c.nodes.add(e.nodeId); } else this.dirty.nodes.add(e.nodeId);
        const ring = this.reports.get(e.nodeId) ?? [];
        ring.push(e.time);
        if (ring.length > REPORTS_KEPT) ring.shift();
        this.reports.set(e.nodeId, ring);
        break;
      }
      case "contract.billed": {
        const ring = this.billing.get(e.twinId) ?? [];
        ring.unshift({ contractId: e.contractId, amount: e.amount, height: e.height, time: e.time });
        if (ring.length > BILLING_KEPT) ring.pop();
        this.billing.set(e.twinId, ring);
        c.twins.add(e.twinId);
        break;
      }
      case "name.reserved": case "name.released": break;
      default: {
        // Every other contract event changes the contract and its node's reservation.
        this.dirty.contracts.add(e.contractId);
        if (e.type !== "contract.result") this.dirty.nodes.add(e.nodeId);
        if ("version" in e) {
          const ring = this.versions.get(e.contractId) ?? [];
          ring.push({ version: e.version, height: e.height, time: e.time, event: e.type });
          if (ring.length > VERSIONS_KEPT) ring.shift();
          this.versions.set(e.contractId, ring);
        }
      }
    }
  }

  private async endBlock(height: number, time: number, hash: string): Promise<void> {
    this.txRing.push({ height, time, txs: this.blockTxs.size });
    if (this.txRing.length > TX_WINDOW) this.txRing.shift();
    this.blockTxs = new Set();
    await this.refresh();
    // Status moves with time alone: a node that stopped reporting turns down at some block.
    for (const n of this.nodes.values()) {
      const s = nodeStatus(n, time, this.reportInterval);
      if (s !== n.status) { n.status = s; this.current.nodes.add(n.id); }
    }
    this.height = height; this.time = time; this.hash = hash;
    this.hashes.set(hash, height);
    const done = this.current;
    this.changes.push(done);
    if (this.changes.length > CHANGES_KEPT) this.changes.shift();
    this.current = { height: height + 1, contracts: new Set(), nodes: new Set(), farms: false, twins: new Set() };
    this.scheduleEmit();
  }

  /** One live update for everything since the last one, at most every LIVE_INTERVAL_MS. */
  private scheduleEmit(): void {
    if (this.emitTimer || this.closed) return;
    if (this.emitted.height < 0) this.emitted.height = this.height - 1;
    const wait = Math.max(0, this.emitted.at + LIVE_INTERVAL_MS - Date.now());
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      this.emitted.at = Date.now();
      const since = this.emitted.height;
      this.emitted.height = this.height;
      if (this.listeners.size === 0 || since >= this.height) return;
      const u = this.updateSince(since);
      for (const fn of this.listeners) fn(u);
    }, wait);
  }

  /** Fetch again what the last events changed, within the budget. */
  private async refresh(): Promise<void> {
    const c = this.current;
    if (this.dirty.farms) {
      try { for (const f of await this.client.farms()) this.farms.set(f.id, f); this.dirty.farms = false; c.farms = true; } catch (e) { this.log.warn({ err: String(e) }, "farms refresh failed"); }
    }
    if (this.dirty.nodes.size > NODE_LIST_THRESHOLD) {
      try {
        for (const n of await this.client.nodes()) { if (this.dirty.nodes.has(n.id)) c.nodes.add(n.id); this.nodes.set(n.id, n); }
        this.dirty.nodes.clear();
      } catch (e) { this.log.warn({ err: String(e) }, "nodes refresh failed"); }
    }
    const nodeIds = [...this.dirty.nodes].slice(0, FETCH_BUDGET);
    const contractIds = [...this.dirty.contracts].slice(0, FETCH_BUDGET);
    const jobs: (() => Promise<void>)[] = [
      ...nodeIds.map((id) => async () => { this.nodes.set(id, await this.client.node(id)); this.dirty.nodes.delete(id); c.nodes.add(id); }),
      ...contractIds.map((id) => async () => { this.putContract(await this.client.contract(id)); this.dirty.contracts.delete(id); c.contracts.add(id); }),
    ];
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        try { await job(); } catch (e) {
          if (e instanceof NotFoundError) continue;
          this.log.warn({ err: String(e) }, "refresh failed; retried with the next block");
          if (e instanceof UnavailableError) return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(FETCH_CONCURRENCY, jobs.length) }, worker));
  }

  private putContract(c: Contract): void {
    const row = contractRow(c);
    this.contracts.set(c.id, row);
    const index = (m: Map<number, Set<number>>, k: number) => { let s = m.get(k); if (!s) m.set(k, (s = new Set())); s.add(c.id); };
    index(this.byNode, c.nodeId);
    index(this.byTwin, c.twinId);
  }

  contractsOfNode(nodeId: number): ContractRow[] { return [...(this.byNode.get(nodeId) ?? [])].map((id) => this.contracts.get(id)!); }
  contractsOfTwin(twinId: number): ContractRow[] { return [...(this.byTwin.get(twinId) ?? [])].map((id) => this.contracts.get(id)!); }

  nodeRow(n: NodeInfo): NodeRow {
    let contracts = 0, workloads = 0;
    for (const id of this.byNode.get(n.id) ?? []) {
      const c = this.contracts.get(id)!;
      if (c.state === "deleted") continue;
      contracts++; workloads += c.workloads;
    }
    return nodeRow(n, { contracts, workloads });
  }

  /** Every node's row (recomputed at most every VIEW_TTL_MS while blocks come; shared, do not mutate). */
  nodeRows(): NodeRow[] {
    const c = this.rowsCache;
    if (c && (c.height === this.height || Date.now() - c.at < VIEW_TTL_MS)) return c.v;
    const v = [...this.nodes.values()].map((n) => this.nodeRow(n));
    this.rowsCache = { at: Date.now(), height: this.height, v };
    return v;
  }

  farmRow(f: FarmInfo): FarmRow {
    let nodes = 0, up = 0, cost = 0;
    for (const n of this.nodes.values()) {
      if (n.farmId !== f.id) continue;
      nodes++; if (n.status === "up") up++;
      for (const c of this.contractsOfNode(n.id)) if (c.state === "active") cost += c.costPerPeriod;
    }
    return { id: f.id, name: f.name, twinId: f.twinId, nodes, up, tokensPerHour: perHour(cost, this.billingPeriod) };
  }

  /** The overview; `fresh` forces it to the last block (live updates), else it may be VIEW_TTL_MS old. */
  overview(fresh = false): Overview {
    const cached = this.overviewCache;
    if (cached && (cached.height === this.height || (!fresh && Date.now() - cached.at < VIEW_TTL_MS))) return cached.v;
    let up = 0, active = 0, grace = 0, cost = 0;
    for (const n of this.nodes.values()) if (n.status === "up") up++;
    for (const c of this.contracts.values()) {
      if (c.state === "active") { active++; cost += c.costPerPeriod; } else if (c.state === "grace") grace++;
    }
    const latest: ContractRow[] = [];
    // Ids are handed out in order: the newest are the highest, found without sorting them all.
    let maxId = 0;
    for (const id of this.contracts.keys()) if (id > maxId) maxId = id;
    for (let id = maxId; id > 0 && latest.length < 10; id--) { const c = this.contracts.get(id); if (c) latest.push(c); }
    const first = this.txRing[0], last = this.txRing[this.txRing.length - 1];
    const span = first && last ? last.time - first.time : 0;
    const txs = this.txRing.slice(1).reduce((s, b) => s + b.txs, 0);
    const v: Overview = {
      height: this.height, hash: this.hash, time: this.time,
      nodes: { up, total: this.nodes.size }, farms: this.farms.size, twins: this.twins,
      capacity: { total: sumCap([...this.nodes.values()].map((n) => n.capacity)), reserved: sumCap([...this.nodes.values()].map((n) => n.reserved)) },
      contracts: { active, grace, total: this.contracts.size },
      tokensPerHour: perHour(cost, this.billingPeriod), txPerSecond: span > 0 ? txs / span : 0, latestContracts: latest,
    };
    this.overviewCache = { at: Date.now(), height: this.height, v };
    return v;
  }

  /** What changed after `height` (the browser's Last-Event-ID), as one live message. */
  updateSince(height: number): LiveUpdate {
    const oldest = this.changes[0]?.height ?? this.height + 1;
    const all = height < oldest - 1 || height > this.height;
    const contracts = new Set<number>(), nodes = new Set<number>(), twins = new Set<number>();
    let farms = false;
    if (!all) {
      for (const ch of this.changes) {
        if (ch.height <= height) continue;
        for (const id of ch.contracts) contracts.add(id);
        for (const id of ch.nodes) nodes.add(id);
        for (const id of ch.twins) twins.add(id);
        farms ||= ch.farms;
      }
    }
    return { height: this.height, overview: this.overview(true), changed: { all, contracts: [...contracts].slice(0, 500), nodes: [...nodes].slice(0, 500), farms, twins: [...twins].slice(0, 500) } };
  }
}

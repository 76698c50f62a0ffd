// The ledger's HTTP JSON API, its WebSocket event stream and Prometheus metrics, over node:http.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import client from "prom-client";
import { GridError, NotFoundError, UnavailableError, ValidationError, isPublicKeyHex, toGridError, httpStatusOf } from "../core/index.js";
import { HTTP_CHECK_INTERVAL_MS } from "../runtime/index.js";
import { Chain, type BlockEvents } from "./chain.js";
import { contractView, nodeView } from "./state.js";
import type { SignaturePool, Verified } from "./signature-pool.js";
import { FORWARDED_HEADER } from "./etcd/forward.js";
import { limitConnections, type ConnectionLimits } from "./connections.js";
import { HttpError, readBody, readJson } from "./json-body.js";
import type { ChainEvent, LedgerStatus, NodeFilter } from "./types.js";

export { MAX_BODY_BYTES } from "./json-body.js";

export interface ServerOptions {
  faucet: boolean;
  verifier?: SignaturePool;
  log: { warn(o: object, m?: string): void; debug?(o: object, m?: string): void };
  limits?: Partial<ServerLimits>;
}

export interface ServerLimits extends ConnectionLimits {
  /** Event-stream subscribers at once (each is a connection that stays). */
  maxSubscribers: number;
  /** A subscriber whose unsent output passes this stops being sent live blocks; it is fed from
   *  the event log as it drains (bytes). */
  subscriberBufferBytes: number;
  /** A subscriber that has not drained for this long is closed with SLOW_SUBSCRIBER (ms). */
  subscriberStallMs: number;
  /** GET /blocks answers at most this many bytes of blocks (at least one block), with X-Next-From. */
  blocksResponseBytes: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxConnections: 10_000, idleMs: 60_000, headersMs: 10_000, requestMs: 30_000,
  maxSubscribers: 2_000, subscriberBufferBytes: 1 << 20, subscriberStallMs: 60_000, blocksResponseBytes: 4 << 20,
};

/** The close code of a subscriber that did not read: it reconnects and resumes with `from`. */
export const SLOW_SUBSCRIBER = 4008;

export function createLedgerServer(chain: Chain, opts: ServerOptions): { server: Server; close(): Promise<void> } {
  const registry = new client.Registry();
  const m = {
    height: new client.Gauge({ name: "ledger_height", help: "Height of the last block", registers: [registry], collect() { this.set(chain.height); } }),
    pending: new client.Gauge({ name: "ledger_pending_txs", help: "Transactions waiting for a block", registers: [registry], collect() { this.set(chain.pendingCount); } }),
    objects: new client.Gauge({
      name: "ledger_objects", help: "Twins, farms, nodes, contracts, names in the state", labelNames: ["kind"], registers: [registry],
      collect() {
        const s = chain.state;
        this.set({ kind: "twins" }, s.twins.size); this.set({ kind: "farms" }, s.farms.size); this.set({ kind: "nodes" }, s.nodes.size);
        this.set({ kind: "contracts" }, s.contracts.size); this.set({ kind: "names" }, s.names.size);
      },
    }),
    subscribers: new client.Gauge({ name: "ledger_event_subscribers", help: "Open event-stream connections", registers: [registry] }),
    included: new client.Counter({ name: "ledger_txs_included_total", help: "Transactions included in blocks", registers: [registry] }),
    refused: new client.Counter({ name: "ledger_txs_refused_total", help: "Transactions refused, by error code", labelNames: ["code"], registers: [registry] }),
    blocks: new client.Counter({ name: "ledger_blocks_total", help: "Blocks produced since start", registers: [registry] }),
    blockSeconds: new client.Histogram({ name: "ledger_block_seconds", help: "Time to apply and fsync a block", buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1], registers: [registry] }),
    inclusion: new client.Histogram({ name: "ledger_submit_to_inclusion_seconds", help: "From admission to a durable block", buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5], registers: [registry] }),
  };
  chain.onRefused = (refused) => { for (const r of refused) m.refused.inc({ code: r.code }); };
  chain.onProduced = ({ txs, seconds, latencies }) => {
    m.blocks.inc(); m.included.inc(txs); m.blockSeconds.observe(seconds);
    for (const l of latencies) m.inclusion.observe(l);
  };

  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(Object.entries(opts.limits ?? {}).filter(([, v]) => v !== undefined)) };
  const subs = new Set<Sub>();
  const server = createServer({ connectionsCheckingInterval: HTTP_CHECK_INTERVAL_MS }, (req, res) => {
    handle(req, res).catch((e) => sendError(res, e));
  });
  server.keepAliveTimeout = 30_000;
  const conns = limitConnections(server, limits, opts.log);
  new client.Gauge({ name: "ledger_connections", help: "Open HTTP and event-stream connections", registers: [registry], collect() { this.set(conns.open()); } });
  new client.Gauge({ name: "ledger_connections_evicted", help: "Idle connections closed to make room since start", registers: [registry], collect() { this.set(conns.evicted()); } });
  new client.Gauge({ name: "ledger_connections_refused", help: "Connections refused at the cap or for lack of descriptors since start", registers: [registry], collect() { this.set(conns.refused()); } });
  new client.Gauge({
    name: "ledger_event_subscribers_buffered_bytes", help: "Bytes sent to event subscribers that they have not read yet (in the ledger's memory)", registers: [registry],
    collect() { let n = 0; for (const sub of subs) n += sub.ws.bufferedAmount; this.set(n); },
  });
  const slowClosed = new client.Counter({ name: "ledger_event_subscribers_closed_slow_total", help: "Subscribers closed for not reading", registers: [registry] });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { url, parts } = parsePath(req.url);
    const q = url.searchParams;
    const s = chain.state;
    if (req.method === "POST") {
      if (parts[0] === "tx" && parts.length === 1) {
        // From another replica of this ledger: order it here, never send it on.
        const forwarded = req.headers[FORWARDED_HEADER] === "1";
        if (!opts.verifier) return send(res, 200, await chain.submit(await readJson(req), { forwarded }));
        const body = await readBody(req);
        let v: Verified;
        try { v = await opts.verifier.verify(body); } catch (e) { chain.refusedOnAdmission(e); throw e; }
        return send(res, 200, await chain.admit(v, { forwarded }));
      }
      if (parts[0] === "faucet" && parts.length === 1) {
        if (!opts.faucet) throw new HttpError(404, "not_found", "this ledger has no faucet", "start bcdb with --faucet");
        const body = await readJson(req) as { twinId?: unknown; amount?: unknown };
        if (!body || typeof body !== "object") throw new ValidationError("faucet wants {twinId, amount}");
        return send(res, 200, await chain.faucet(body.twinId as number, body.amount as number));
      }
      throw new HttpError(404, "not_found", `no POST ${url.pathname}`);
    }
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "invalid", `method ${req.method} is not allowed`);
    const id = (v: string | undefined, what: string): number => {
      const n = Number(v);
      if (!v || !Number.isInteger(n) || n < 0) throw new ValidationError(`${what} must be a non-negative integer, got "${v}"`);
      return n;
    };
    const optNum = (k: string): number | undefined => (q.has(k) ? id(q.get(k)!, k) : undefined);
    switch (parts[0]) {
      case "status": {
        const c = chain.committed;
        const st: LedgerStatus = { height: c.height, hash: c.hash, time: c.time, twins: s.twins.size, nodes: s.nodes.size, contracts: s.contracts.size, pending: chain.pendingCount };
        return send(res, 200, st);
      }
      case "metrics": {
        res.writeHead(200, { "content-type": registry.contentType });
        res.end(await registry.metrics());
        return;
      }
      case "accounts": {
        const pk = parts[1];
        if (!isPublicKeyHex(pk)) throw new ValidationError("an account is a 64-hex-character ed25519 public key");
        const twinId = s.twinByKey.get(pk) ?? null;
        return send(res, 200, { publicKey: pk, twinId, nonce: s.nonces.get(pk) ?? 0, balance: twinId === null ? 0 : s.twins.get(twinId)!.balance });
      }
      case "twins": {
        const t = s.twins.get(id(parts[1], "twin id"));
        if (!t) throw new NotFoundError(`twin ${parts[1]} does not exist`);
        return send(res, 200, { id: t.id, publicKey: t.publicKey, balance: t.balance, nonce: s.nonces.get(t.publicKey) ?? 0, createdAt: t.createdAt });
      }
      case "farms": {
        if (parts.length === 1) return send(res, 200, [...s.farms.values()]);
        const f = s.farms.get(id(parts[1], "farm id"));
        if (!f) throw new NotFoundError(`farm ${parts[1]} does not exist`);
        return send(res, 200, f);
      }
      case "nodes": {
        if (parts.length === 1) {
          const f: NodeFilter = { farmId: optNum("farmId"), cru: optNum("cru"), mru: optNum("mru"), sru: optNum("sru"), hru: optNum("hru") };
          const status = q.get("status");
          if (status !== null && status !== "up" && status !== "down") throw new ValidationError(`status is "up" or "down", not "${status}"`);
          const out = [...s.nodes.values()].map((n) => nodeView(n, chain.committed.time, chain.opts.reportInterval)).filter((n) =>
            (f.farmId === undefined || n.farmId === f.farmId) && (status === null || n.status === status)
            && (["cru", "mru", "sru", "hru"] as const).every((k) => f[k] === undefined || n.free[k] >= f[k]!));
          return send(res, 200, out);
        }
        const n = s.nodes.get(id(parts[1], "node id"));
        if (!n) throw new NotFoundError(`node ${parts[1]} does not exist`);
        return send(res, 200, nodeView(n, chain.committed.time, chain.opts.reportInterval));
      }
      case "contracts": {
        if (parts.length === 1) {
          const twinId = optNum("twinId"), nodeId = optNum("nodeId"), state = q.get("state"), signer = optNum("signer");
          if (state !== null && !["active", "grace", "deleted"].includes(state)) throw new ValidationError(`state is active, grace or deleted, not "${state}"`);
          const pendingArg = q.get("pending");
          if (pendingArg !== null && pendingArg !== "true" && pendingArg !== "false") throw new ValidationError(`pending is true or false, not "${pendingArg}"`);
          const pending = pendingArg === "true";
          if (pending && signer === undefined) throw new ValidationError("pending=true needs signer=TWIN", "ask GET /contracts?signer=TWIN&pending=true");
          const out = [...s.contracts.values()].filter((c) => (twinId === undefined || c.twinId === twinId)
            && (nodeId === undefined || c.nodeId === nodeId) && (state === null || c.state === state)
            && (signer === undefined || c.deployment.signatureRequirement.requests.some((r) => r.twinId === signer))
            && (!pending || (c.state !== "deleted" && !c.signatures.some((x) => x.twinId === signer)))).map(contractView);
          return send(res, 200, out);
        }
        const c = s.contracts.get(id(parts[1], "contract id"));
        if (!c) throw new NotFoundError(`contract ${parts[1]} does not exist`);
        return send(res, 200, contractView(c));
      }
      case "names": {
        const n = parts[1] === undefined ? undefined : s.names.get(parts[1]);
        if (!n) throw new NotFoundError(`name "${parts[1] ?? ""}" is not reserved`);
        return send(res, 200, { ...n });
      }
      case "blocks": {
        if (parts.length === 1) {
          // Paged by bytes too: blocks are sent as logged (their canonical JSON), never decoded and
          // re-encoded, and a page stops at blocksResponseBytes (one block at least). X-Next-From
          // is where the next page starts when the range asked for goes on.
          const from = optNum("from") ?? Math.max(0, chain.height - 9);
          const limit = Math.min(optNum("limit") ?? 10, 1000);
          const end = Math.min(from + limit - 1, chain.height);
          const out: Buffer[] = [];
          let bytes = 2, h = from;
          for (; h <= end; h++) {
            const b = chain.readBlockBytes(h)!;
            if (out.length && bytes + b.length + 1 > limits.blocksResponseBytes) break;
            out.push(b); bytes += b.length + 1;
          }
          const headers: Record<string, string> = h <= end ? { "x-next-from": String(h) } : {};
          return sendRaw(res, 200, joinJsonArray(out), headers);
        }
        const b = chain.readBlockBytes(id(parts[1], "height"));
        if (!b) throw new NotFoundError(`no block at height ${parts[1]} (the chain is at ${chain.height})`);
        return sendRaw(res, 200, b);
      }
      case undefined:
        return send(res, 200, { name: "bcdb", endpoints: ["POST /tx", "POST /faucet", "GET /status", "GET /accounts/:pk", "GET /twins/:id", "GET /farms", "GET /nodes", "GET /contracts", "GET /names/:name", "GET /blocks", "GET /metrics", "WS /events"] });
    }
    throw new HttpError(404, "not_found", `no GET ${url.pathname}`);
  }

  // ---- event stream ----
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on("upgrade", (req, socket, head) => {
    const refuse = (status: string, e: GridError) => {
      const body = JSON.stringify({ error: e.toJSON() });
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    };
    let sub: Omit<Sub, "ws">;
    try {
      const { url } = parsePath(req.url);
      if (url.pathname !== "/events") return refuse("404 Not Found", new NotFoundError(`no stream at ${url.pathname}`, "the event stream is /events"));
      sub = parseSubscription(url.searchParams, chain.height);
    } catch (e) {
      return refuse("400 Bad Request", e instanceof GridError ? e : new ValidationError(String(e)));
    }
    if (subs.size >= limits.maxSubscribers) {
      return refuse("503 Service Unavailable", new UnavailableError(`the ledger serves ${limits.maxSubscribers} event subscribers at most`, "try again later, or another replica"));
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const full: Sub = { ...sub, ws, stalledSince: 0 };
      subs.add(full); m.subscribers.inc();
      ws.on("close", () => { subs.delete(full); m.subscribers.dec(); });
      ws.on("error", () => ws.terminate());
      catchUp(full);
    });
  });
  // Live blocks go to subscribers that have caught up and read what they were sent; the others
  // reach them through catchUp, from the event log, as their socket drains. So what one subscriber
  // holds in memory is bounded by subscriberBufferBytes (and one block), however long it stalls.
  const unsubscribe = chain.subscribe((be) => {
    for (const sub of subs) {
      if (sub.catchingUp || sub.next !== be.height) continue;
      if (sub.ws.bufferedAmount > limits.subscriberBufferBytes) catchUp(sub);
      else sendBlock(sub, be);
    }
  });

  function sendBlock(sub: Sub, be: BlockEvents): void {
    for (const e of be.events) if (matches(sub, e)) sub.ws.send(JSON.stringify(e));
    sub.ws.send(JSON.stringify(Chain.marker(be)));
    sub.next = be.height + 1;
  }

  function catchUp(sub: Sub): void {
    try { catchUpChunk(sub); } catch (e) {
      opts.log.warn({ err: String(e), next: sub.next }, "event catch-up failed; closing the subscription");
      sub.ws.close(1011, "event log unreadable");
    }
  }

  function catchUpChunk(sub: Sub): void {
    sub.catchingUp = true;
    const full = () => sub.ws.bufferedAmount > limits.subscriberBufferBytes;
    let n = 0;
    while (sub.next <= chain.height && n < 500 && sub.ws.readyState === sub.ws.OPEN && !full()) {
      sendBlock(sub, chain.readEvents(sub.next)!);
      n++;
    }
    if (sub.ws.readyState !== sub.ws.OPEN) return;
    if (sub.next <= chain.height || full()) {
      // Yield between chunks, and wait for the socket to drain, so one slow reader can stall
      // neither the ledger nor its memory. One that does not drain at all is let go: it resumes
      // from `next` when it reconnects.
      const now = Date.now();
      if (!full()) sub.stalledSince = 0;
      else if (!sub.stalledSince) sub.stalledSince = now;
      else if (now - sub.stalledSince > limits.subscriberStallMs) {
        slowClosed.inc();
        sub.ws.close(SLOW_SUBSCRIBER, `too slow; resume from=${sub.next}`);
        // The close frame waits behind the unread data: do not wait for the handshake.
        setTimeout(() => sub.ws.terminate(), 1000).unref();
        return;
      }
      setTimeout(() => catchUp(sub), full() ? 50 : 0);
      return;
    }
    sub.catchingUp = false;
  }

  return {
    server,
    async close() {
      unsubscribe();
      for (const s of subs) s.ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Sub { ws: WebSocket; next: number; catchingUp: boolean; stalledSince: number; nodeId?: number; twinId?: number; contractId?: number }

/** The request's URL and its decoded path segments; a malformed URL or escape is `invalid` (400). */
function parsePath(raw: string | undefined): { url: URL; parts: string[] } {
  let url: URL;
  try { url = new URL(raw ?? "/", "http://x"); } catch { throw new ValidationError("the request URL is malformed"); }
  const parts = url.pathname.split("/").filter(Boolean).map((p) => {
    try { return decodeURIComponent(p); } catch { throw new ValidationError(`the path segment "${p.slice(0, 64)}" is not valid percent-encoding`); }
  });
  return { url, parts };
}

function parseSubscription(q: URLSearchParams, height: number): Omit<Sub, "ws"> {
  const num = (k: string): number | undefined => {
    if (!q.has(k) || q.get(k) === "") return undefined;
    const n = Number(q.get(k));
    if (!Number.isInteger(n) || n < 0) throw new ValidationError(`${k} must be a non-negative integer, got "${q.get(k)}"`);
    return n;
  };
  const from = num("from");
  return { next: from === undefined ? height + 1 : from, catchingUp: false, stalledSince: 0, nodeId: num("nodeId"), twinId: num("twinId"), contractId: num("contractId") };
}

function matches(sub: Sub, e: ChainEvent): boolean {
  const r = e as unknown as Record<string, unknown>;
  if (sub.nodeId !== undefined && r.nodeId !== sub.nodeId) return false;
  if (sub.contractId !== undefined && r.contractId !== sub.contractId) return false;
  if (sub.twinId !== undefined && r.twinId !== sub.twinId && r.from !== sub.twinId && r.to !== sub.twinId
    && !(Array.isArray(r.signers) && r.signers.includes(sub.twinId))) return false;
  return true;
}

function joinJsonArray(items: Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from("[")];
  items.forEach((b, i) => { if (i) parts.push(Buffer.from(",")); parts.push(b); });
  parts.push(Buffer.from("]"));
  return Buffer.concat(parts);
}

function sendRaw(res: ServerResponse, status: number, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length, ...headers });
  res.end(body);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s) });
  res.end(s);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const g = toGridError(e);
  const status = e instanceof HttpError ? e.status : httpStatusOf(g);
  if (status === 413) res.setHeader("connection", "close");
  send(res, status, { error: g.toJSON() });
}

// The hub's HTTP API (docs/flist.md): chunks by hash (checked on upload), flists by owner/name
// (publishing needs the owner's signed request), the list of published flists. Nothing read back
// from the store is served unchecked: a chunk must hash to its address, a document to its hash, and
// a name record must carry its owner's signature over the hash it names — whoever can write the
// store still cannot publish under someone else's name.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { canonicalJson, GridError, NotFoundError, ValidationError, ConflictError, DamagedError, ExhaustedError, UnavailableError, sha256Hex, isPublicKeyHex, httpStatusOf, toGridError } from "../core/index.js";
import { connectionBudget, guardServer, HTTP_CHECK_INTERVAL_MS, type GuardedListener } from "../runtime/index.js";
import { flistHash, flistStats, parseFlist } from "./format.js";
import { checkNameRecord, checkPublish, flistNameSchema, PUBLISH_HEADER } from "./publish.js";
import type { HubStore, NameRecord } from "./hub-store.js";

export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const MAX_FLIST_BYTES = 64 * 1024 * 1024;
/** `POST /chunks/missing`: at most this many hashes a request (the uploader sends 32). */
const MAX_MISSING_HASHES = 4096;
const MAX_MISSING_BYTES = MAX_MISSING_HASHES * 72 + 64;
const HASH = /^[0-9a-f]{64}$/;

/** What clients may cost the hub (see runtime/listener.ts); zhub's flags override them. */
export interface HubLimits {
  /** Descriptors kept for the hub's own needs (its store connection, logs, Node's own). */
  reserve: number;
  maxConnections: number;
  /** Connections from one address: one flooding peer cannot take every slot from the others
   *  (each node of a grid has its own address on the bridge). */
  maxPerAddress: number;
  idleMs: number;
  headersMs: number;
  /** A 64 MiB flist document or an 8 MiB chunk over a slow link. */
  requestMs: number;
  /** Bytes of request bodies held at once, all requests together (see BodyBudget). */
  bodyBytes: number;
}
export const HUB_LIMITS: HubLimits = { reserve: 128, maxConnections: 4096, maxPerAddress: 256, idleMs: 60_000, headersMs: 10_000, requestMs: 120_000, bodyBytes: 256 * 1024 * 1024 };

/** Closes a connection beyond `max` from one remote address, at once. */
function capPerAddress(server: Server, max: number): () => number {
  const open = new Map<string, number>();
  let refused = 0;
  server.on("connection", (socket: Socket) => {
    const addr = socket.remoteAddress ?? "";
    const n = (open.get(addr) ?? 0) + 1;
    if (n > max) { refused++; socket.destroy(); return; }
    open.set(addr, n);
    socket.once("close", () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left > 0) open.set(addr, left); else open.delete(addr);
    });
  });
  return () => refused;
}

/**
 * The bytes all request bodies may hold at once. A body is held whole (a chunk is hashed, a
 * document parsed) so, without this, 4096 uploads of 64 MiB documents would cost 256 GiB: a
 * request that would pass the budget is refused (`exhausted`, 507: retry later) before a byte of
 * it is read, and its share comes back when its response ends.
 */
class BodyBudget {
  private held = 0;
  constructor(readonly max: number) {}
  take(res: ServerResponse, n: number): void {
    if (this.held + n > this.max) throw new ExhaustedError(`the hub holds ${this.held} bytes of uploads in flight; ${n} more would pass its ${this.max}-byte budget`, "retry in a moment");
    this.held += n;
    res.once("close", () => { this.held -= n; });
  }
}

/** A body of at most `limit` bytes, its size reserved from `budget` (the declared length, or the
 *  limit when none is declared). */
async function body(req: IncomingMessage, res: ServerResponse, limit: number, budget: BodyBudget): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (!Number.isSafeInteger(declared) || declared < 0) throw new ValidationError("bad content-length");
  if (declared > limit) throw new ValidationError(`request body larger than ${limit} bytes`);
  const allowed = declared || limit;
  budget.take(res, allowed);
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > allowed) throw new ValidationError(`request body larger than ${allowed} bytes`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** A JSON body: anything that does not parse (including nesting too deep for the parser) is 400. */
async function jsonBody(req: IncomingMessage, res: ServerResponse, limit: number, budget: BodyBudget): Promise<Record<string, unknown>> {
  const text = (await body(req, res, limit, budget)).toString("utf8");
  let v: unknown;
  try { v = JSON.parse(text || "{}"); } catch (e) { throw new ValidationError(`malformed JSON: ${(e as Error).message}`, undefined, { cause: e }); }
  if (!v || typeof v !== "object" || Array.isArray(v)) throw new ValidationError("the body must be a JSON object");
  return v as Record<string, unknown>;
}

function json(res: ServerResponse, status: number, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v));
  res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
  res.end(b);
}

function pathParts(pathname: string): string[] {
  try { return pathname.split("/").filter(Boolean).map(decodeURIComponent); } catch (e) {
    throw new ValidationError(`malformed URL path ${JSON.stringify(pathname.slice(0, 200))}`, undefined, { cause: e });
  }
}

/** ioredis' own errors (the store refused a command, or the connection is down) are the store being
 *  unavailable, not a bug of the hub. */
function storeFailure(e: unknown): GridError | null {
  if (!(e instanceof Error)) return null;
  if (e.name === "ReplyError" || e.name === "MaxRetriesPerRequestError" || /Connection is closed|isn't writeable/.test(e.message)) {
    return new UnavailableError(`the hub's store: ${e.message}`, "retry in a moment", { cause: e });
  }
  return null;
}

export interface HubOptions { store: HubStore; log: Logger; now?: () => number; limits?: Partial<HubLimits> }

export function createHubServer(opts: HubOptions): HubServer {
  const { store, log } = opts;
  const l = { ...HUB_LIMITS, ...opts.limits };
  const budget = new BodyBudget(l.bodyBytes);
  const now = opts.now ?? Date.now;
  /** The name record of owner/name if its owner's signature holds; a forged one is logged, never used. */
  async function verifiedName(owner: string, name: string): Promise<NameRecord | null> {
    const raw = await store.getName(owner, name);
    if (raw === null) return null;
    try { return checkNameRecord(raw, owner, name); } catch (e) {
      log.error({ owner, name, err: (e as Error).message }, "forged or damaged name record in the store: refused");
      throw e;
    }
  }
  /** A document or chunk read back from the store, served only if it hashes to its address. */
  function checked<T extends Buffer | string>(what: string, hash: string, data: T): T {
    if (sha256Hex(data) === hash) return data;
    log.error({ what, hash }, "content in the store does not match its address: refused");
    throw new DamagedError(`${what} ${hash} in the hub's store does not match its hash; refused`, "re-upload it (the hub accepts a good copy over a bad one)");
  }
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://hub");
    const p = pathParts(url.pathname);
    const m = req.method ?? "GET";
    if (p[0] === "health" && p.length === 1) return json(res, 200, { ok: true });
    if (p[0] === "chunks" && p.length === 2 && p[1] === "missing" && m === "POST") {
      const v = await jsonBody(req, res, MAX_MISSING_BYTES, budget);
      if (!Array.isArray(v.hashes) || !v.hashes.every((h: unknown) => typeof h === "string" && HASH.test(h))) throw new ValidationError("body must be {hashes: [sha256 hex...]}");
      if (v.hashes.length > MAX_MISSING_HASHES) throw new ValidationError(`at most ${MAX_MISSING_HASHES} hashes a request`);
      return json(res, 200, { missing: await store.missing(v.hashes) });
    }
    if (p[0] === "chunks" && p.length === 2) {
      const h = p[1];
      if (!HASH.test(h)) throw new ValidationError(`${h} is not a SHA-256 (64 lowercase hex digits)`);
      if (m === "GET" || m === "HEAD") {
        const stored = await store.getChunk(h);
        if (!stored) throw new NotFoundError(`chunk ${h} not found`);
        const data = checked("chunk", h, stored);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
        res.end(m === "HEAD" ? undefined : data);
        return;
      }
      if (m === "PUT") {
        const data = await body(req, res, MAX_CHUNK_BYTES, budget);
        if (sha256Hex(data) !== h) throw new ValidationError(`chunk content does not hash to ${h}`, "chunks are addressed by the SHA-256 of their content");
        await store.putChunk(h, data);
        return json(res, 201, { hash: h, size: data.length });
      }
    }
    if (p[0] === "flists" && p.length === 1 && m === "GET") {
      const names = await store.names();
      const recs: NameRecord[] = [];
      for (const k of names) {
        const [owner, name] = k.split("/");
        if (!owner || !name) continue;
        const r = await verifiedName(owner, name).catch(() => null); // logged; the rest still listed
        if (r) recs.push(r);
      }
      return json(res, 200, { flists: recs });
    }
    if (p[0] === "flists" && p.length === 3 && p[1] === "sha256" && m === "GET") {
      if (!HASH.test(p[2])) throw new ValidationError(`${p[2]} is not a SHA-256 (64 lowercase hex digits)`);
      const stored = await store.getFlist(p[2]);
      if (!stored) throw new NotFoundError(`flist ${p[2]} not found`);
      const doc = checked("flist", p[2], stored);
      res.writeHead(200, { "content-type": "application/json", "x-flist-hash": p[2] });
      res.end(doc);
      return;
    }
    if (p[0] === "flists" && p.length === 3) {
      const [, owner, name] = p;
      if (!isPublicKeyHex(owner)) throw new ValidationError(`flist owner "${owner}" is not an ed25519 public key (64 hex digits)`);
      if (!flistNameSchema.safeParse(name).success) throw new ValidationError(`"${name}" is not a valid flist name`);
      if (m === "GET") {
        const rec = await verifiedName(owner, name);
        const stored = rec && await store.getFlist(rec.hash);
        if (!rec || !stored) throw new NotFoundError(`flist ${owner}/${name} not found`);
        const doc = checked("flist", rec.hash, stored);
        // The owner's signed request travels with the document, so a node checks the owner's
        // word itself and need not trust this hub for names (client.ts fetchFlist).
        res.writeHead(200, { "content-type": "application/json", "x-flist-hash": rec.hash, [PUBLISH_HEADER]: Buffer.from(JSON.stringify(rec.request)).toString("base64") });
        res.end(doc);
        return;
      }
      if (m === "PUT") {
        const v = await jsonBody(req, res, MAX_FLIST_BYTES, budget);
        const flist = parseFlist(v.flist);
        const hash = flistHash(flist);
        // Only a genuine previous record sets the replay floor: a forged one with a far-future
        // timestamp must not lock the owner out of their own name.
        const prev = await verifiedName(owner, name).catch(() => null);
        const signed = checkPublish(v.request, owner, name, hash, now(), prev?.timestamp ?? null);
        const stats = flistStats(flist);
        const missing = await store.missing(stats.chunks);
        if (missing.length) throw new ConflictError(`the hub lacks ${missing.length} of the flist's ${stats.chunks.length} chunks (first: ${missing[0]})`, "upload the chunks first (PUT /chunks/<hash>)");
        await store.putFlist(hash, canonicalJson(flist));
        const rec: NameRecord = { owner, name, hash, timestamp: signed.timestamp, publishedAt: new Date(now()).toISOString(), size: stats.size, files: stats.files, request: signed };
        await store.putName(rec);
        log.info({ owner, name, hash, size: stats.size }, "flist published");
        return json(res, 201, { ...rec, path: `/flists/${owner}/${name}` });
      }
    }
    throw new NotFoundError(`no route ${m} ${url.pathname}`);
  }
  const server = createServer({ connectionsCheckingInterval: HTTP_CHECK_INTERVAL_MS }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const g = e instanceof GridError ? e : storeFailure(e) ?? toGridError(e);
      if (!(e instanceof GridError) && g.code === "internal") log.error({ err: e }, "request failed");
      if (!res.headersSent) json(res, httpStatusOf(g), { error: g.toJSON() });
      else res.destroy();
    });
  });
  const guard = guardServer(server, { maxConnections: Math.min(l.maxConnections, connectionBudget(l.reserve)), idleMs: l.idleMs, headersMs: l.headersMs, requestMs: l.requestMs }, log);
  const perAddress = capPerAddress(server, l.maxPerAddress);
  return Object.assign(server, { guard: { refused: () => guard.refused() + perAddress() } });
}

/** The hub's server, with its listener guard (refused connections, for tests and metrics). */
export type HubServer = Server & { guard: GuardedListener };

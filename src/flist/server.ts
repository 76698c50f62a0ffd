// The hub's HTTP API (docs/flist.md): chunks by hash (checked on upload), flists by owner/name
// (publishing needs the owner's signed request), the list of published flists.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { canonicalJson, GridError, NotFoundError, ValidationError, ConflictError, sha256Hex, isPublicKeyHex } from "../core/index.js";
import { flistHash, flistStats, parseFlist } from "./format.js";
import { checkPublish, flistNameSchema } from "./publish.js";
import type { HubStore, NameRecord } from "./store.js";

export const MAX_CHUNK_BYTES = 8 * 1024 * 1024;
const MAX_FLIST_BYTES = 64 * 1024 * 1024;
const HASH = /^[0-9a-f]{64}$/;

async function body(req: IncomingMessage, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new ValidationError(`request body larger than ${limit} bytes`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

function json(res: ServerResponse, status: number, v: unknown): void {
  const b = Buffer.from(JSON.stringify(v));
  res.writeHead(status, { "content-type": "application/json", "content-length": b.length });
  res.end(b);
}

const STATUS: Record<string, number> = { invalid: 400, bad_signature: 401, forbidden: 403, not_found: 404, conflict: 409, unavailable: 503 };

export interface HubOptions { store: HubStore; log: Logger; now?: () => number }

export function createHubServer(opts: HubOptions): Server {
  const { store, log } = opts;
  const now = opts.now ?? Date.now;
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://hub");
    const p = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const m = req.method ?? "GET";
    if (p[0] === "health" && p.length === 1) return json(res, 200, { ok: true });
    if (p[0] === "chunks" && p.length === 2 && p[1] === "missing" && m === "POST") {
      const v = JSON.parse((await body(req, 16 * 1024 * 1024)).toString("utf8") || "{}");
      if (!Array.isArray(v.hashes) || !v.hashes.every((h: unknown) => typeof h === "string" && HASH.test(h))) throw new ValidationError("body must be {hashes: [sha256 hex...]}");
      return json(res, 200, { missing: await store.missing(v.hashes) });
    }
    if (p[0] === "chunks" && p.length === 2) {
      const h = p[1];
      if (!HASH.test(h)) throw new ValidationError(`${h} is not a SHA-256 (64 lowercase hex digits)`);
      if (m === "GET" || m === "HEAD") {
        const data = await store.getChunk(h);
        if (!data) throw new NotFoundError(`chunk ${h} not found`);
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": data.length });
        res.end(m === "HEAD" ? undefined : data);
        return;
      }
      if (m === "PUT") {
        const data = await body(req, MAX_CHUNK_BYTES);
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
        const r = await store.getName(owner, name);
        if (r) recs.push(r);
      }
      return json(res, 200, { flists: recs });
    }
    if (p[0] === "flists" && p.length === 3 && p[1] === "sha256" && m === "GET") {
      const doc = await store.getFlist(p[2]);
      if (!doc) throw new NotFoundError(`flist ${p[2]} not found`);
      res.writeHead(200, { "content-type": "application/json", "x-flist-hash": p[2] });
      res.end(doc);
      return;
    }
    if (p[0] === "flists" && p.length === 3) {
      const [, owner, name] = p;
      if (!isPublicKeyHex(owner)) throw new ValidationError(`flist owner "${owner}" is not an ed25519 public key (64 hex digits)`);
      if (!flistNameSchema.safeParse(name).success) throw new ValidationError(`"${name}" is not a valid flist name`);
      if (m === "GET") {
        const rec = await store.getName(owner, name);
        const doc = rec && await store.getFlist(rec.hash);
        if (!rec || !doc) throw new NotFoundError(`flist ${owner}/${name} not found`);
        res.writeHead(200, { "content-type": "application/json", "x-flist-hash": rec.hash });
        res.end(doc);
        return;
      }
      if (m === "PUT") {
        const v = JSON.parse((await body(req, MAX_FLIST_BYTES)).toString("utf8"));
        const flist = parseFlist(v.flist);
        const hash = flistHash(flist);
        const prev = await store.getName(owner, name);
        const signed = checkPublish(v.request, owner, name, hash, now(), prev?.timestamp ?? null);
        const stats = flistStats(flist);
        const missing = await store.missing(stats.chunks);
        if (missing.length) throw new ConflictError(`the hub lacks ${missing.length} of the flist's ${stats.chunks.length} chunks (first: ${missing[0]})`, "upload the chunks first (PUT /chunks/<hash>)");
        await store.putFlist(hash, canonicalJson(flist));
        const rec: NameRecord = { owner, name, hash, timestamp: signed.timestamp, publishedAt: new Date(now()).toISOString(), size: stats.size, files: stats.files };
        await store.putName(rec);
        log.info({ owner, name, hash, size: stats.size }, "flist published");
        return json(res, 201, { ...rec, path: `/flists/${owner}/${name}` });
      }
    }
    throw new NotFoundError(`no route ${m} ${url.pathname}`);
  }
  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof GridError ? e : e instanceof SyntaxError ? new ValidationError(`malformed JSON: ${e.message}`) : null;
      if (!err) log.error({ err: e }, "request failed");
      const g = err ?? new GridError("internal", (e as Error).message ?? String(e));
      if (!res.headersSent) json(res, STATUS[g.code] ?? 500, { error: g.toJSON() });
      else res.destroy();
    });
  });
}

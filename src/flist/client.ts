// Talking to a hub over HTTP: chunks, flist documents, publishing; and the batching uploader the
// builder feeds, which asks the hub which chunks it lacks and sends only those.
import { canonicalJson, GridError, NotFoundError, SignatureError, UnavailableError, ValidationError, type KeyPair, type ErrorCode } from "../core/index.js";
import type { ChunkSink } from "./build.js";
import { flistHash, parseFlist, type Flist } from "./format.js";
import { checkSignedPublish, PUBLISH_HEADER, signPublish } from "./publish.js";
import type { NameRecord } from "./hub-store.js";

export interface FlistAddress { hub: string; owner?: string; name?: string; hash?: string; url: string }

/** `http://HUB/flists/OWNER/NAME[#sha256]` or `http://HUB/flists/sha256/HASH`. */
export function parseFlistAddress(address: string): FlistAddress {
  let u: URL;
  try { u = new URL(address); } catch { throw new ValidationError(`flist address "${address}" is not a URL`, "use http://HUB/flists/OWNER/NAME"); }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ValidationError(`flist address "${address}" is not http(s)`);
  const p = u.pathname.split("/").filter(Boolean);
  const pin = u.hash ? u.hash.slice(1) : undefined;
  if (pin !== undefined && !/^[0-9a-f]{64}$/.test(pin)) throw new ValidationError(`flist address pin "#${pin}" is not a SHA-256`);
  const hub = `${u.protocol}//${u.host}`;
  if (p.length === 3 && p[0] === "flists" && p[1] === "sha256") return { hub, hash: p[2], url: `${hub}/flists/sha256/${p[2]}` };
  if (p.length === 3 && p[0] === "flists") return { hub, owner: p[1], name: p[2], hash: pin, url: `${hub}/flists/${p[1]}/${p[2]}` };
  throw new ValidationError(`flist address "${address}" is not http://HUB/flists/OWNER/NAME`);
}

async function failure(r: Response, what: string): Promise<GridError> {
  let code: ErrorCode = r.status === 404 ? "not_found" : r.status >= 500 ? "unavailable" : "invalid";
  let message = `${what}: HTTP ${r.status}`, hint: string | undefined;
  try { const v = await r.json() as { error?: { code: ErrorCode; message: string; hint?: string } }; if (v.error) { code = v.error.code; message = `${what}: ${v.error.message}`; hint = v.error.hint; } } catch { /* not JSON */ }
  return new GridError(code, message, hint);
}

/** How often a request the hub refused as transient (503, 507) is resent, backing off from 100 ms. */
const RETRIES = 5;

export class HubClient {
  readonly url: string;
  constructor(url: string) { this.url = url.replace(/\/+$/, ""); }
  private async req(path: string, init: RequestInit, what: string): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let r: Response;
      try { r = await fetch(`${this.url}${path}`, init); } catch (e) { throw new UnavailableError(`${what}: hub ${this.url} unreachable (${(e as Error).message})`, undefined, { cause: e }); }
      if (r.ok) return r;
      const err = await failure(r, what);
      // A busy hub (uploads over its budget, its store reconnecting) says so: wait and resend.
      if (!err.transient || attempt >= RETRIES) throw err;
      await new Promise((res) => setTimeout(res, 100 * 2 ** attempt));
    }
  }
  async missing(hashes: string[]): Promise<string[]> {
    const r = await this.req("/chunks/missing", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ hashes }) }, "chunk check");
    return ((await r.json()) as { missing: string[] }).missing;
  }
  async putChunk(hash: string, data: Buffer): Promise<void> {
    await this.req(`/chunks/${hash}`, { method: "PUT", body: data as unknown as BodyInit }, `upload of chunk ${hash}`);
  }
  async getChunk(hash: string, signal?: AbortSignal): Promise<Buffer> {
    const r = await this.req(`/chunks/${hash}`, { signal }, `chunk ${hash}`);
    return Buffer.from(await r.arrayBuffer());
  }
  async publish(keys: KeyPair, name: string, flist: Flist, now?: number): Promise<NameRecord & { address: string }> {
    const hash = flistHash(flist);
    const request = signPublish(keys, name, hash, now);
    const r = await this.req(`/flists/${keys.publicKey}/${encodeURIComponent(name)}`, { method: "PUT", headers: { "content-type": "application/json" }, body: canonicalJson({ flist, request }) }, `publish of ${name}`);
    const rec = await r.json() as NameRecord;
    return { ...rec, address: `${this.url}/flists/${keys.publicKey}/${name}` };
  }
  async list(): Promise<NameRecord[]> {
    return ((await (await this.req("/flists", {}, "flist list")).json()) as { flists: NameRecord[] }).flists;
  }
}

/** Fetches an flist document and checks it: it parses, and it hashes to the pin when there is one. */
export async function fetchFlist(address: string, signal?: AbortSignal): Promise<{ flist: Flist; hash: string; address: FlistAddress }> {
  const a = parseFlistAddress(address);
  let r: Response;
  try { r = await fetch(a.url, { signal }); } catch (e) { throw new UnavailableError(`flist ${address}: hub unreachable (${(e as Error).message})`); }
  if (r.status === 404) throw new NotFoundError(`flist ${address} not found on the hub`);
  if (!r.ok) throw await failure(r, `flist ${address}`);
  let v: unknown;
  try { v = await r.json(); } catch { throw new ValidationError(`flist ${address}: the hub served something that is not JSON`); }
  const flist = parseFlist(v);
  const hash = flistHash(flist);
  if (a.hash && a.hash !== hash) throw new ValidationError(`flist ${address}: the hub served a document hashing to ${hash}, not the pinned ${a.hash}`, "the hub's copy was changed or tampered with");
  if (a.owner && a.name) {
    // By name: the owner's signature over this very hash, whatever the hub is.
    const signed = r.headers.get(PUBLISH_HEADER);
    if (!signed) throw new SignatureError(`flist ${address}: the hub served it without its owner's signed publish request`, "use a hub that serves the publisher's signature, or pin the address (#sha256)");
    let req: unknown;
    try { req = JSON.parse(Buffer.from(signed, "base64").toString("utf8")); } catch (e) { throw new SignatureError(`flist ${address}: the hub's ${PUBLISH_HEADER} header is not base64 JSON`, undefined, { cause: e }); }
    try { checkSignedPublish(req, a.owner, a.name, hash); } catch (e) {
      throw new SignatureError(`flist ${address}: not what its owner published (${(e as Error).message})`, "the hub's copy was changed or tampered with", { cause: e });
    }
  }
  return { flist, hash, address: a };
}

/** A ChunkSink that uploads to a hub what it lacks, in batches, a few requests at a time. */
export class HubUploader implements ChunkSink {
  private pending = new Map<string, Buffer>();
  private seen = new Set<string>();
  uploaded = 0; uploadedBytes = 0; skipped = 0;
  constructor(private readonly hub: HubClient, private readonly batch = 32, private readonly parallel = 4) {}
  async put(hash: string, data: Buffer): Promise<void> {
    if (this.seen.has(hash)) { this.skipped++; return; }
    this.seen.add(hash);
    this.pending.set(hash, data);
    if (this.pending.size >= this.batch) await this.flush();
  }
  async flush(): Promise<void> {
    if (!this.pending.size) return;
    const batch = this.pending;
    this.pending = new Map();
    const missing = await this.hub.missing([...batch.keys()]);
    this.skipped += batch.size - missing.length;
    const queue = [...missing];
    await Promise.all(Array.from({ length: Math.min(this.parallel, queue.length) }, async () => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        const d = batch.get(h)!;
        await this.hub.putChunk(h, d);
        this.uploaded++; this.uploadedBytes += d.length;
      }
    }));
  }
}

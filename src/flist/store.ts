// The hub's storage in 0-db (Redis protocol): chunks `c:<sha256>`, flist documents `f:<sha256>`,
// name records `n:<owner>/<name>`, and `index`, the list of names (0-db has no key scan by prefix).
import { Redis } from "ioredis";
import { UnavailableError } from "../core/index.js";

export interface NameRecord { owner: string; name: string; hash: string; timestamp: number; publishedAt: string; size: number; files: number }

export interface ZdbAddress { host: string; port: number; namespace?: string; password?: string }

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m) throw new Error(`"${s}" is not HOST:PORT`);
  return { host: m[1], port: Number(m[2]) };
}

export class HubStore {
  readonly redis: Redis;
  private indexLock: Promise<unknown> = Promise.resolve();
  constructor(addr: ZdbAddress) {
    this.redis = new Redis({ host: addr.host, port: addr.port, lazyConnect: true, maxRetriesPerRequest: 2, enableOfflineQueue: true });
    // 0-db namespaces are chosen per connection with SELECT; re-select after every reconnect.
    if (addr.namespace) {
      const ns = addr.namespace, pw = addr.password;
      this.redis.on("ready", () => { void (pw ? this.redis.call("SELECT", ns, pw) : this.redis.call("SELECT", ns)).catch(() => undefined); });
    }
    this.addr = addr;
  }
  private addr: ZdbAddress;
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
      if (this.addr.namespace) {
        const args = this.addr.password ? [this.addr.namespace, this.addr.password] : [this.addr.namespace];
        await this.redis.call("SELECT", ...args);
      }
    } catch (e) {
      throw new UnavailableError(`cannot use 0-db at ${this.addr.host}:${this.addr.port}${this.addr.namespace ? ` namespace ${this.addr.namespace}` : ""}: ${(e as Error).message}`);
    }
  }
  async close(): Promise<void> { this.redis.disconnect(); }

  getChunk(hash: string): Promise<Buffer | null> { return this.redis.getBuffer(`c:${hash}`); }
  async putChunk(hash: string, data: Buffer): Promise<void> { await this.redis.set(`c:${hash}`, data); }
  async missing(hashes: string[]): Promise<string[]> {
    if (!hashes.length) return [];
    const p = this.redis.pipeline();
    for (const h of hashes) p.exists(`c:${h}`);
    const r = (await p.exec()) ?? [];
    return hashes.filter((_, i) => !(r[i]?.[1] === 1));
  }
  getFlist(hash: string): Promise<string | null> { return this.redis.get(`f:${hash}`); }
  async putFlist(hash: string, json: string): Promise<void> { await this.redis.set(`f:${hash}`, json); }
  async getName(owner: string, name: string): Promise<NameRecord | null> {
    const v = await this.redis.get(`n:${owner}/${name}`);
    return v ? JSON.parse(v) as NameRecord : null;
  }
  /** Record a name (serialised in this process, the hub being the index's only writer). */
  async putName(rec: NameRecord): Promise<void> {
    const run = this.indexLock.then(async () => {
      await this.redis.set(`n:${rec.owner}/${rec.name}`, JSON.stringify(rec));
      const names = await this.names();
      const key = `${rec.owner}/${rec.name}`;
      if (!names.includes(key)) { names.push(key); await this.redis.set("index", JSON.stringify(names)); }
    });
    this.indexLock = run.catch(() => undefined);
    return run;
  }
  async names(): Promise<string[]> {
    const v = await this.redis.get("index");
    return v ? JSON.parse(v) as string[] : [];
  }
}

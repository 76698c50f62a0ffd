// The hub's storage in 0-db (Redis protocol): chunks `c:<sha256>`, flist documents `f:<sha256>`,
// name records `n:<owner>/<name>`, and `index`, the list of names (0-db has no key scan by prefix).
//
// The store is written only by the hub: its namespace has a password (the grid runs the hub's 0-db
// with an admin password and --protect, so the default namespace is read-only to anyone else). The
// hub still trusts nothing it reads back (server.ts checks every record and chunk before serving).
import { Redis } from "ioredis";
import { ForbiddenError, UnavailableError, ValidationError } from "../core/index.js";
import type { PublishRequest } from "./publish.js";

/** What the hub knows of a published name; `request` is the publisher's signed request, kept so the
 *  record can be checked again every time it is served. */
export interface NameRecord { owner: string; name: string; hash: string; timestamp: number; publishedAt: string; size: number; files: number; request: PublishRequest }

export interface ZdbAddress { host: string; port: number; namespace?: string; password?: string }

/** The environment variable zhub reads its store's password from (never a flag: `ps` shows those). */
export const HUB_PASSWORD_ENV = "ZHUB_ZDB_PASSWORD";

const DEFAULT_NS = "default";
/** How long a request waits for the store to come back after a reconnect before it is refused. */
const RECONNECT_WAIT_MS = 5000;

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s);
  if (!m || Number(m[2]) > 65535) throw new ValidationError(`"${s}" is not HOST:PORT`);
  return { host: m[1], port: Number(m[2]) };
}

/** Why this session may not write, or null when it may. A DEL of a key that never exists writes
 *  nothing: 0-db answers "Key not found" to a writer and "read-only" to anyone else. */
async function readOnlyReason(r: Redis): Promise<string | null> {
  try { await r.del("zhub:write-probe"); return null; } catch (e) {
    const msg = (e as Error).message;
    return /not found/i.test(msg) ? null : msg;
  }
}

export class HubStore {
  private readonly redis: Redis;
  private readonly addr: ZdbAddress;
  private indexLock: Promise<unknown> = Promise.resolve();
  /** Resolved once the connection has SELECTed its namespace; replaced whenever the connection
   *  drops, so no command ever runs on a fresh connection before it is authenticated. */
  private selected: Promise<void>;
  private markSelected: () => void = () => undefined;

  constructor(addr: ZdbAddress) {
    this.addr = addr;
    // No offline queue and no resend: ioredis would replay queued commands on a new connection
    // before our SELECT, i.e. in the wrong namespace or read-only. A request waits on `selected`.
    this.redis = new Redis({ host: addr.host, port: addr.port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, autoResendUnfulfilledCommands: false });
    this.selected = this.gate();
    this.redis.on("close", () => { this.selected = this.gate(); });
    // 0-db namespaces are chosen per connection: select again after every reconnect.
    this.redis.on("ready", () => { this.select().then(() => this.markSelected(), () => this.redis.disconnect(true)); });
    this.redis.on("error", () => { /* reconnects by itself; a request meanwhile gets `unavailable` */ });
  }

  private gate(): Promise<void> {
    return new Promise<void>((res) => { this.markSelected = res; });
  }

  private where(): string {
    return `0-db at ${this.addr.host}:${this.addr.port} namespace ${this.addr.namespace ?? DEFAULT_NS}`;
  }

  /** SELECT the namespace, with its password when there is one (on the loopback/bridge only). */
  private async select(): Promise<void> {
    const ns = this.addr.namespace ?? DEFAULT_NS;
    const pw = this.addr.password;
    if (!pw && ns === DEFAULT_NS) return;
    try {
      await (pw ? this.redis.call("SELECT", ns, pw) : this.redis.call("SELECT", ns));
    } catch (e) {
      const msg = (e as Error).message;
      if (/denied|protected|private/i.test(msg)) {
        throw new ForbiddenError(`${this.where()} refused the hub's password (${msg})`, `set ${HUB_PASSWORD_ENV} to the store's password (the grid keeps it in DIR/hub/zdb.password)`, { cause: e });
      }
      throw new UnavailableError(`cannot select ${this.where()}: ${msg}`, undefined, { cause: e });
    }
  }

  /**
   * Connects, authenticates and checks the hub can write: zhub refuses to start against a store
   * it cannot authenticate to (a wrong password, or a protected store and no password).
   */
  async connect(): Promise<void> {
    try { await this.redis.connect(); } catch (e) {
      throw new UnavailableError(`cannot reach ${this.where()}: ${(e as Error).message}`, undefined, { cause: e });
    }
    await this.select();
    this.markSelected();
    const why = await readOnlyReason(this.redis);
    if (why) throw new ForbiddenError(`${this.where()} does not let the hub write (${why})`, `set ${HUB_PASSWORD_ENV} to the store's password (the grid keeps it in DIR/hub/zdb.password)`);
  }

  /** Whether a session without any password could write here (an open store: warn about it). */
  async openToAnyone(): Promise<boolean> {
    const probe = new Redis({ host: this.addr.host, port: this.addr.port, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      if (this.addr.namespace && this.addr.namespace !== DEFAULT_NS) await probe.call("SELECT", this.addr.namespace);
      return (await readOnlyReason(probe)) === null;
    } catch { return false; } finally { probe.disconnect(); }
  }

  async close(): Promise<void> { this.redis.disconnect(); }

  private async db(): Promise<Redis> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new UnavailableError(`${this.where()} is not connected`, "retry in a moment")), RECONNECT_WAIT_MS); });
    try { await Promise.race([this.selected, late]); } finally { clearTimeout(timer); }
    return this.redis;
  }

  async getChunk(hash: string): Promise<Buffer | null> { return (await this.db()).getBuffer(`c:${hash}`); }
  async putChunk(hash: string, data: Buffer): Promise<void> { await (await this.db()).set(`c:${hash}`, data); }
  async missing(hashes: string[]): Promise<string[]> {
    if (!hashes.length) return [];
    const p = (await this.db()).pipeline();
    for (const h of hashes) p.exists(`c:${h}`);
    const r = (await p.exec()) ?? [];
    return hashes.filter((_, i) => !(r[i]?.[1] === 1));
  }
  async getFlist(hash: string): Promise<string | null> { return (await this.db()).get(`f:${hash}`); }
  async putFlist(hash: string, json: string): Promise<void> { await (await this.db()).set(`f:${hash}`, json); }
  /** The raw record as stored: unchecked (see checkNameRecord in publish.ts). */
  async getName(owner: string, name: string): Promise<string | null> {
    return (await this.db()).get(`n:${owner}/${name}`);
  }
  /** Record a name (serialised in this process, the hub being the index's only writer). */
  async putName(rec: NameRecord): Promise<void> {
    const run = this.indexLock.then(async () => {
      await (await this.db()).set(`n:${rec.owner}/${rec.name}`, JSON.stringify(rec));
      const names = await this.names();
      const key = `${rec.owner}/${rec.name}`;
      if (!names.includes(key)) { names.push(key); await (await this.db()).set("index", JSON.stringify(names)); }
    });
    this.indexLock = run.catch(() => undefined);
    return run;
  }
  async names(): Promise<string[]> {
    const v = await (await this.db()).get("index");
    if (!v) return [];
    try {
      const names = JSON.parse(v) as unknown;
      return Array.isArray(names) ? names.filter((n): n is string => typeof n === "string") : [];
    } catch { return []; } // a damaged index lists nothing; each name is still served by its own record
  }
}

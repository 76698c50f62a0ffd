// The 0-db server: its listeners, store and the parts that serve them — connections (socket
// I/O), the dispatcher, the replication master, the replica link, WAIT and the password throttle —
// and what ties them together: flushes releasing replies, failed writes, session re-checks.
import * as fs from "node:fs";
import * as net from "node:net";
import { randomInt } from "node:crypto";
import { connectionBudget, guardServer } from "../runtime/index.js";
import { AuthThrottle } from "./auth-throttle.js";
import { Client } from "./client.js";
import { Connections, canLendBuffer } from "./connection.js";
import { Dispatcher } from "./dispatch.js";
import type { Logger } from "./log.js";
import { ReplicationMaster } from "./master.js";
import type { Mode, Namespace } from "./namespace.js";
import { applyFrame } from "./replica-apply.js";
import { ReplicaLink } from "./replica.js";
import { Store } from "./store.js";
import { Waiters } from "./wait.js";

export { Client } from "./client.js";
export { OUT_HIGH_WATER } from "./connection.js";
export { AUTH_DELAY_MS, AUTH_DELAY_MAX_MS } from "./auth-throttle.js";

export interface ServerOptions {
  listen: string;
  port: number;
  socket?: string;
  data: string;
  index: string;
  mode: Mode;
  datasize: number;
  sync: boolean;
  synctime: number;
  admin?: string;
  protect: boolean;
  maxsize: number;
  replicate?: string;           // host:port of a master to follow
  replicatePassword?: string;   // the master's admin password
  syncReplicas: number;         // writes are acknowledged once this many replicas hold them
  log: Logger;
  now?: () => number;
  /** Concurrent client connections (beyond: closed at once). Default: the open-file limit less a reserve. */
  maxConnections?: number;
  /** A connection silent this long is closed (ms); 0 = never, as the real 0-db. */
  idleMs?: number;
  /** Forces the ordinary 'data' read path (tests and CI exercise it; see readPath). */
  plainReads?: boolean;
}

/** Descriptors kept for the server's own files when the connection cap is derived from the limit. */
const FD_RESERVE = 512;

export class Server {
  readonly store: Store;
  readonly stats = { boot: 0, clients: 0, commands: 0, failed: 0, unauthorized: 0 };
  readonly instanceId = randomInt(1, 2 ** 31);
  readonly conns = new Connections(this);
  readonly dispatcher = new Dispatcher(this);
  readonly master = new ReplicationMaster(this);
  readonly waiters = new Waiters(this.conns);
  private readonly throttle = new AuthThrottle();
  private servers: net.Server[] = [];
  private replica: ReplicaLink | null = null;
  private stopping: Promise<void> | null = null;
  onStop: () => void = () => {};
  port = 0;
  loadMs = 0;

  constructor(readonly opts: ServerOptions) {
    const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.store = new Store({
      dataRoot: opts.data, indexRoot: opts.index, datasize: opts.datasize, now, log: opts.log,
      mode: opts.mode, sync: opts.sync, synctime: opts.synctime, maxsize: opts.maxsize,
    });
    this.store.afterFlush = () => this.afterFlush();
    this.store.onWriteFailed = (ns, err) => this.writeFailed(ns, err);
  }

  get clients(): Set<Client> { return this.conns.clients; }
  get mirrors(): Set<Client> { return this.master.mirrors; }
  get commandNames(): Set<string> { return this.dispatcher.names; }
  get isReplica(): boolean { return this.replica !== null; }
  /** How accepted sockets are read: "user-buffer" (one shared read buffer, through Node's private
   *  socket fields) or "data" (the ordinary stream events, when those fields are missing or
   *  ZDB_PLAIN_READS=1 / plainReads asks for it). Logged once at start. */
  get readPath(): "user-buffer" | "data" { return this.conns.readPath; }

  async start(): Promise<void> {
    const t0 = process.hrtime.bigint();
    this.store.open();
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    this.stats.boot = this.store.opts.now();
    let records = 0;
    for (const ns of this.store.namespaces.values()) records += ns.loadStats.records;
    this.opts.log.info({ namespaces: this.store.namespaces.size, records, loadMs: Math.round(loadMs) }, "index loaded");
    this.loadMs = loadMs;
    const limits = { maxConnections: this.opts.maxConnections || connectionBudget(FD_RESERVE), idleMs: this.opts.idleMs ?? 0 };
    const listen = (srv: net.Server, arg: { port: number; host: string } | { path: string }) => new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen(arg, () => { srv.off("error", reject); resolve(); });
      guardServer(srv, limits, this.opts.log);
    });
    if (this.opts.socket) {
      try { fs.unlinkSync(this.opts.socket); } catch { /* no stale socket */ }
      const srv = net.createServer({ pauseOnConnect: true }, (s) => this.conns.accept(s));
      await listen(srv, { path: this.opts.socket });
      this.servers.push(srv);
    }
    if (!this.opts.socket || this.opts.port) {
      const srv = net.createServer({ pauseOnConnect: true }, (s) => this.conns.accept(s));
      await listen(srv, { port: this.opts.port, host: this.opts.listen });
      this.port = (srv.address() as net.AddressInfo).port;
      this.servers.push(srv);
    }
    const plain = this.opts.plainReads === true || process.env.ZDB_PLAIN_READS === "1";
    this.conns.readPath = !plain && this.servers.every(canLendBuffer) ? "user-buffer" : "data";
    if (this.opts.replicate) {
      this.replica = new ReplicaLink(this, this.opts.replicate, this.opts.replicatePassword);
      this.replica.start();
    }
    this.opts.log.info({ listen: this.opts.listen, port: this.port, socket: this.opts.socket, readPath: this.readPath, ...limits }, "0-db ready");
  }

  /** A connection closed. */
  dropped(c: Client): void {
    this.waiters.remove(c);
    this.master.detach(c);
  }

  // ---- replies held for their writes ----------------------------------------------------------

  /** Whether the replies of a client whose last write is mutation `seq` may go out. */
  releasable(seq: number): boolean {
    if (this.store.durableSeq < seq) return false;
    return this.opts.syncReplicas <= 0 || this.master.holding(seq) >= this.opts.syncReplicas;
  }

  private afterFlush(): void {
    this.master.sendFrames();
    this.replica?.afterFlush();
    if (this.conns.holding) this.conns.releaseHeld();
  }

  /** The store could not write `ns`'s pending entries (its files are cut back to the last whole
   *  entry): every reply to those writes becomes an error, the namespace is re-read from disk,
   *  and mirrors (or this replica's link) start over, resynchronising by record counts. */
  private writeFailed(ns: Namespace, err: unknown): void {
    this.opts.log.error({ ns: ns.name, err: err instanceof Error ? err.message : String(err) }, "write to disk failed; refusing the writes of this batch");
    this.conns.refuseWrites(ns);
    let fresh: Namespace | null = null;
    try { fresh = this.store.reload(ns.name); } catch (e) {
      this.opts.log.error({ ns: ns.name, err: e instanceof Error ? e.message : String(e) }, "re-reading the namespace failed; retrying");
      setTimeout(() => { if (this.store.get(ns.name) === ns) this.writeFailed(ns, err); }, 500).unref();
    }
    if (fresh) for (const c of this.clients) if (c.ns === ns) c.ns = fresh;
    if (this.mirrors.size) this.master.restartMirrors();
    this.replica?.restart();
  }

  // ---- what commands call --------------------------------------------------------------------

  mutated(c: Client | null, ns: Namespace, op: "RSET" | "RDEL", key: Buffer, value: Buffer, ts: number): void {
    this.master.mutated(c, ns, op, key, value, ts);
  }

  mutatedNs(c: Client | null, op: "RNS" | "RNSDEL" | "RFLUSH", ns: Namespace): void {
    this.master.mutatedNs(c, op, ns);
  }

  startMirror(c: Client, have: Map<string, number>): void { this.master.attach(c, have); }

  mirrorAck(c: Client, seq: number): void {
    if (this.master.ack(c, seq) && this.conns.holding) this.conns.releaseHeld();
  }

  applyFrame(op: string, nsName: string, a: Buffer[]): void { applyFrame(this, op, nsName, a); }

  addWaiter(c: Client, target: string, timeout: number): void { this.waiters.add(c, target, timeout); }

  /** A wrong password: this connection answers (and reads) nothing more until the delay passed. */
  authFailed(c: Client): void {
    this.stats.unauthorized++;
    this.conns.hold(c, this.throttle.failed(c.socket.remoteAddress ?? "local"));
  }

  authSucceeded(c: Client): void { this.throttle.succeeded(c.socket.remoteAddress ?? "local"); }

  /** After a namespace's password or public flag changed (or it was deleted or reloaded): every
   *  session in it gets what a fresh SELECT with the same password would give now. One that would
   *  be refused is disconnected (it must SELECT again, with the right password), not moved to the
   *  default namespace: its next write must not land somewhere else without it knowing. */
  recheckSessions(ns: Namespace, replacement: Namespace | null = ns): void {
    for (const c of this.clients) {
      if (c.ns !== ns || c.master) continue;
      if (!replacement) { this.conns.endSession(c); continue; }
      c.ns = replacement;
      const st = replacement.settings;
      if (!st.password || c.nsPassword === st.password) c.writable = true;
      else if (st.public) c.writable = false;
      else this.conns.endSession(c);
    }
  }

  dropNamespace(ns: Namespace): void {
    this.recheckSessions(ns, null);
    this.store.remove(ns.name);
  }

  /** RELOAD: the namespace re-read from its files; its sessions follow it. */
  reloadNamespace(ns: Namespace): Namespace {
    const fresh = this.store.reload(ns.name);
    this.recheckSessions(ns, fresh);
    return fresh;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  stopSoon(): void { setImmediate(() => { void this.close().then(() => this.onStop()); }); }

  close(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.replica?.stop();
      try { this.store.flushAll(); } catch (err) { this.opts.log.error({ err }, "final flush failed"); }
      this.conns.destroyAll();
      await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      this.waiters.clear();
      this.store.close();
      if (this.opts.socket) { try { fs.unlinkSync(this.opts.socket); } catch { /* gone */ } }
    })();
    return this.stopping;
  }
}

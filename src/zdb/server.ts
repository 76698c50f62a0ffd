// Connections, dispatch, held replies (sync and sync-replication) and the master side of replication.
import * as fs from "node:fs";
import * as net from "node:net";
import { randomInt } from "node:crypto";
import { InternalError } from "../core/index.js";
import { connectionBudget, guardServer } from "../runtime/index.js";
import { COMMANDS, type Command } from "./commands/index.js";
import { DATA_HEADER_SIZE, FLAG_DELETED } from "./format.js";
import type { Logger } from "./log.js";
import type { Mode, Namespace } from "./namespace.js";
import { type FrameParser, ReplyWriter, RequestReader } from "./resp.js";
import { ExhaustedError } from "../core/index.js";
import { DEFAULT_NS, Store } from "./store.js";
import { ReplicaLink } from "./replica.js";

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

/** Replies queued for one connection beyond this stop the reading of its requests until the
 *  socket drains (pipelined GETs of big values cannot make the server hold gigabytes). */
export const OUT_HIGH_WATER = 4 * 1024 * 1024;
/** Failed AUTH / SELECT-with-password: the error reply waits AUTH_DELAY_MS × 2^(failures-1), at
 *  most AUTH_DELAY_MAX_MS, counted per client address; a success (or 10 minutes) resets it. */
export const AUTH_DELAY_MS = 100;
export const AUTH_DELAY_MAX_MS = 5000;
const AUTH_FORGET_MS = 10 * 60 * 1000;
const AUTH_ADDRESSES = 10_000;
/** Descriptors kept for the server's own files when the connection cap is derived from the limit. */
const FD_RESERVE = 512;

/** One write command's reply in a connection's pending output, so that it can be turned into an
 *  error if the write does not reach the disk. */
interface WriteSpan { start: number; end: number; ns: Namespace }

export const NO_SPACE = "No space left on device";

export class Client {
  static nextId = 1;
  readonly id = Client.nextId++;
  readonly reader = new RequestReader();
  readonly out = new ReplyWriter(4096);
  ns: Namespace | null;
  writable: boolean;
  admin = false;
  master = false;
  nonce: string | null = null;
  name: string | null = null;
  needSeq = 0;
  waiting: { target: string; timer: NodeJS.Timeout } | null = null;
  mirror: { acked: number } | null = null;
  closeAfterReply = false;
  closed = false;
  /** Output above the high-water mark: requests stay unread until the socket drains. */
  blocked = false;
  /** A failed password guess: nothing is answered or read until this timer fires. */
  penalty: NodeJS.Timeout | null = null;
  /** The password this session SELECTed its namespace with (null: none given). */
  nsPassword: string | null = null;
  /** Set by a write command; execute() turns it into a span. */
  wroteNs: Namespace | null = null;
  spans: WriteSpan[] = [];
  constructor(readonly socket: net.Socket, ns: Namespace, writable: boolean) { this.ns = ns; this.writable = writable; }
}

// Reads of every connection land in this one buffer (they are parsed synchronously, and the
// reader copies out what is left of a partial request), instead of a fresh allocation per read.
const READ_BUF = Buffer.allocUnsafe(64 * 1024);

/** The socket fields behind Node's `onread` option (a caller-supplied read buffer and a callback in
 *  place of 'data' events and the stream machinery). Node offers that option only for sockets it
 *  connects, not for those a server accepts, so the accepted socket gets the same fields set here;
 *  null (the ordinary 'data' path) if this Node does not have them. */
function userBufferFields(socket: net.Socket): { buffer: symbol; callback: symbol } | null {
  const syms = Object.getOwnPropertySymbols(socket);
  const buffer = syms.find((x) => x.description === "kBuffer");
  const callback = syms.find((x) => x.description === "kBufferCb");
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  if (!buffer || !callback || typeof handle?.useUserBuffer !== "function") return null;
  return { buffer, callback };
}

/** Whether sockets this server accepts will take a lent read buffer: the socket fields exist (an
 *  unconnected socket has them too) and the listening handle's stream type has useUserBuffer. */
function canLendBuffer(srv: net.Server): boolean {
  const syms = Object.getOwnPropertySymbols(new net.Socket()).map((x) => x.description);
  const handle = (srv as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  return syms.includes("kBuffer") && syms.includes("kBufferCb") && typeof handle?.useUserBuffer === "function";
}

function cmdHash(b: Buffer, start: number, len: number): number {
  let h = len;
  for (let i = start, e = start + len; i < e; i++) {
    let ch = b[i];
    if (ch >= 97 && ch <= 122) ch -= 32;
    h = (Math.imul(h, 31) + ch) | 0;
  }
  return h;
}

/** Case-insensitive comparison of a request's command name with an upper-case ASCII name, without
 *  building a string. */
function sameName(b: Buffer, start: number, len: number, upper: string): boolean {
  if (len !== upper.length) return false;
  for (let i = 0; i < len; i++) {
    let ch = b[start + i];
    if (ch >= 97 && ch <= 122) ch -= 32;
    if (ch !== upper.charCodeAt(i)) return false;
  }
  return true;
}

export class Server {
  readonly store: Store;
  readonly clients = new Set<Client>();
  readonly mirrors = new Set<Client>();
  readonly stats = { boot: 0, clients: 0, commands: 0, failed: 0, unauthorized: 0 };
  readonly instanceId = randomInt(1, 2 ** 31);
  readonly commandNames = new Set(COMMANDS.map((c) => c.name));
  private readonly table = new Map<number, Command>();
  private readonly heldClients = new Set<Client>();
  private readonly waiters = new Set<Client>();
  private readonly repl = new ReplyWriter(64 * 1024);
  private servers: net.Server[] = [];
  private replica: ReplicaLink | null = null;
  private stopping: Promise<void> | null = null;
  onStop: () => void = () => {};
  port = 0;

  constructor(readonly opts: ServerOptions) {
    const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
    this.store = new Store({
      dataRoot: opts.data, indexRoot: opts.index, datasize: opts.datasize, now, log: opts.log,
      mode: opts.mode, sync: opts.sync, synctime: opts.synctime, maxsize: opts.maxsize,
    });
    for (const c of COMMANDS) {
      const h = cmdHash(Buffer.from(c.name, "latin1"), 0, c.name.length);
      if (this.table.has(h)) throw new InternalError(`command hash collision: ${c.name}`);
      this.table.set(h, c);
    }
    this.store.afterFlush = () => this.afterFlush();
    this.store.onWriteFailed = (ns, err) => this.writeFailed(ns, err);
  }

  /** How accepted sockets are read: "user-buffer" (one shared read buffer, through Node's private
   *  socket fields) or "data" (the ordinary stream events, when those fields are missing or
   *  ZDB_PLAIN_READS / plainReads asks for it). Logged once at start. */
  readPath: "user-buffer" | "data" = "data";

  get isReplica(): boolean { return this.replica !== null; }

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
      const srv = net.createServer({ pauseOnConnect: true }, (s) => this.accept(s));
      await listen(srv, { path: this.opts.socket });
      this.servers.push(srv);
    }
    if (!this.opts.socket || this.opts.port) {
      const srv = net.createServer({ pauseOnConnect: true }, (s) => this.accept(s));
      await listen(srv, { port: this.opts.port, host: this.opts.listen });
      this.port = (srv.address() as net.AddressInfo).port;
      this.servers.push(srv);
    }
    this.readPath = !this.plain && this.servers.every(canLendBuffer) ? "user-buffer" : "data";
    if (this.opts.replicate) {
      this.replica = new ReplicaLink(this, this.opts.replicate, this.opts.replicatePassword);
      this.replica.start();
    }
    this.opts.log.info({ listen: this.opts.listen, port: this.port, socket: this.opts.socket, readPath: this.readPath, ...limits }, "0-db ready");
  }
  loadMs = 0;
  private get plain(): boolean { return this.opts.plainReads === true || process.env.ZDB_PLAIN_READS === "1"; }

  private accept(socket: net.Socket): void {
    const def = this.store.get(DEFAULT_NS)!;
    const c = new Client(socket, def, !this.opts.protect);
    this.clients.add(c);
    this.stats.clients++;
    socket.setNoDelay(true);
    socket.on("drain", () => this.drained(c));
    socket.on("error", () => { /* reset by peer: the close handler cleans up */ });
    socket.on("close", () => this.drop(c));
    // The socket was accepted paused (pauseOnConnect), so reads start only once a path is chosen.
    const f = this.readPath === "user-buffer" ? userBufferFields(socket) : null;
    if (f) {
      const s = socket as unknown as Record<symbol, unknown> & { _handle: { useUserBuffer(b: Buffer): void } };
      s[f.buffer] = READ_BUF;
      s[f.callback] = (nread: number) => { c.reader.feed(READ_BUF, true, nread); this.process(c); c.reader.release(); };
      s._handle.useUserBuffer(READ_BUF);
    } else {
      socket.on("data", (chunk: Buffer) => { c.reader.feed(chunk); this.process(c); });
    }
    socket.resume();
  }

  private drop(c: Client): void {
    c.closed = true;
    this.clients.delete(c);
    this.heldClients.delete(c);
    if (c.waiting) { clearTimeout(c.waiting.timer); this.waiters.delete(c); c.waiting = null; }
    if (c.penalty) { clearTimeout(c.penalty); c.penalty = null; }
    if (this.mirrors.delete(c)) this.opts.log.info({ client: c.id }, "mirror disconnected");
  }

  private process(c: Client): void {
    const r = c.reader;
    while (!c.waiting && !c.penalty && !c.closeAfterReply) {
      // Replies pile up faster than the client takes them: stop here, go on when it drains.
      if (c.out.len + c.socket.writableLength > OUT_HIGH_WATER) { c.blocked = true; break; }
      const st = r.next();
      if (st === 0) break;
      if (st === 2) { c.out.error(r.error); this.stats.failed++; continue; }
      if (st < 0) {
        c.out.error(r.error);
        this.stats.failed++;
        c.closeAfterReply = true;
        this.deliver(c);
        c.socket.end();
        return;
      }
      this.execute(c, r.frame);
    }
    this.deliver(c);
    if (c.blocked) c.socket.pause();
  }

  private drained(c: Client): void {
    if (c.closed) return;
    if (c.blocked) {
      if (c.socket.writableLength > OUT_HIGH_WATER / 2) return;
      c.blocked = false;
      this.process(c);
    }
    if (!c.blocked && !c.waiting && !c.penalty) c.socket.resume();
  }

  private execute(c: Client, f: FrameParser): void {
    this.stats.commands++;
    if (c.ns === null) {
      c.out.error("Your active namespace is not available anymore (probably removed).");
      c.closeAfterReply = true;
      return;
    }
    const src = f.src, start = f.starts[0], len = f.ends[0] - start;
    const cmd = this.table.get(cmdHash(src, start, len));
    if (!cmd || !sameName(src, start, len, cmd.name)) {
      this.stats.failed++;
      c.out.error("Command not supported");
      return;
    }
    const mark = c.out.len;
    c.wroteNs = null;
    try {
      if (cmd.fast) cmd.fast(this, c, f); else cmd.handler(this, c, f.args, f.argc);
    } catch (err) {
      c.out.len = mark;
      if (err instanceof ExhaustedError) { c.out.error(NO_SPACE); this.opts.log.warn({ cmd: cmd.name, err: err.message }, "write refused"); }
      else { this.opts.log.error({ err, cmd: cmd.name }, "command failed"); c.out.error("Internal Error"); }
    }
    if (c.wroteNs) { c.spans.push({ start: mark, end: c.out.len, ns: c.wroteNs }); c.wroteNs = null; }
    if (this.waiters.size && cmd.name !== "WAIT") this.notifyWaiters(c, cmd.name);
  }

  private releasable(seq: number): boolean {
    if (this.store.durableSeq < seq) return false;
    if (this.opts.syncReplicas <= 0) return true;
    let n = 0;
    for (const m of this.mirrors) if (m.mirror && m.mirror.acked >= seq) n++;
    return n >= this.opts.syncReplicas;
  }

  /** Sends what the client's commands produced, or holds it until its writes are on disk (and,
   *  with --sync-replicas, on enough replicas). */
  private deliver(c: Client): void {
    if (c.out.len === 0 || c.penalty) return;
    if (c.needSeq > 0 && !this.releasable(c.needSeq)) { this.heldClients.add(c); return; }
    c.needSeq = 0;
    c.spans.length = 0;
    if (c.closed) { c.out.len = 0; return; }
    // The reply goes out straight from the connection's buffer; it is reused unless the socket
    // could not send it at once and still holds it.
    c.socket.write(c.out.view());
    c.out.sent(c.socket.writableLength > 0);
    if (c.socket.writableLength > OUT_HIGH_WATER) { c.blocked = true; c.socket.pause(); }
    if (c.closeAfterReply) c.socket.end();
  }

  private releaseHeld(): void {
    for (const c of this.heldClients) {
      if (!this.releasable(c.needSeq)) continue;
      this.heldClients.delete(c);
      this.deliver(c);
    }
  }

  private afterFlush(): void {
    if (this.repl.len > 0) {
      const frames = this.repl.take();
      for (const m of this.mirrors) if (!m.closed) m.socket.write(frames);
    }
    this.replica?.afterFlush();
    if (this.heldClients.size) this.releaseHeld();
  }

  // ---- a write that did not reach the disk ----------------------------------------------------

  /** The store could not write `ns`'s pending entries (its files are cut back to the last whole
   *  entry): the namespace is re-read from disk, every reply to those writes becomes an error, and
   *  mirrors start over (they resynchronise by record counts). */
  private writeFailed(ns: Namespace, err: unknown): void {
    this.opts.log.error({ ns: ns.name, err: err instanceof Error ? err.message : String(err) }, "write to disk failed; refusing the writes of this batch");
    for (const c of this.clients) if (c.spans.length) this.refuseSpans(c, ns);
    let fresh: Namespace | null = null;
    try { fresh = this.store.reload(ns.name); } catch (e) {
      this.opts.log.error({ ns: ns.name, err: e instanceof Error ? e.message : String(e) }, "re-reading the namespace failed; retrying");
      setTimeout(() => { if (this.store.get(ns.name) === ns) this.writeFailed(ns, err); }, 500).unref();
    }
    if (fresh) for (const c of this.clients) if (c.ns === ns) c.ns = fresh;
    if (this.mirrors.size) {
      this.repl.len = 0;
      for (const m of this.mirrors) m.socket.destroy();
    }
    this.replica?.restart();
  }

  private refuseSpans(c: Client, ns: Namespace): void {
    if (!c.spans.some((sp) => sp.ns === ns)) return;
    const old = c.out.take();
    const err = Buffer.from(`-${NO_SPACE}\r\n`);
    const kept: WriteSpan[] = [];
    let at = 0;
    for (const sp of c.spans) {
      c.out.rawBytes(old.subarray(at, sp.start));
      if (sp.ns === ns) c.out.rawBytes(err);
      else { const start = c.out.len; c.out.rawBytes(old.subarray(sp.start, sp.end)); kept.push({ start, end: c.out.len, ns: sp.ns }); }
      at = sp.end;
    }
    c.out.rawBytes(old.subarray(at));
    c.spans = kept;
    this.stats.failed++;
  }

  // ---- sessions and passwords ------------------------------------------------------------------

  /** After a namespace's password or public flag changed (or it was deleted or reloaded): every
   *  session in it gets what a fresh SELECT with the same password would give now. One that would
   *  be refused is disconnected (it must SELECT again, with the right password), not moved to the
   *  default namespace: its next write must not land somewhere else without it knowing. */
  recheckSessions(ns: Namespace, replacement: Namespace | null = ns): void {
    for (const c of this.clients) {
      if (c.ns !== ns || c.master) continue;
      if (!replacement) { this.endSession(c); continue; }
      c.ns = replacement;
      const st = replacement.settings;
      if (!st.password || c.nsPassword === st.password) c.writable = true;
      else if (st.public) c.writable = false;
      else this.endSession(c);
    }
  }

  private endSession(c: Client): void {
    c.ns = null;
    c.closeAfterReply = true;
    // What it was answered already goes out first (after the command running now, which may be
    // its own), then the connection ends; nothing more of it is executed.
    setImmediate(() => {
      if (c.closed) return;
      this.deliver(c);
      if (!this.heldClients.has(c)) c.socket.end();
    });
  }

  private readonly authFailures = new Map<string, { fails: number; last: number }>();

  /** A wrong password: this connection answers (and reads) nothing more until the delay passed. */
  authFailed(c: Client): void {
    const addr = c.socket.remoteAddress ?? "local";
    const now = Date.now();
    let f = this.authFailures.get(addr);
    if (!f || now - f.last > AUTH_FORGET_MS) f = { fails: 0, last: now };
    f.fails++; f.last = now;
    this.authFailures.delete(addr); this.authFailures.set(addr, f); // most recent last
    if (this.authFailures.size > AUTH_ADDRESSES) this.authFailures.delete(this.authFailures.keys().next().value!);
    const delay = Math.min(AUTH_DELAY_MAX_MS, AUTH_DELAY_MS * 2 ** Math.min(f.fails - 1, 16));
    this.stats.unauthorized++;
    c.penalty = setTimeout(() => {
      c.penalty = null;
      if (c.closed) return;
      this.deliver(c);
      this.process(c);
      if (!c.blocked) c.socket.resume();
    }, delay);
    c.socket.pause();
  }

  authSucceeded(c: Client): void {
    this.authFailures.delete(c.socket.remoteAddress ?? "local");
  }

  // ---- mutations and replication -------------------------------------------------------------

  private seqMark(c: Client | null): number {
    const seq = ++this.store.writeSeq;
    // A write is answered only once it is written (and fsynced with --sync): a full disk then
    // turns its reply into an error instead of losing an acknowledged key.
    if (c) c.needSeq = seq;
    this.store.schedule();
    return seq;
  }

  private frameHead(args: number, seq: number, op: string, ns: string): void {
    const w = this.repl;
    w.array(args); w.bulkString("R"); w.bulkString(String(seq)); w.bulkString(op); w.bulkString(ns);
  }

  mutated(c: Client | null, ns: Namespace, op: "RSET" | "RDEL", key: Buffer, value: Buffer, ts: number): void {
    const seq = this.seqMark(c);
    if (c) c.wroteNs = ns;
    if (this.mirrors.size === 0) return;
    this.frameHead(7, seq, op, ns.name);
    this.repl.bulk(key); this.repl.bulk(value); this.repl.bulkString(String(ts));
  }

  mutatedNs(c: Client | null, op: "RNS" | "RNSDEL" | "RFLUSH", ns: Namespace): void {
    const seq = this.seqMark(c);
    if (this.mirrors.size === 0) return;
    this.frameHead(5, seq, op, ns.name);
    this.repl.bulkString(op === "RNS" ? JSON.stringify(ns.settings) : "");
  }

  /** Sends a new mirror everything it lacks (by record count per namespace), then streams live frames. */
  startMirror(c: Client, have: Map<string, number>): void {
    const w = c.out;
    const frame = (n: number, op: string, ns: string) => {
      w.array(n); w.bulkString("R"); w.bulkString("0"); w.bulkString(op); w.bulkString(ns);
    };
    for (const ns of this.store.namespaces.values()) {
      frame(5, "RNS", ns.name); w.bulkString(JSON.stringify(ns.settings));
      let skip = have.get(ns.name) ?? 0;
      if (skip > ns.records) { frame(5, "RFLUSH", ns.name); w.bulkString(""); skip = 0; }
      for (let f = ns.firstFileId(); f <= ns.fileId; f++) {
        for (const { rec } of ns.fileRecords(f)) {
          if (skip > 0) { skip--; continue; }
          const value = ns.readBytes(f, rec.dataOff + DATA_HEADER_SIZE + rec.key.length, rec.vlen) ?? Buffer.alloc(0);
          frame(7, rec.flags & FLAG_DELETED ? "RDEL" : "RSET", ns.name);
          w.bulk(rec.key); w.bulk(value); w.bulkString(String(rec.ts));
        }
      }
    }
    for (const name of have.keys()) if (!this.store.get(name)) { frame(5, "RNSDEL", name); w.bulkString(""); }
    // A marker at the current sequence lets the replica acknowledge that the snapshot is applied.
    w.array(5); w.bulkString("R"); w.bulkString(String(this.store.writeSeq)); w.bulkString("RNOP"); w.bulkString(""); w.bulkString("");
    c.mirror = { acked: 0 };
    c.socket.setTimeout(0); // a quiet mirror is not idle
    this.mirrors.add(c);
    this.opts.log.info({ client: c.id }, "mirror attached");
  }

  mirrorAck(c: Client, seq: number): void {
    if (!c.mirror || !(seq > c.mirror.acked)) return;
    c.mirror.acked = seq;
    if (this.heldClients.size) this.releaseHeld();
  }

  /** Applies one replicated frame (replica side). */
  applyFrame(op: string, nsName: string, a: Buffer[]): void {
    let ns = this.store.get(nsName);
    switch (op) {
      case "RNS": {
        if (!ns) ns = this.store.create(nsName);
        ns.settings = { ...ns.settings, ...(JSON.parse(a[4].toString("utf8")) as object) };
        ns.saveSettings();
        this.recheckSessions(ns);
        this.mutatedNs(null, "RNS", ns);
        return;
      }
      case "RNSDEL": if (ns && nsName !== DEFAULT_NS) { this.dropNamespace(ns); this.mutatedNs(null, "RNSDEL", ns); } return;
      case "RFLUSH": if (ns) { ns.reset(); this.mutatedNs(null, "RFLUSH", ns); } return;
      case "RSET": case "RDEL": {
        if (!ns) ns = this.store.create(nsName);
        const ts = Number(a[6].toString("latin1"));
        const flags = op === "RDEL" ? FLAG_DELETED : 0;
        ns.append(a[4], a[5], flags, ts, flags ? 0 : undefined);
        this.mutated(null, ns, op, a[4], a[5], ts);
        return;
      }
      default: return;
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

  // ---- WAIT ------------------------------------------------------------------------------------

  addWaiter(c: Client, target: string, timeout: number): void {
    const timer = setTimeout(() => {
      if (!c.waiting) return;
      this.waiters.delete(c); c.waiting = null;
      c.out.error("Timeout");
      this.deliver(c);
      this.process(c);
    }, timeout);
    c.waiting = { target, timer };
    this.waiters.add(c);
  }

  private notifyWaiters(by: Client, name: string): void {
    for (const w of this.waiters) {
      if (w === by || w.ns !== by.ns || !w.waiting) continue;
      if (w.waiting.target !== "*" && w.waiting.target !== name) continue;
      clearTimeout(w.waiting.timer);
      this.waiters.delete(w); w.waiting = null;
      w.out.simple(name);
      this.deliver(w);
      setImmediate(() => this.process(w));
    }
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  stopSoon(): void { setImmediate(() => { void this.close().then(() => this.onStop()); }); }

  close(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      this.replica?.stop();
      try { this.store.flushAll(); } catch (err) { this.opts.log.error({ err }, "final flush failed"); }
      for (const c of this.clients) { c.socket.destroy(); }
      await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      for (const c of this.waiters) if (c.waiting) clearTimeout(c.waiting.timer);
      this.store.close();
      if (this.opts.socket) { try { fs.unlinkSync(this.opts.socket); } catch { /* gone */ } }
    })();
    return this.stopping;
  }
}

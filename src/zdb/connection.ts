// Socket I/O: accepting, reading requests (through one shared read buffer where Node allows it),
// sending replies or holding them until their writes are on disk, and backpressure both ways.
import * as net from "node:net";
import { Client, NO_SPACE } from "./client.js";
import type { Namespace } from "./namespace.js";
import type { Server } from "./server.js";
import { DEFAULT_NS } from "./store.js";

/** Replies queued for one connection beyond this stop the reading of its requests until the
 *  socket drains (pipelined GETs of big values cannot make the server hold gigabytes). */
export const OUT_HIGH_WATER = 4 * 1024 * 1024;

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
export function canLendBuffer(srv: net.Server): boolean {
  const syms = Object.getOwnPropertySymbols(new net.Socket()).map((x) => x.description);
  const handle = (srv as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  return syms.includes("kBuffer") && syms.includes("kBufferCb") && typeof handle?.useUserBuffer === "function";
}

export class Connections {
  readonly clients = new Set<Client>();
  /** Clients whose replies wait for their writes (see releasable). */
  private readonly held = new Set<Client>();
  /** "user-buffer" or "data": how accepted sockets are read (chosen by the server at start). */
  readPath: "user-buffer" | "data" = "data";

  constructor(private readonly server: Server) {}

  accept(socket: net.Socket): void {
    const s = this.server;
    const c = new Client(socket, s.store.get(DEFAULT_NS)!, !s.opts.protect);
    this.clients.add(c);
    s.stats.clients++;
    socket.setNoDelay(true);
    socket.on("drain", () => this.drained(c));
    socket.on("error", () => { /* reset by peer: the close handler cleans up */ });
    socket.on("close", () => this.drop(c));
    // The socket was accepted paused (pauseOnConnect), so reads start only once a path is chosen.
    const f = this.readPath === "user-buffer" ? userBufferFields(socket) : null;
    if (f) {
      const sock = socket as unknown as Record<symbol, unknown> & { _handle: { useUserBuffer(b: Buffer): void } };
      sock[f.buffer] = READ_BUF;
      sock[f.callback] = (nread: number) => { c.reader.feed(READ_BUF, true, nread); this.process(c); c.reader.release(); };
      sock._handle.useUserBuffer(READ_BUF);
    } else {
      socket.on("data", (chunk: Buffer) => { c.reader.feed(chunk); this.process(c); });
    }
    socket.resume();
  }

  private drop(c: Client): void {
    c.closed = true;
    this.clients.delete(c);
    this.held.delete(c);
    if (c.penalty) { clearTimeout(c.penalty); c.penalty = null; }
    this.server.dropped(c);
  }

  /** Executes the complete requests the client has sent, as long as its replies keep up. */
  process(c: Client): void {
    const r = c.reader;
    const stats = this.server.stats;
    while (!c.waiting && !c.penalty && !c.closeAfterReply) {
      // Replies pile up faster than the client takes them: stop here, go on when it drains.
      if (c.out.len + c.socket.writableLength > OUT_HIGH_WATER) { c.blocked = true; break; }
      const st = r.next();
      if (st === 0) break;
      if (st === 2) { c.out.error(r.error); stats.failed++; continue; }
      if (st < 0) {
        c.out.error(r.error);
        stats.failed++;
        c.closeAfterReply = true;
        // The replies before it (perhaps held for their writes) go out first; deliver ends the
        // connection once it has sent them.
        this.deliver(c);
        return;
      }
      this.server.dispatcher.execute(c, r.frame);
    }
    this.deliver(c);
    if (!c.blocked) return;
    c.socket.pause();
    // The socket may have taken all of it at once: then no 'drain' will come, so the client goes
    // on after the other clients' turn instead (a write that did not go through gets 'drain').
    if (c.socket.writableLength <= OUT_HIGH_WATER / 2) setImmediate(() => this.drained(c));
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

  /** Sends what the client's commands produced, or holds it until its writes are on disk (and,
   *  with --sync-replicas, on enough replicas). */
  deliver(c: Client): void {
    if (c.out.len === 0 || c.penalty) return;
    if (c.needSeq > 0 && !this.server.releasable(c.needSeq)) { this.held.add(c); return; }
    c.needSeq = 0;
    c.spans.clear();
    if (c.closed) { c.out.len = 0; return; }
    // The reply goes out straight from the connection's buffer; it is reused unless the socket
    // could not send it at once and still holds it.
    c.socket.write(c.out.view());
    c.out.sent(c.socket.writableLength > 0);
    if (c.socket.writableLength > OUT_HIGH_WATER) { c.blocked = true; c.socket.pause(); }
    if (c.closeAfterReply) c.socket.end();
  }

  releaseHeld(): void {
    for (const c of this.held) {
      if (!this.server.releasable(c.needSeq)) continue;
      this.held.delete(c);
      this.deliver(c);
    }
  }

  get holding(): number { return this.held.size; }

  /** Turns the held replies to writes into `ns` into errors (those writes did not reach the disk). */
  refuseWrites(ns: Namespace): void {
    for (const c of this.clients) if (c.spans.length) this.refuseSpans(c, ns);
  }

  private refuseSpans(c: Client, ns: Namespace): void {
    const sp = c.spans;
    if (!sp.ns.includes(ns)) return;
    const old = c.out.take();
    const err = Buffer.from(`-${NO_SPACE}\r\n`);
    const at = sp.at.slice(), spaces = sp.ns.slice();
    sp.clear();
    let pos = 0;
    for (let i = 0; i < spaces.length; i++) {
      const start = at[2 * i], end = at[2 * i + 1];
      c.out.rawBytes(old.subarray(pos, start));
      if (spaces[i] === ns) c.out.rawBytes(err);
      else { const s = c.out.len; c.out.rawBytes(old.subarray(start, end)); sp.push(s, c.out.len, spaces[i]); }
      pos = end;
    }
    c.out.rawBytes(old.subarray(pos));
    this.server.stats.failed++;
  }

  /** Ends a session: what it was answered goes out first (after the command running now, which
   *  may be its own), then the connection closes; nothing more of it is executed. */
  endSession(c: Client): void {
    c.ns = null;
    c.closeAfterReply = true;
    setImmediate(() => {
      if (c.closed) return;
      this.deliver(c);
      if (!this.held.has(c)) c.socket.end();
    });
  }

  /** Reads and answers nothing of this client for `ms` (a wrong password's delay). */
  hold(c: Client, ms: number): void {
    c.penalty = setTimeout(() => {
      c.penalty = null;
      if (c.closed) return;
      this.deliver(c);
      this.process(c);
      if (!c.blocked) c.socket.resume();
    }, ms);
    c.socket.pause();
  }

  destroyAll(): void { for (const c of this.clients) c.socket.destroy(); }
}

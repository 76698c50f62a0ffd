// The master side of replication: every mutation gets a sequence number (the unit of
// acknowledgement), is framed into the stream for the attached mirrors after each flush, and a
// new mirror first gets what it lacks (by record count per namespace).
import type { Client } from "./client.js";
import { DATA_HEADER_SIZE, FLAG_DELETED } from "./format.js";
import type { Namespace } from "./namespace.js";
import { ReplyWriter } from "./resp.js";
import type { Server } from "./server.js";

export class ReplicationMaster {
  readonly mirrors = new Set<Client>();
  private readonly repl = new ReplyWriter(64 * 1024);

  constructor(private readonly server: Server) {}

  private seqMark(c: Client | null): number {
    const store = this.server.store;
    const seq = ++store.writeSeq;
    // A write is answered only once it is written (and fsynced with --sync): a full disk then
    // turns its reply into an error instead of losing an acknowledged key.
    if (c) c.needSeq = seq;
    store.schedule();
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

  /** After a flush: the frames of what was written go to every mirror. */
  sendFrames(): void {
    if (this.repl.len === 0) return;
    const frames = this.repl.take();
    for (const m of this.mirrors) if (!m.closed) m.socket.write(frames);
  }

  /** A write failed and its frames are void: mirrors start over (they resend their counts). */
  restartMirrors(): void {
    this.repl.len = 0;
    for (const m of this.mirrors) m.socket.destroy();
  }

  /** How many mirrors hold mutation `seq` (for --sync-replicas). */
  holding(seq: number): number {
    let n = 0;
    for (const m of this.mirrors) if (m.mirror && m.mirror.acked >= seq) n++;
    return n;
  }

  /** Sends a new mirror everything it lacks (by record count per namespace), then streams live frames. */
  attach(c: Client, have: Map<string, number>): void {
    const store = this.server.store;
    const w = c.out;
    const frame = (n: number, op: string, ns: string) => {
      w.array(n); w.bulkString("R"); w.bulkString("0"); w.bulkString(op); w.bulkString(ns);
    };
    for (const ns of store.namespaces.values()) {
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
    for (const name of have.keys()) if (!store.get(name)) { frame(5, "RNSDEL", name); w.bulkString(""); }
    // A marker at the current sequence lets the replica acknowledge that the snapshot is applied.
    w.array(5); w.bulkString("R"); w.bulkString(String(store.writeSeq)); w.bulkString("RNOP"); w.bulkString(""); w.bulkString("");
    c.mirror = { acked: 0 };
    c.socket.setTimeout(0); // a quiet mirror is not idle
    this.mirrors.add(c);
    this.server.opts.log.info({ client: c.id }, "mirror attached");
  }

  /** A mirror acknowledged mutations up to `seq`: replies waiting for replicas may go. */
  ack(c: Client, seq: number): boolean {
    if (!c.mirror || !(seq > c.mirror.acked)) return false;
    c.mirror.acked = seq;
    return true;
  }

  detach(c: Client): void {
    if (this.mirrors.delete(c)) this.server.opts.log.info({ client: c.id }, "mirror disconnected");
  }
}

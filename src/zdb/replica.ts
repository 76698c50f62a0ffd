// The replica side: follows a master's append stream (MIRROR) and acknowledges what it has written.
import * as net from "node:net";
import { MAX_ARGS, decodeReply, encodeCommand, RequestReader, RespError } from "./resp.js";

function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}
import type { Server } from "./server.js";

export class ReplicaLink {
  private socket: net.Socket | null = null;
  private stopped = false;
  private lastSeq = 0;
  private acked = 0;
  private retry: NodeJS.Timeout | null = null;

  constructor(private readonly server: Server, private readonly target: string, private readonly password?: string) {}

  start(): void { this.connect(); }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
  }

  /** Starts over (after a local write failed): the master resends from our record counts. */
  restart(): void { this.socket?.destroy(); }

  private connect(): void {
    if (this.stopped) return;
    const i = this.target.lastIndexOf(":");
    const host = i > 0 ? this.target.slice(0, i) : "127.0.0.1";
    const port = Number(i >= 0 ? this.target.slice(i + 1) : this.target);
    const log = this.server.opts.log;
    const sock = net.connect({ host, port });
    this.socket = sock;
    sock.setNoDelay(true);
    const reader = new RequestReader();
    let handshake = Buffer.alloc(0);
    let expected = this.password ? 2 : 1;
    sock.on("connect", () => {
      const have: string[] = [];
      for (const ns of this.server.store.namespaces.values()) have.push(ns.name, String(ns.records));
      if (this.password) sock.write(encodeCommand(["AUTH", this.password]));
      const counts = have.length < MAX_ARGS - 1 ? have : [JSON.stringify(Object.fromEntries(pairs(have)))];
      sock.write(encodeCommand(["MIRROR", ...counts]));
      this.acked = 0; this.lastSeq = 0;
      log.info({ master: this.target }, "replica connected to master");
    });
    sock.on("data", (chunk: Buffer) => {
      if (expected > 0) {
        handshake = Buffer.concat([handshake, chunk]);
        let pos = 0;
        while (expected > 0) {
          const r = decodeReply(handshake, pos);
          if (!r) break;
          if (r[0] instanceof RespError) {
            log.error({ master: this.target, error: r[0].message }, "master refused replication");
            sock.destroy();
            return;
          }
          pos = r[1]; expected--;
        }
        if (expected > 0) { handshake = handshake.subarray(pos); return; }
        chunk = handshake.subarray(pos);
        if (chunk.length === 0) return;
      }
      reader.feed(chunk);
      let st = reader.next();
      for (; st > 0; st = reader.next()) {
        if (st === 2) continue;
        const a = reader.frame.args;
        if (reader.frame.argc < 5) continue;
        const seq = Number(a[1].toString("latin1"));
        try {
          this.server.applyFrame(a[2].toString("latin1"), a[3].toString("utf8"), a);
        } catch (err) {
          log.error({ err }, "replication frame failed");
        }
        if (seq > this.lastSeq) this.lastSeq = seq;
      }
      if (st < 0) { log.error({ error: reader.error }, "bad replication stream"); sock.destroy(); return; }
      this.server.store.schedule();
    });
    sock.on("error", () => { /* close follows */ });
    sock.on("close", () => {
      if (this.socket === sock) this.socket = null;
      if (this.stopped) return;
      this.retry = setTimeout(() => this.connect(), 200);
    });
  }

  /** Called once the replica's own writes of this turn are on disk. */
  afterFlush(): void {
    if (this.socket && this.lastSeq > this.acked) {
      this.acked = this.lastSeq;
      this.socket.write(encodeCommand(["ACK", String(this.lastSeq)]));
    }
  }
}

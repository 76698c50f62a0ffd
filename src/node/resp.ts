// A small RESP client for the node's admin talk with its own 0-db (NSNEW, NSSET, NSDEL, …).
// Replies come back in order, so a FIFO of pending commands is all the state it needs.
import { connect, type Socket } from "node:net";

export type Reply = string | number | null | Buffer | Reply[] | RespError;

export class RespError extends Error {}

type Parsed = { value: Reply; end: number } | null;

function parse(buf: Buffer, pos: number): Parsed {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf("\r\n", pos);
  if (nl < 0) return null;
  const line = buf.toString("utf8", pos + 1, nl);
  switch (buf[pos]) {
    case 0x2b: return { value: line, end: nl + 2 };
    case 0x2d: return { value: new RespError(line), end: nl + 2 };
    case 0x3a: return { value: Number(line), end: nl + 2 };
    case 0x24: {
      const n = Number(line);
      if (n < 0) return { value: null, end: nl + 2 };
      if (buf.length < nl + 2 + n + 2) return null;
      return { value: buf.subarray(nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
    }
    case 0x2a: {
      const n = Number(line);
      if (n < 0) return { value: null, end: nl + 2 };
      const items: Reply[] = [];
      let p = nl + 2;
      for (let i = 0; i < n; i++) {
        const r = parse(buf, p);
        if (!r) return null;
        items.push(r.value);
        p = r.end;
      }
      return { value: items, end: p };
    }
    default: throw new Error(`unexpected RESP byte ${buf[pos]}`);
  }
}

export function encodeCommand(args: Array<string | number | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

export class RespClient {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  private closedErr?: Error;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (d) => this.onData(d));
    const fail = (err: Error) => {
      this.closedErr = err;
      for (const p of this.pending.splice(0)) p.reject(err);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection to 0-db closed")));
  }

  static open(host: string, port: number, timeoutMs = 5000): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`connecting to 0-db at ${host}:${port} timed out`)); }, timeoutMs);
      s.once("connect", () => { clearTimeout(timer); s.setNoDelay(true); resolve(new RespClient(s)); });
      s.once("error", (err) => { clearTimeout(timer); reject(err); });
    });
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      const r = parse(this.buf, pos);
      if (!r) break;
      pos = r.end;
      this.pending.shift()?.resolve(r.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  /** Send one command; a RESP error reply rejects with RespError. */
  call(...args: Array<string | number | Buffer>): Promise<Reply> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve: (r) => (r instanceof RespError ? reject(r) : resolve(r)), reject });
      this.socket.write(encodeCommand(args));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

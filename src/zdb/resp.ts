// RESP framing, pure: no sockets here so the parser can be unit-tested and fuzzed on bytes alone.

export const MAX_BULK = 32 * 1024 * 1024; // anything larger cannot be a legitimate 0-db request
export const MAX_ARGS = 1024 * 1024;
const MAX_INLINE = 64 * 1024;

export const PARSE_INCOMPLETE = -1;
export const PARSE_ERROR = -2;

const CR = 13, LF = 10;
const EMPTY = Buffer.alloc(0);

/** Parses one request at buf[pos..end); fills args (views into buf). Returns the position after it,
 *  PARSE_INCOMPLETE, or PARSE_ERROR (with `error` set). `need` gets a lower bound of bytes the frame
 *  needs from pos, so a caller can avoid re-parsing a big value on every small chunk. */
export class FrameParser {
  /** The last request's arguments lie at src[starts[i], ends[i]). Hot commands read them there;
   *  `args` makes Buffer views only when asked (a view costs an allocation per argument). */
  src: Buffer = EMPTY;
  starts = new Int32Array(16);
  ends = new Int32Array(16);
  argc = 0;
  need = 0;
  error = "";
  private views: Buffer[] = [];
  private viewsBuilt = false;

  get args(): Buffer[] {
    if (!this.viewsBuilt) {
      const v = this.views;
      for (let i = 0; i < this.argc; i++) {
        const b = this.src.subarray(this.starts[i], this.ends[i]);
        if (i < v.length) v[i] = b; else v.push(b);
      }
      this.viewsBuilt = true;
    }
    return this.views;
  }

  private room(n: number): void {
    if (n <= this.starts.length) return;
    let size = this.starts.length * 2;
    while (size < n) size *= 2;
    const s = new Int32Array(size), e = new Int32Array(size);
    s.set(this.starts); e.set(this.ends);
    this.starts = s; this.ends = e;
  }

  parse(buf: Buffer, pos: number, end: number): number {
    this.argc = 0;
    this.viewsBuilt = false;
    this.src = buf;
    if (pos >= end) { this.need = 1; return PARSE_INCOMPLETE; }
    if (buf[pos] !== 42 /* '*' */) return this.parseInline(buf, pos, end);
    const start = pos;
    let p = pos + 1;
    let n = 0, digits = 0, neg = false;
    if (p < end && buf[p] === 45) { neg = true; p++; }
    for (; p < end; p++) {
      const c = buf[p];
      if (c === CR) break;
      if (c < 48 || c > 57 || digits > 9) return this.fail("Protocol error: invalid multibulk length");
      n = n * 10 + (c - 48); digits++;
    }
    if (p + 1 >= end) { this.need = p + 2 - start; return PARSE_INCOMPLETE; }
    if (buf[p + 1] !== LF || digits === 0) return this.fail("Protocol error: invalid multibulk length");
    p += 2;
    if (neg || n === 0) return p; // empty request: skipped, like Redis does
    if (n > MAX_ARGS) return this.fail("Protocol error: invalid multibulk length");
    for (let i = 0; i < n; i++) {
      if (p >= end) { this.need = p - start + 4; return PARSE_INCOMPLETE; }
      if (buf[p] !== 36 /* '$' */) return this.fail(`Protocol error: expected '$', got '${String.fromCharCode(buf[p])}'`);
      p++;
      let len = 0; digits = 0;
      for (; p < end; p++) {
        const c = buf[p];
        if (c === CR) break;
        if (c < 48 || c > 57 || digits > 10) return this.fail("Protocol error: invalid bulk length");
        len = len * 10 + (c - 48); digits++;
      }
      if (p + 1 >= end) { this.need = p + 2 - start; return PARSE_INCOMPLETE; }
      if (buf[p + 1] !== LF || digits === 0) return this.fail("Protocol error: invalid bulk length");
      if (len > MAX_BULK) return this.fail("Protocol error: invalid bulk length");
      p += 2;
      if (p + len + 2 > end) { this.need = p + len + 2 - start; return PARSE_INCOMPLETE; }
      if (buf[p + len] !== CR || buf[p + len + 1] !== LF) return this.fail("Protocol error: bulk not terminated by CRLF");
      if (i >= this.starts.length) this.room(i + 1);
      this.starts[i] = p; this.ends[i] = p + len;
      p += len + 2;
    }
    this.argc = n;
    this.need = 0;
    return p;
  }

  // Inline commands let `telnet` and `nc` users talk to the server, as they can with Redis.
  private parseInline(buf: Buffer, pos: number, end: number): number {
    const nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) {
      if (end - pos > MAX_INLINE) return this.fail("Protocol error: too big inline request");
      this.need = end - pos + 1;
      return PARSE_INCOMPLETE;
    }
    let lineEnd = nl;
    if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
    let i = pos, n = 0;
    while (i < lineEnd) {
      while (i < lineEnd && (buf[i] === 32 || buf[i] === 9)) i++;
      if (i >= lineEnd) break;
      const s = i;
      while (i < lineEnd && buf[i] !== 32 && buf[i] !== 9) i++;
      if (n >= this.starts.length) this.room(n + 1);
      this.starts[n] = s; this.ends[n] = i;
      n++;
    }
    this.argc = n;
    this.need = 0;
    return nl + 1;
  }

  private fail(msg: string): number { this.error = msg; return PARSE_ERROR; }
}

/** Accumulates socket chunks and yields complete requests without re-copying big values per chunk. */
export class RequestReader {
  readonly frame = new FrameParser();
  private buf: Buffer = EMPTY;
  private pos = 0;
  private end = 0;
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private need = 0;
  private borrowed = false; // buf is the caller's (a shared read buffer), valid only until release()

  /** Adds received bytes. With `borrowed`, the chunk is only lent until release(): requests parsed
   *  from it are views into it, and whatever is left unparsed is copied out by release(). */
  feed(chunk: Buffer, borrowed = false, len = chunk.length): void {
    if (this.pos >= this.end && this.pending.length === 0) {
      this.buf = chunk; this.pos = 0; this.end = len; this.need = 0;
      this.borrowed = borrowed;
      return;
    }
    const own = borrowed ? Buffer.from(chunk.subarray(0, len)) : len === chunk.length ? chunk : chunk.subarray(0, len);
    this.pending.push(own);
    this.pendingLen += own.length;
  }

  /** Gives back a borrowed chunk: keeps a copy of its unparsed bytes only (usually none). */
  release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    if (this.pos >= this.end) { this.buf = EMPTY; this.pos = this.end = 0; return; }
    this.buf = Buffer.from(this.buf.subarray(this.pos, this.end));
    this.pos = 0; this.end = this.buf.length;
  }

  /** Returns 1 when a request is in frame.args, 0 when more bytes are needed, -1 on a protocol error. */
  next(): number {
    for (;;) {
      if (this.pendingLen > 0) {
        if (this.end - this.pos + this.pendingLen < this.need) return 0;
        this.compact();
      } else if (this.end - this.pos < (this.need || 1)) return 0;
      const r = this.frame.parse(this.buf, this.pos, this.end);
      if (r === PARSE_ERROR) return -1;
      if (r === PARSE_INCOMPLETE) { this.need = this.frame.need; return 0; }
      this.pos = r;
      this.need = 0;
      if (this.frame.argc > 0) return 1;
    }
  }

  get error(): string { return this.frame.error; }

  private compact(): void {
    const rest = this.end - this.pos;
    const out = Buffer.allocUnsafe(rest + this.pendingLen);
    this.buf.copy(out, 0, this.pos, this.end);
    let o = rest;
    for (const c of this.pending) { c.copy(out, o); o += c.length; }
    this.pending = []; this.pendingLen = 0;
    this.buf = out; this.pos = 0; this.end = out.length;
    this.borrowed = false;
  }
}

const CRLF = 0x0a0d;
const MAX_KEPT = 1024 * 1024; // a connection's reply buffer shrinks back after a reply bigger than this

/** One growable reply buffer per connection; commands append to it and the server writes it once per read. */
export class ReplyWriter {
  buf: Buffer;
  len = 0;
  constructor(private readonly initial = 16 * 1024) { this.buf = Buffer.allocUnsafe(initial); }

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const nb = Buffer.allocUnsafe(size);
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** What was written so far, as a view of the buffer (valid until the next write into it). */
  view(): Buffer { return this.buf.subarray(0, this.len); }

  /** After view() was handed to a socket: reuse the buffer when the socket is done with it, else
   *  leave it to the socket and continue in a fresh one. */
  sent(socketHoldsIt: boolean): void {
    this.len = 0;
    if (socketHoldsIt || this.buf.length > MAX_KEPT) this.buf = Buffer.allocUnsafe(this.initial);
  }

  /** Takes what was written so far as a standalone Buffer and resets. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.len);
    this.buf.copy(out, 0, 0, this.len);
    this.len = 0;
    return out;
  }

  raw(s: string): void { this.ensure(s.length * 3); this.len += this.buf.write(s, this.len, "utf8"); }
  rawBytes(b: Buffer): void { this.ensure(b.length); b.copy(this.buf, this.len); this.len += b.length; }

  private crlf(): void { this.buf.writeUInt16LE(CRLF, this.len); this.len += 2; }

  private num(n: number): void {
    if (n < 0) { this.buf[this.len++] = 45; n = -n; }
    if (n < 10) { this.buf[this.len++] = 48 + n; return; }
    let digits = 0;
    for (let t = n; t >= 1; t = Math.floor(t / 10)) digits++;
    let p = this.len + digits - 1;
    for (let t = n; t >= 1; t = Math.floor(t / 10)) this.buf[p--] = 48 + (t % 10);
    this.len += digits;
  }

  simple(s: string): void { this.ensure(s.length * 3 + 3); this.buf[this.len++] = 43; this.len += this.buf.write(s, this.len, "utf8"); this.crlf(); }
  error(s: string): void { this.ensure(s.length * 3 + 3); this.buf[this.len++] = 45; this.len += this.buf.write(s, this.len, "utf8"); this.crlf(); }
  integer(n: number): void { this.ensure(24); this.buf[this.len++] = 58; this.num(n); this.crlf(); }
  nil(): void { this.ensure(5); this.buf[this.len++] = 36; this.minusOne(); }
  nilArray(): void { this.ensure(5); this.buf[this.len++] = 42; this.minusOne(); }
  private minusOne(): void { this.buf[this.len++] = 45; this.buf[this.len++] = 49; this.crlf(); }
  array(n: number): void { this.ensure(24); this.buf[this.len++] = 42; this.num(n); this.crlf(); }
  bulkHeader(n: number): void { this.ensure(24); this.buf[this.len++] = 36; this.num(n); this.crlf(); }

  bulk(b: Buffer): void { this.bulkBytes(b, 0, b.length); }

  /** A bulk string of src[start, start+n). */
  bulkBytes(src: Buffer, start: number, n: number): void {
    this.ensure(n + 24);
    this.buf[this.len++] = 36; this.num(n); this.crlf();
    copyBytes(src, start, n, this.buf, this.len); this.len += n;
    this.crlf();
  }

  bulkString(s: string): void { this.bulk(Buffer.from(s, "utf8")); }

  /** Reserves room for a bulk body of n bytes and returns where it starts, for reading straight from disk. */
  bulkReserve(n: number): number {
    this.ensure(n + 24);
    this.buf[this.len++] = 36; this.num(n); this.crlf();
    const at = this.len;
    this.len += n;
    this.crlf();
    return at;
  }
}

/** Copies src[start, start+n) to dst[at..]. Buffer#copy makes a typed-array view per call, which
 *  costs more than a loop for the short keys and values that dominate small requests. */
export function copyBytes(src: Buffer, start: number, n: number, dst: Buffer, at: number): void {
  if (n > 64) { src.copy(dst, at, start, start + n); return; }
  for (let i = 0; i < n; i++) dst[at + i] = src[start + i];
}

/** Encodes a request (array of bulk strings), for the replication stream and for tests. */
export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const w = new ReplyWriter(64);
  w.array(args.length);
  for (const a of args) w.bulk(typeof a === "string" ? Buffer.from(a, "utf8") : a);
  return w.take();
}

export type RespValue = string | number | Buffer | null | RespError | RespValue[];
export class RespError { constructor(readonly message: string) {} }

/** Decodes one reply value (client side). Returns [value, nextPos] or null when incomplete. */
export function decodeReply(buf: Buffer, pos = 0): [RespValue, number] | null {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf("\r\n", pos, "latin1");
  if (nl < 0) return null;
  const t = buf[pos];
  const line = buf.toString("latin1", pos + 1, nl);
  const after = nl + 2;
  switch (t) {
    case 43: return [line, after];
    case 45: return [new RespError(line), after];
    case 58: return [Number(line), after];
    case 36: {
      const n = Number(line);
      if (n < 0) return [null, after];
      if (after + n + 2 > buf.length) return null;
      return [buf.subarray(after, after + n), after + n + 2];
    }
    case 42: {
      const n = Number(line);
      if (n < 0) return [null, after];
      const out: RespValue[] = [];
      let p = after;
      for (let i = 0; i < n; i++) {
        const r = decodeReply(buf, p);
        if (!r) return null;
        out.push(r[0]); p = r[1];
      }
      return [out, p];
    }
    default: throw new Error(`bad reply type byte ${t}`);
  }
}

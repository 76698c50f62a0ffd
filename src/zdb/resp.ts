// RESP framing, pure: no sockets here so the parser can be unit-tested and fuzzed on bytes alone.
import { ValidationError } from "../core/index.js";

// What one request may cost, so that one client cannot make the server hold gigabytes for it.
// The real 0-db's largest value is 8 MiB: one argument may be a little more (an oversized value
// still arrives framed and gets "-Payload too large" instead of a dropped connection), and a whole
// request may hold one such argument plus its key and command.
export const MAX_ARGS = 1024;                     // as the real 0-db: more is "-Too many arguments"
export const MAX_BULK = 9 * 1024 * 1024;          // one argument
export const MAX_REQUEST = MAX_BULK + 64 * 1024;  // all arguments of one request, with their headers
const MAX_INLINE = 64 * 1024;

export const PARSE_INCOMPLETE = -1;
export const PARSE_ERROR = -2;       // the stream cannot be followed any more: reply, then close
export const PARSE_ERROR_SOFT = -3;  // a whole but invalid request: reply, go on at `skip`

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
  /** After PARSE_ERROR_SOFT: where the next request starts. */
  skip = 0;
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
    // An empty request is an error (the real 0-db's "Missing arguments"), not silently skipped;
    // it is whole, so the connection can go on. Too many arguments is known before they arrive.
    if (neg || n === 0) { this.error = "Missing arguments"; this.argc = 0; this.need = 0; this.skip = p; return PARSE_ERROR_SOFT; }
    if (n > MAX_ARGS) return this.fail("Too many arguments");
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
      if (p + len + 2 - start > MAX_REQUEST) return this.fail("Protocol error: request too large");
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
    if (n === 0) { this.error = "Missing arguments"; this.need = 0; this.skip = nl + 1; return PARSE_ERROR_SOFT; }
    this.argc = n;
    this.need = 0;
    return nl + 1;
  }

  private fail(msg: string): number { this.error = msg; return PARSE_ERROR; }
}

const KEEP_OWN = 1024 * 1024; // an input buffer grown past this is given back once empty

/** Accumulates socket chunks and yields complete requests. A chunk is parsed where it lies when
 *  nothing is pending; otherwise bytes go into one owned buffer that grows by doubling (so a big
 *  request costs a bounded number of copies, not one copy of everything so far per read), and a
 *  frame is not re-parsed until at least the bytes it announced have arrived. */
export class RequestReader {
  readonly frame = new FrameParser();
  private buf: Buffer = EMPTY;  // where pos..end lie: a borrowed or 'data' chunk, or `own`
  private pos = 0;
  private end = 0;
  private own: Buffer = EMPTY;
  private need = 0;
  private borrowed = false; // buf is the caller's (a shared read buffer), valid only until release()

  /** Adds received bytes. With `borrowed`, the chunk is only lent until release(): requests parsed
   *  from it are views into it, and whatever is left unparsed is copied out by release(). */
  feed(chunk: Buffer, borrowed = false, len = chunk.length): void {
    if (this.pos >= this.end) {
      this.buf = chunk; this.pos = 0; this.end = len; this.need = 0;
      this.borrowed = borrowed;
      return;
    }
    this.append(chunk, len);
  }

  /** Bytes received and not yet parsed (what this connection costs in input memory). */
  get buffered(): number { return this.end - this.pos; }

  private append(chunk: Buffer, len: number): void {
    const rest = this.end - this.pos;
    if (this.buf !== this.own || this.pos + rest + len > this.own.length) {
      if (rest + len > this.own.length || (this.buf !== this.own && this.own.length === 0)) {
        const nb = Buffer.allocUnsafe(Math.max(this.own.length * 2, rest + len, 16 * 1024));
        this.buf.copy(nb, 0, this.pos, this.end);
        this.own = nb;
      } else if (this.buf === this.own) {
        this.own.copyWithin(0, this.pos, this.end);
      } else {
        this.buf.copy(this.own, 0, this.pos, this.end);
      }
      this.buf = this.own; this.pos = 0; this.end = rest;
      this.borrowed = false;
    }
    chunk.copy(this.own, this.end, 0, len);
    this.end += len;
  }

  /** Gives back a borrowed chunk: keeps a copy of its unparsed bytes only (usually none). */
  release(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    if (this.pos >= this.end) { this.buf = EMPTY; this.pos = this.end = 0; return; }
    const lent = this.buf, from = this.pos, to = this.end;
    this.buf = EMPTY; this.pos = this.end = 0;
    this.append(lent.subarray(from, to), to - from);
  }

  /** 1 when a request is in frame, 2 when an invalid but whole request was skipped (answer
   *  `error`, go on), 0 when more bytes are needed, -1 on a protocol error (answer, then close). */
  next(): number {
    for (;;) {
      if (this.end - this.pos < (this.need || 1)) {
        if (this.pos >= this.end) this.idle();
        return 0;
      }
      const r = this.frame.parse(this.buf, this.pos, this.end);
      if (r === PARSE_ERROR) return -1;
      if (r === PARSE_ERROR_SOFT) { this.pos = this.frame.skip; this.need = 0; return 2; }
      if (r === PARSE_INCOMPLETE) { this.need = this.frame.need; return 0; }
      this.pos = r;
      this.need = 0;
      return 1;
    }
  }

  get error(): string { return this.frame.error; }

  private idle(): void {
    this.pos = this.end = 0;
    if (this.buf === this.own && this.own.length > KEEP_OWN) { this.own = EMPTY; this.buf = EMPTY; }
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
    default: throw new ValidationError(`bad reply type byte ${t}`);
  }
}

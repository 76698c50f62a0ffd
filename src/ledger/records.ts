// An append-only file of records, each `[u32 length][u32 crc32][payload]` (little endian). Used for
// the block log (fsync per append: an acknowledged block is on disk) and the derived event log.
//
// Opening reads the whole file once and checks every record's checksum. Only a genuinely torn LAST
// record is cut; anything else that is wrong is damage (DamagedError naming the file and offset):
// - the scan stops at a header that is incomplete, says 0, or points past the end of the file.
//   What is left is a torn write only if it holds no whole record at any offset (a damaged length
//   byte leaves the records after it whole: damage) and its payload is not whole either (a length
//   byte flipped in the last record leaves a payload that still matches its checksum: damage);
// - a whole record that fails its checksum is damage, unless it is the last one and its payload
//   holds a NUL byte: both logs hold JSON text, which never does, so a NUL is a region the file
//   system extended but never wrote (a power cut before the fsync returned). A bit flip in the last,
//   fsynced block has no NUL: damage, said loudly.
import { openSync, closeSync, fstatSync, readSync, writeSync, ftruncateSync, fsyncSync, fdatasync } from "node:fs";
import { crc32 } from "node:zlib";
import { DamagedError, toGridError } from "../core/index.js";

const HEADER = 8;
/** A tail bigger than this is never one torn block (blocks are far smaller): damage, unscanned. */
const MAX_TAIL_SCAN = 64 * 1024 * 1024;
/** Read this much at a time while opening. */
const CHUNK = 8 * 1024 * 1024;

export interface OpenOptions {
  readOnly?: boolean;
  /** A derived file (the event log, rebuilt from the block log): damage cuts the file at the damaged
   *  record instead of throwing, and `damaged` says where. */
  derived?: boolean;
}

export interface Opened {
  file: RecordFile;
  /** Bytes of a torn last record that were cut off (read-only: that would be cut). */
  torn: number;
  /** Derived files only: the damage found and cut at. */
  damaged?: DamagedError;
}

export class RecordFile {
  /** Byte offset of every whole record; offsets.length is the record count. */
  readonly offsets: number[] = [];
  private size = 0;
  private constructor(readonly path: string, private readonly fd: number) {}

  /** Open (creating unless read-only) the file; see the top of this file for what is cut. */
  static open(path: string, o: OpenOptions = {}): Opened {
    if (!o.readOnly) closeSync(openSync(path, "a+"));
    const f = new RecordFile(path, openSync(path, o.readOnly ? "r" : "r+"));
    try {
      const found = scan(f.fd, path, f.offsets);
      let end = found.end, damaged: DamagedError | undefined;
      if (found.damage) {
        if (!o.derived) throw found.damage;
        damaged = found.damage;
        end = found.damageAt;
        while (f.offsets.length && f.offsets[f.offsets.length - 1] >= end) f.offsets.pop();
      }
      if (end < found.total && !o.readOnly) { ftruncateSync(f.fd, end); fsyncSync(f.fd); }
      f.size = end;
      return { file: f, torn: damaged ? 0 : found.total - end, ...(damaged ? { damaged } : {}) };
    } catch (e) {
      closeSync(f.fd);
      throw e;
    }
  }

  get count(): number { return this.offsets.length; }
  get bytes(): number { return this.size; }

  /** The payload of record `i`; a ChecksumError (damaged) if its checksum does not match. */
  read(i: number): Buffer {
    const off = this.offsets[i];
    if (off === undefined) throw new RangeError(`no record ${i} in ${this.path}`);
    const head = Buffer.alloc(HEADER);
    readFully(this.fd, head, off, this.path);
    const len = head.readUInt32LE(0);
    const payload = Buffer.alloc(len);
    if (len > 0) readFully(this.fd, payload, off + HEADER, this.path);
    if (crc32(payload) !== head.readUInt32LE(4)) throw new ChecksumError(this.path, i, off);
    return payload;
  }

  /** Append one record; resolves once it is on disk when `durable`. A record that cannot be written
   *  whole (ENOSPC, a short write, a failed fsync) is cut off again — the file ends with the last
   *  whole record — and the error (`exhausted` for a full disk) is thrown or rejected. */
  append(payload: Buffer, durable: boolean): Promise<void> | void {
    const rec = frame(payload);
    const off = this.size, index = this.offsets.length;
    try {
      // writeSync may write less than asked (a nearly full disk): go on until all is written or it fails.
      for (let done = 0; done < rec.length;) done += writeSync(this.fd, rec, done, rec.length - done, off + done);
    } catch (e) {
      this.cutBack(off);
      throw toGridError(e);
    }
    this.offsets.push(off);
    this.size += rec.length;
    if (!durable) return;
    // fdatasync runs on libuv's pool: the event loop keeps admitting transactions meanwhile.
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => {
      if (!err) return resolve();
      // Nothing after this record was appended (appends to the block log are serial).
      try { this.truncate(index); } catch { /* the next open finds and cuts or reports it */ }
      reject(toGridError(err));
    }));
  }

  /** Undo a partial write at `off`; the size we keep in memory never counted it. */
  private cutBack(off: number): void {
    try { ftruncateSync(this.fd, off); } catch { /* the next open cuts the torn tail */ }
  }

  /** Drop every record from index `i` on. */
  truncate(i: number): void {
    if (i >= this.offsets.length) return;
    this.size = this.offsets[i];
    this.offsets.length = i;
    ftruncateSync(this.fd, this.size);
    fsyncSync(this.fd);
  }

  close(): void { closeSync(this.fd); }
}

export function frame(payload: Buffer): Buffer {
  const rec = Buffer.allocUnsafe(HEADER + payload.length);
  rec.writeUInt32LE(payload.length, 0);
  rec.writeUInt32LE(crc32(payload), 4);
  payload.copy(rec, HEADER);
  return rec;
}

/** A record that fails its checksum where a torn write is impossible. */
export class ChecksumError extends DamagedError {
  constructor(readonly path: string, readonly record: number, readonly offset: number, why = "fails its checksum") {
    super(`${path}: record ${record} at byte ${offset} ${why}`, "stop, keep the data folder, and restore it from a replica or a backup (`bcdb verify DIR` names the first bad block)");
  }
}

/** Read exactly `buf.length` bytes at `pos`; a file that ends first (cut under us) is damage. */
function readFully(fd: number, buf: Buffer, pos: number, path = "the record file"): void {
  for (let done = 0; done < buf.length;) {
    const n = readSync(fd, buf, done, buf.length - done, pos + done);
    if (n === 0) throw new DamagedError(`${path}: ends at byte ${pos + done}, inside a record that was whole when it was opened`);
    done += n;
  }
}

interface Scan { total: number; end: number; damage?: DamagedError; damageAt: number }

/** One sequential pass: every record's offset into `offsets`, where the whole records end, and the
 *  damage found (with where to cut a derived file). */
function scan(fd: number, path: string, offsets: number[]): Scan {
  const total = fstatSync(fd).size;
  let buf = Buffer.alloc(0), bufAt = 0; // buf holds the file's bytes from bufAt
  const ensure = (pos: number, n: number): boolean => {
    if (pos + n > total) return false;
    if (pos >= bufAt && pos + n <= bufAt + buf.length) return true;
    const want = Math.max(n, Math.min(CHUNK, total - pos));
    buf = Buffer.alloc(want);
    readFully(fd, buf, pos, path);
    bufAt = pos;
    return true;
  };
  const at = (pos: number, n: number) => buf.subarray(pos - bufAt, pos - bufAt + n);
  let pos = 0;
  while (ensure(pos, HEADER)) {
    const head = at(pos, HEADER);
    const len = head.readUInt32LE(0), sum = head.readUInt32LE(4);
    if (len === 0 || !ensure(pos, HEADER + len)) break;
    const payload = at(pos + HEADER, len);
    if (crc32(payload) !== sum) {
      const last = pos + HEADER + len === total;
      if (last && payload.includes(0)) return { total, end: pos, damageAt: pos };
      const why = last
        ? "fails its checksum; it is the last record, whole and without an unwritten region, so it is damage, not a torn write"
        : "fails its checksum";
      return { total, end: pos, damage: new ChecksumError(path, offsets.length, pos, why), damageAt: pos };
    }
    offsets.push(pos);
    pos += HEADER + len;
  }
  if (pos === total) return { total, end: pos, damageAt: pos };
  const why = tailDamage(fd, path, pos, total);
  if (!why) return { total, end: pos, damageAt: pos };
  return { total, end: pos, damage: new ChecksumError(path, offsets.length, pos, why), damageAt: pos };
}

/** Why the bytes from `pos` to the end are not a torn last record, or undefined when they are. */
function tailDamage(fd: number, path: string, pos: number, total: number): string | undefined {
  const n = total - pos;
  if (n > MAX_TAIL_SCAN) return `starts ${n} bytes that are not whole records (more than any block): a damaged length, not a torn write`;
  const r = Buffer.alloc(n);
  readFully(fd, r, pos, path);
  if (n > HEADER) {
    const len = r.readUInt32LE(0);
    if (len > 0 && crc32(r.subarray(HEADER)) === r.readUInt32LE(4)) {
      return `has a damaged length (${len} bytes) but its ${n - HEADER} payload bytes match its checksum`;
    }
  }
  // A whole record anywhere after the break means the break is in the middle of the log.
  for (let q = 1; q + HEADER < n; q++) {
    const len = r.readUInt32LE(q);
    if (len === 0 || q + HEADER + len > n) continue;
    if (crc32(r.subarray(q + HEADER, q + HEADER + len)) === r.readUInt32LE(q + 4)) {
      return `has a damaged header: a whole record follows at byte ${pos + q}`;
    }
  }
  return undefined;
}

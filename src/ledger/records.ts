// An append-only file of records, each `[u32 length][u32 crc32][payload]` (little endian). Used for
// the block log (fsync per append: an acknowledged block is on disk) and the derived event log.
// Opening finds every whole record by hopping over the headers and cuts off a torn last record.
import { openSync, closeSync, fstatSync, readSync, writeSync, ftruncateSync, fsyncSync, fdatasync } from "node:fs";
import { crc32 } from "node:zlib";

const HEADER = 8;

export class RecordFile {
  /** Byte offset of every whole record; offsets.length is the record count. */
  readonly offsets: number[] = [];
  private size = 0;
  private constructor(readonly path: string, private readonly fd: number) {}

  /** Open (creating) the file. A partial record at the end — a write cut by a crash — is removed;
   *  `torn` says how many bytes were cut. */
  static open(path: string, readOnly = false): { file: RecordFile; torn: number } {
    if (!readOnly) closeSync(openSync(path, "a+"));
    const f = new RecordFile(path, openSync(path, readOnly ? "r" : "r+"));
    const total = fstatSync(f.fd).size;
    const head = Buffer.alloc(HEADER);
    let pos = 0;
    while (pos + HEADER <= total) {
      readSync(f.fd, head, 0, HEADER, pos);
      const len = head.readUInt32LE(0);
      // No record is empty: a zero length is a region the file system extended but never wrote.
      if (len === 0 || pos + HEADER + len > total) break;
      f.offsets.push(pos);
      pos += HEADER + len;
    }
    if (pos < total && !readOnly) ftruncateSync(f.fd, pos);
    f.size = pos;
    return { file: f, torn: total - pos };
  }

  get count(): number { return this.offsets.length; }
  get bytes(): number { return this.size; }

  /** The payload of record `i`; throws if its checksum does not match. */
  read(i: number): Buffer {
    const off = this.offsets[i];
    if (off === undefined) throw new RangeError(`no record ${i} in ${this.path}`);
    const head = Buffer.alloc(HEADER);
    readSync(this.fd, head, 0, HEADER, off);
    const len = head.readUInt32LE(0);
    const payload = Buffer.alloc(len);
    if (len > 0) readSync(this.fd, payload, 0, len, off + HEADER);
    if (crc32(payload) !== head.readUInt32LE(4)) throw new ChecksumError(this.path, i, off);
    return payload;
  }

  /** Append one record; resolves once it is on disk when `durable`. */
  append(payload: Buffer, durable: boolean): Promise<void> | void {
    const rec = frame(payload);
    const off = this.size;
    writeSync(this.fd, rec, 0, rec.length, off);
    this.offsets.push(off);
    this.size += rec.length;
    if (!durable) return;
    // fdatasync runs on libuv's pool: the event loop keeps admitting transactions meanwhile.
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
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

export class ChecksumError extends Error {
  constructor(readonly path: string, readonly record: number, readonly offset: number) {
    super(`${path}: record ${record} at byte ${offset} fails its checksum`);
  }
}

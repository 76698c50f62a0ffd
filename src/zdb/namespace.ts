// One namespace on disk: its data files (append-only, one checksum per entry), the index files
// beside them, and the in-memory key table. Appends are buffered and written once per event-loop
// turn by the store; reads of not-yet-written entries are served from that buffer. Start-up of
// each file (what to trust, rebuild or cut) is recovery.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import { ExhaustedError, toGridError } from "../core/index.js";
import {
  DATA_HEADER_SIZE, DATA_MAGIC, FILE_HEADER_SIZE, FLAG_DELETED, INDEX_MAGIC, type EntryMeta, type IndexRecord,
  crc32, dataEntrySize, dataFileName, encodeFileHeader, indexFileName, indexRecordSize, readDataEntry,
  readIndexRecord, writeDataEntry, writeIndexRecord, indexRecordEnd, dataEntrySizeAt, readDataEntryUnchecked,
} from "./format.js";
import { KeyTable } from "./keytable.js";
import { recoverFile } from "./recovery.js";
import { copyBytes } from "./resp.js";
import type { Logger } from "./log.js";

export type Mode = "user" | "seq";

export interface NsSettings {
  password: string | null;
  public: boolean;
  maxsize: number;
  worm: boolean;
  mode: Mode;
}

export interface StorageOptions {
  dataRoot: string;
  indexRoot: string;
  datasize: number;
  now: () => number; // unix seconds
  log: Logger;
}

const SETTINGS_FILE = "zdb-namespace";
/** Sequential-mode ids: 8 bytes little-endian. */
export const SEQ_ID_SIZE = 8;

export function seqIdKey(id: number): Buffer {
  const b = Buffer.allocUnsafe(SEQ_ID_SIZE);
  b.writeBigUInt64LE(BigInt(id), 0);
  return b;
}
const WBUF_SIZE = 256 * 1024;
const TAIL_SIZE = 2 * 1024 * 1024;

export interface LoadStats { records: number; rebuiltFiles: number; truncatedBytes: number; }

/** Writes len bytes of buf at pos, however many calls it takes (a write may be short). */
function writeWhole(fd: number, buf: Buffer, len: number, pos: number): void {
  for (let done = 0; done < len;) {
    const n = fs.writeSync(fd, buf, done, len - done, pos + done);
    if (n <= 0) throw new ExhaustedError("short write: no space left on device");
    done += n;
  }
}

/** The record offsets of one index file (see Namespace.recordOffsets); `end` is where the walk stopped. */
export interface RecordOffsets { offs: Uint32Array; n: number; end: number; complete: boolean }

export class Namespace {
  readonly table = new KeyTable();
  entries = 0;       // live keys
  dataSize = 0;      // payload bytes of live keys (what maxsize limits)
  indexSize = 0;     // bytes in index files
  records = 0;       // entries ever appended (the replication cursor)
  nextId = 0;        // next sequential id (seq mode)
  fileId = 0;
  loadStats: LoadStats = { records: 0, rebuiltFiles: 0, truncatedBytes: 0 };
  onDirty: (ns: Namespace) => void = () => {};

  private dataFd = -1;
  private indexFd = -1;
  private dataEnd = 0;
  private indexEnd = 0;
  private flushedData = 0;
  private flushedIndex = 0;
  private wbuf = Buffer.allocUnsafe(WBUF_SIZE);
  private wlen = 0;
  private ibuf = Buffer.allocUnsafe(WBUF_SIZE / 4);
  private ilen = 0;
  private readFds = new Map<number, number>();
  private closed = false;
  // The most recently written bytes of the current data file stay in memory: fresh writes are the
  // hottest reads, and serving them skips a pread per GET.
  private tail = Buffer.allocUnsafe(0);
  private tailStart = 0;
  private tailLen = 0;

  readonly dataDir: string;
  readonly indexDir: string;

  constructor(readonly name: string, public settings: NsSettings, private readonly opts: StorageOptions) {
    this.dataDir = path.join(opts.dataRoot, name);
    this.indexDir = path.join(opts.indexRoot, name);
  }

  static exists(opts: StorageOptions, name: string): boolean {
    return fs.existsSync(path.join(opts.indexRoot, name, SETTINGS_FILE)) || fs.existsSync(path.join(opts.dataRoot, name));
  }

  static list(opts: StorageOptions): string[] {
    const names = new Set<string>();
    for (const root of [opts.dataRoot, opts.indexRoot]) {
      if (!fs.existsSync(root)) continue;
      for (const d of fs.readdirSync(root, { withFileTypes: true })) if (d.isDirectory()) names.add(d.name);
    }
    return [...names].sort();
  }

  static open(opts: StorageOptions, name: string, defaults: NsSettings): Namespace {
    const settingsPath = path.join(opts.indexRoot, name, SETTINGS_FILE);
    let settings = { ...defaults };
    try {
      const raw = JSON.parse(fs.readFileSync(settingsPath, "utf8")) as Partial<NsSettings>;
      settings = { ...settings, ...raw };
    } catch { /* missing or damaged settings fall back to the defaults */ }
    const ns = new Namespace(name, settings, opts);
    ns.load();
    return ns;
  }

  saveSettings(): void {
    fs.mkdirSync(this.indexDir, { recursive: true });
    const p = path.join(this.indexDir, SETTINGS_FILE);
    const tmp = p + ".tmp";
    fs.writeFileSync(tmp, JSON.stringify(this.settings));
    const fd = fs.openSync(tmp, "r");
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, p);
  }

  // ---- loading ------------------------------------------------------------------------------

  private load(): void {
    fs.mkdirSync(this.dataDir, { recursive: true });
    fs.mkdirSync(this.indexDir, { recursive: true });
    if (!fs.existsSync(path.join(this.indexDir, SETTINGS_FILE))) this.saveSettings();
    const ids = fs.readdirSync(this.dataDir)
      .filter((f) => /^zdb-data-\d{5}$/.test(f)).map((f) => Number(f.slice(9))).sort((a, b) => a - b);
    if (ids.length === 0) ids.push(0);
    for (let i = 0; i < ids.length; i++) this.loadFile(ids[i], i === ids.length - 1);
  }

  private loadFile(id: number, last: boolean): void {
    const f = recoverFile({ name: this.name, dataDir: this.dataDir, indexDir: this.indexDir, now: this.opts.now, log: this.opts.log }, id, last, this);
    this.records += f.records;
    if (f.rebuilt) this.loadStats.rebuiltFiles++;
    this.loadStats.truncatedBytes += f.truncatedBytes;
    this.indexSize += f.indexEnd;
    this.loadStats.records = this.records;
    if (last) {
      this.fileId = id;
      this.dataFd = f.dataFd; this.indexFd = f.indexFd;
      this.dataEnd = this.flushedData = f.dataEnd;
      this.indexEnd = this.flushedIndex = f.indexEnd;
    } else {
      fs.closeSync(f.indexFd);
      this.readFds.set(id, f.dataFd);
    }
  }

  /** Puts one version of a key into the table (from the index, recovery, or a new append). */
  apply(key: Buffer, file: number, off: number, idxOff: number, m: EntryMeta): void {
    this.applyFields(key, 0, key.length, file, off, idxOff, m.flags, m.vlen, m.ts, m.vcrc);
  }

  /** As apply(), with the key at kb[kstart, kstart+klen) (start-up reads it in the index buffer). */
  applyFields(kb: Buffer, kstart: number, klen: number, file: number, off: number, idxOff: number,
    flags: number, vlen: number, ts: number, vcrc: number): void {
    const t = this.table;
    let s = t.find(kb, kstart, klen);
    if (s < 0) {
      s = t.insert(kb, kstart, klen);
      if (this.settings.mode === "seq") {
        // Ids are 8 bytes (as 0-db 2.0.7); namespaces written before hold 4-byte ids, still read.
        if (klen === SEQ_ID_SIZE) this.nextId = Math.max(this.nextId, Number(kb.readBigUInt64LE(kstart)) + 1);
        else if (klen === 4) this.nextId = Math.max(this.nextId, kb.readUInt32LE(kstart) + 1);
      }
    } else if (!(t.flags[s] & FLAG_DELETED)) {
      this.entries--; this.dataSize -= t.vlen[s];
    }
    t.file[s] = file; t.off[s] = off; t.vlen[s] = vlen; t.ts[s] = ts; t.vcrc[s] = vcrc;
    t.idxOff[s] = idxOff; t.flags[s] = flags;
    if (!(flags & FLAG_DELETED)) { this.entries++; this.dataSize += vlen; }
  }

  // ---- writing ------------------------------------------------------------------------------

  /** Appends one version (or a tombstone) of a key; returns the key table slot. */
  append(key: Buffer, value: Buffer, flags: number, ts: number, vcrc = crc32(value)): number {
    if (this.broken) throw this.broken;
    const size = dataEntrySize(key.length, value.length);
    if (this.dataEnd + size > this.opts.datasize && this.dataEnd > FILE_HEADER_SIZE) this.rotate();
    const t = this.table;
    const prev = t.find(key);
    const meta: EntryMeta = {
      flags, vlen: value.length, ts, vcrc,
      prevFile: prev >= 0 ? t.file[prev] : 0, prevOff: prev >= 0 ? t.off[prev] : 0,
    };
    if (this.wlen + size > this.wbuf.length) this.growW(size);
    const off = this.dataEnd;
    writeDataEntry(this.wbuf, this.wlen, key, value, meta);
    this.wlen += size; this.dataEnd += size;
    const isize = indexRecordSize(key.length);
    if (this.ilen + isize > this.ibuf.length) this.growI(isize);
    const idxOff = this.indexEnd;
    writeIndexRecord(this.ibuf, this.ilen, key, off, meta);
    this.ilen += isize; this.indexEnd += isize; this.indexSize += isize;
    this.apply(key, this.fileId, off, idxOff, meta);
    this.records++;
    this.onDirty(this);
    return t.find(key);
  }

  private growW(extra: number): void {
    // Flushing empties the buffer but may also shrink it back below what this entry needs.
    if (this.wlen > 0 && extra <= this.wbuf.length) this.flush(false);
    if (this.wlen + extra <= this.wbuf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.wbuf.length * 2, this.wlen + extra));
    this.wbuf.copy(nb, 0, 0, this.wlen);
    this.wbuf = nb;
  }
  private growI(extra: number): void {
    const nb = Buffer.allocUnsafe(Math.max(this.ibuf.length * 2, this.ilen + extra));
    this.ibuf.copy(nb, 0, 0, this.ilen);
    this.ibuf = nb;
  }

  get hasPending(): boolean { return this.wlen > 0 || this.ilen > 0; }

  /** Writes buffered entries; with `durable`, data reaches the disk before this returns. The index
   *  is not fsynced: it can always be rebuilt from the data files. */
  flush(durable: boolean): void {
    if (this.closed) return;
    if (this.broken) throw this.broken;
    try {
      if (this.wlen > 0) writeWhole(this.dataFd, this.wbuf, this.wlen, this.flushedData);
      if (this.ilen > 0) writeWhole(this.indexFd, this.ibuf, this.ilen, this.flushedIndex);
      if (durable) fs.fdatasyncSync(this.dataFd);
    } catch (err) {
      this.fail(err);
    }
    if (this.wlen > 0) {
      this.keepTail();
      this.flushedData += this.wlen;
      this.wlen = 0;
      if (this.wbuf.length > 4 * WBUF_SIZE) this.wbuf = Buffer.allocUnsafe(WBUF_SIZE);
    }
    if (this.ilen > 0) {
      this.flushedIndex += this.ilen;
      this.ilen = 0;
    }
  }

  /** Set once a write failed: the in-memory state is ahead of the files, and the store re-reads
   *  the namespace from them (Store.reload) before it takes another write. */
  broken: Error | null = null;
  onFailed: (ns: Namespace, err: unknown) => void = () => {};

  /** A batch that cannot be written whole is not written at all: both files are cut back to the
   *  last whole entry, so nothing half-written is ever read back or acknowledged. */
  private fail(err: unknown): never {
    try { fs.ftruncateSync(this.dataFd, this.flushedData); } catch { /* the reload re-checks the file */ }
    try { fs.ftruncateSync(this.indexFd, this.flushedIndex); } catch { /* likewise */ }
    const g = toGridError(err);
    this.broken = g.code === "exhausted" ? g : new ExhaustedError(`writing namespace ${this.name}: ${g.message}`, "free some disk space", { cause: err });
    this.onFailed(this, this.broken);
    throw this.broken;
  }

  /** Closes without writing what is pending (after a failed write: it is refused, not retried). */
  abandon(): void {
    this.wlen = this.ilen = 0;
    this.close();
  }

  private keepTail(): void {
    if (this.wlen > TAIL_SIZE) { this.tailLen = 0; this.tailStart = this.flushedData + this.wlen; return; }
    if (this.tail.length === 0) this.tail = Buffer.allocUnsafe(TAIL_SIZE);
    if (this.tailStart + this.tailLen !== this.flushedData || this.tailLen + this.wlen > TAIL_SIZE) {
      this.tailStart = this.flushedData; this.tailLen = 0;
    }
    this.wbuf.copy(this.tail, this.tailLen, 0, this.wlen);
    this.tailLen += this.wlen;
  }

  fsync(): void { if (!this.closed) fs.fdatasyncSync(this.dataFd); }

  private rotate(): void {
    this.flush(true);
    fs.closeSync(this.indexFd);
    this.readFds.set(this.fileId, this.dataFd);
    const id = this.fileId + 1;
    const dpath = path.join(this.dataDir, dataFileName(id)), ipath = path.join(this.indexDir, indexFileName(id));
    let dfd = -1, ifd = -1;
    try {
      dfd = fs.openSync(dpath, "w+");
      ifd = fs.openSync(ipath, "w+");
      writeWhole(dfd, encodeFileHeader(DATA_MAGIC, id, this.opts.now()), FILE_HEADER_SIZE, 0);
      writeWhole(ifd, encodeFileHeader(INDEX_MAGIC, id, this.opts.now()), FILE_HEADER_SIZE, 0);
    } catch (err) {
      // No half-made file is left for the reload to trip on; the old file stays the last one.
      for (const fd of [dfd, ifd]) if (fd >= 0) fs.closeSync(fd);
      fs.rmSync(dpath, { force: true }); fs.rmSync(ipath, { force: true });
      this.readFds.delete(this.fileId);
      this.fail(err);
    }
    this.fileId = id; this.dataFd = dfd; this.indexFd = ifd;
    this.dataEnd = this.flushedData = FILE_HEADER_SIZE;
    this.indexEnd = this.flushedIndex = FILE_HEADER_SIZE;
    this.indexSize += FILE_HEADER_SIZE;
    this.tailStart = 0; this.tailLen = 0;
    this.opts.log.info({ ns: this.name, file: id }, "data file rotated");
  }

  // ---- reading ------------------------------------------------------------------------------

  /** Copies file bytes [pos, pos+len) into out[at..], from the write buffer when not yet on disk. */
  readInto(file: number, pos: number, len: number, out: Buffer, at: number): boolean {
    if (file === this.fileId) {
      if (pos >= this.flushedData) {
        const p = pos - this.flushedData;
        if (p + len > this.wlen) return false;
        copyBytes(this.wbuf, p, len, out, at);
        return true;
      }
      if (pos >= this.tailStart && pos + len <= this.tailStart + this.tailLen) {
        copyBytes(this.tail, pos - this.tailStart, len, out, at);
        return true;
      }
      return fs.readSync(this.dataFd, out, at, len, pos) === len;
    }
    let fd = this.readFds.get(file);
    if (fd === undefined) {
      const p = path.join(this.dataDir, dataFileName(file));
      if (!fs.existsSync(p)) return false;
      fd = fs.openSync(p, "r");
      this.readFds.set(file, fd);
    }
    return fs.readSync(fd, out, at, len, pos) === len;
  }

  /** Whether a key's stored value equals `value`, when that value is still in memory (write buffer
   *  or recent tail); null when it is only on disk. The caller has checked the lengths match. */
  sameValue(slot: number, value: Buffer): boolean | null {
    if (this.table.file[slot] !== this.fileId) return null;
    const pos = this.valuePos(slot), len = value.length;
    if (pos >= this.flushedData) {
      const p = pos - this.flushedData;
      return p + len <= this.wlen ? value.compare(this.wbuf, p, p + len) === 0 : null;
    }
    if (pos >= this.tailStart && pos + len <= this.tailStart + this.tailLen) {
      const p = pos - this.tailStart;
      return value.compare(this.tail, p, p + len) === 0;
    }
    return null;
  }

  readBytes(file: number, pos: number, len: number): Buffer | null {
    const b = Buffer.allocUnsafe(len);
    return this.readInto(file, pos, len, b, 0) ? b : null;
  }

  /** Reads and verifies the entry at a location (history, check). */
  readEntry(file: number, off: number): { key: Buffer; value: Buffer; meta: EntryMeta; ok: boolean } | null {
    const head = this.readBytes(file, off, DATA_HEADER_SIZE);
    if (!head) return null;
    const whole = this.readBytes(file, off, dataEntrySizeAt(head, 0));
    if (!whole) return null;
    const e = readDataEntry(whole, 0, true);
    const meta = e ?? readDataEntryUnchecked(whole, 0);
    const key = whole.subarray(DATA_HEADER_SIZE, DATA_HEADER_SIZE + meta.klen);
    const value = whole.subarray(DATA_HEADER_SIZE + meta.klen);
    return { key, value, meta, ok: e !== null };
  }

  /** The key table slot of a key a client named. In sequential mode an 8-byte id also finds the
   *  same id stored in the 4-byte form of namespaces written before ids were 8 bytes, and back. */
  findKey(kb: Buffer, ks = 0, kl = kb.length): number {
    const s = this.table.find(kb, ks, kl);
    if (s >= 0 || this.settings.mode !== "seq") return s;
    if (kl === SEQ_ID_SIZE && kb.readUInt32LE(ks + 4) === 0) return this.table.find(kb, ks, 4);
    if (kl === 4) return this.table.find(seqIdKey(kb.readUInt32LE(ks)));
    return -1;
  }

  valuePos(slot: number): number { return this.table.off[slot] + DATA_HEADER_SIZE + this.table.keyLen[slot]; }

  /** Index records of one file with their offsets, for SCAN/RSCAN (a slow path by design). */
  fileRecords(file: number): Array<{ off: number; rec: IndexRecord }> {
    if (file === this.fileId) this.flush(false);
    const p = path.join(this.indexDir, indexFileName(file));
    let b: Buffer;
    try { b = fs.readFileSync(p); } catch { return []; }
    const out: Array<{ off: number; rec: IndexRecord }> = [];
    let pos = FILE_HEADER_SIZE;
    while (pos < b.length) {
      const r = readIndexRecord(b, pos);
      if (!r) break;
      out.push({ off: pos, rec: r });
      pos += r.size;
    }
    return out;
  }

  private offsets = new Map<number, RecordOffsets>();

  /** Where each index record of one file starts. Walked once and kept (older files never change;
   *  the current one is extended by what was appended since), so SCAN and RSCAN step through a
   *  file in batches without re-reading and re-decoding it per batch: a full scan is linear. */
  recordOffsets(file: number): RecordOffsets {
    let o = this.offsets.get(file);
    if (o?.complete) return o;
    if (!o) { o = { offs: new Uint32Array(256), n: 0, end: FILE_HEADER_SIZE, complete: false }; this.offsets.set(file, o); }
    let size: number;
    if (file === this.fileId) { this.flush(false); size = this.flushedIndex; }
    else {
      try { size = fs.statSync(path.join(this.indexDir, indexFileName(file))).size; } catch { size = 0; }
      o.complete = true;
    }
    while (o.end < size) {
      const b = this.readIndex(file, o.end, Math.min(size - o.end, 4 * 1024 * 1024));
      let p = 0;
      while (p < b.length) {
        const end = indexRecordEnd(b, p);
        if (end < 0) break;
        if (o.n === o.offs.length) { const g = new Uint32Array(o.n * 2); g.set(o.offs); o.offs = g; }
        o.offs[o.n++] = o.end + p;
        p = end;
      }
      if (p === 0) break; // a damaged record: the walk stops there, as start-up's did
      o.end += p;
    }
    return o;
  }

  /** Bytes [pos, pos+len) of an index file (short at its end). */
  readIndex(file: number, pos: number, len: number): Buffer {
    const b = Buffer.allocUnsafe(len);
    if (file === this.fileId) return b.subarray(0, fs.readSync(this.indexFd, b, 0, len, pos));
    let fd: number;
    try { fd = fs.openSync(path.join(this.indexDir, indexFileName(file)), "r"); } catch { return b.subarray(0, 0); }
    try { return b.subarray(0, fs.readSync(fd, b, 0, len, pos)); } finally { fs.closeSync(fd); }
  }

  firstFileId(): number {
    let min = this.fileId;
    for (const id of this.readFds.keys()) min = Math.min(min, id);
    for (const f of fs.readdirSync(this.indexDir)) if (/^zdb-index-\d{5}$/.test(f)) min = Math.min(min, Number(f.slice(10)));
    return min;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  close(): void {
    if (this.closed) return;
    if (!this.broken) try { this.flush(true); } catch (e) { this.opts.log.error({ err: e, ns: this.name }, "flush on close failed"); }
    this.closed = true;
    for (const fd of [this.dataFd, this.indexFd, ...this.readFds.values()]) { try { fs.closeSync(fd); } catch { /* already closed */ } }
    this.readFds.clear();
  }

  destroy(): void {
    this.close();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    fs.rmSync(this.indexDir, { recursive: true, force: true });
  }

  /** Empties the namespace (FLUSH): files removed, settings kept. */
  reset(): void {
    this.close();
    for (const dir of [this.dataDir, this.indexDir]) {
      for (const f of fs.readdirSync(dir)) if (f.startsWith("zdb-data-") || f.startsWith("zdb-index-")) fs.rmSync(path.join(dir, f));
    }
    this.table.clear();
    this.offsets.clear();
    this.entries = this.dataSize = this.indexSize = this.records = this.nextId = 0;
    this.closed = false;
    this.wlen = this.ilen = 0;
    this.tailStart = 0; this.tailLen = 0;
    this.loadFile(0, true);
  }
}

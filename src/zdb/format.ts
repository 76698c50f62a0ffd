// The on-disk format, pure: encoding and decoding of file headers, data entries and index records.
// All integers are little-endian. See docs/zdb.md for the layout tables.
import * as zlib from "node:zlib";

type Crc = (data: Buffer, value?: number) => number;

// zlib.crc32 exists from Node 20.15; the table keeps older 20.x working.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32Table(data: Buffer, value = 0): number {
  let c = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
export const crc32: Crc = typeof (zlib as { crc32?: Crc }).crc32 === "function"
  ? (zlib as unknown as { crc32: Crc }).crc32 : crc32Table;

export const FILE_HEADER_SIZE = 16;
export const DATA_MAGIC = 0x44424430; // "0DBD" read as LE u32
export const INDEX_MAGIC = 0x49424430; // "0DBI"
export const FORMAT_VERSION = 1;

export const DATA_HEADER_SIZE = 26;
export const INDEX_RECORD_SIZE = 32;
export const FLAG_DELETED = 1;
export const MAX_KEY = 255;

export function encodeFileHeader(magic: number, fileId: number, created: number): Buffer {
  const b = Buffer.alloc(FILE_HEADER_SIZE);
  b.writeUInt32LE(magic, 0);
  b.writeUInt32LE(FORMAT_VERSION, 4);
  b.writeUInt32LE(fileId, 8);
  b.writeUInt32LE(created >>> 0, 12);
  return b;
}

export function checkFileHeader(b: Buffer, magic: number, fileId: number): boolean {
  return b.length >= FILE_HEADER_SIZE && b.readUInt32LE(0) === magic && b.readUInt32LE(4) === FORMAT_VERSION
    && b.readUInt32LE(8) === fileId;
}

/** One version of one key, as appended to a data file. prevFile/prevOff locate the key's previous
 *  entry (prevOff 0 = none, since offset 0 is always the file header). */
export interface EntryMeta {
  flags: number;
  vlen: number;
  ts: number;
  vcrc: number;
  prevFile: number;
  prevOff: number;
}

/** Little-endian u32 store without Buffer#writeUInt32LE's argument checks (hot: every append). */
function u32(b: Buffer, at: number, v: number): void {
  b[at] = v; b[at + 1] = v >>> 8; b[at + 2] = v >>> 16; b[at + 3] = v >>> 24;
}

export function dataEntrySize(klen: number, vlen: number): number { return DATA_HEADER_SIZE + klen + vlen; }

/** Writes a data entry at out[at..]; the header crc covers header bytes 4..26 and the key, the value
 *  has its own crc so CHECK and GET-side verification need not re-hash the header. */
export function writeDataEntry(out: Buffer, at: number, key: Buffer, value: Buffer, m: EntryMeta): number {
  u32(out, at + 4, m.vcrc >>> 0);
  out[at + 8] = m.flags;
  out[at + 9] = key.length;
  u32(out, at + 10, value.length);
  u32(out, at + 14, m.ts >>> 0);
  u32(out, at + 18, m.prevFile >>> 0);
  u32(out, at + 22, m.prevOff >>> 0);
  key.copy(out, at + DATA_HEADER_SIZE);
  const hcrc = crc32(key, crc32(out.subarray(at + 4, at + DATA_HEADER_SIZE)));
  u32(out, at, hcrc);
  value.copy(out, at + DATA_HEADER_SIZE + key.length);
  return at + DATA_HEADER_SIZE + key.length + value.length;
}

export interface DecodedEntry extends EntryMeta { klen: number; key: Buffer; size: number; }

/** Decodes the entry at b[at..]; returns null when it is short or a checksum fails (a torn write).
 *  `withValue` verifies the value crc too (needed when rebuilding or checking, not for headers only). */
export function readDataEntry(b: Buffer, at: number, withValue: boolean): DecodedEntry | null {
  if (at + DATA_HEADER_SIZE > b.length) return null;
  const klen = b[at + 9];
  const vlen = b.readUInt32LE(at + 10);
  const size = DATA_HEADER_SIZE + klen + vlen;
  if (at + DATA_HEADER_SIZE + klen > b.length) return null;
  const key = b.subarray(at + DATA_HEADER_SIZE, at + DATA_HEADER_SIZE + klen);
  const hcrc = crc32(key, crc32(b.subarray(at + 4, at + DATA_HEADER_SIZE)));
  if (hcrc !== b.readUInt32LE(at)) return null;
  const vcrc = b.readUInt32LE(at + 4);
  if (withValue) {
    if (at + size > b.length) return null;
    if (crc32(b.subarray(at + DATA_HEADER_SIZE + klen, at + size)) !== vcrc) return null;
  }
  return {
    flags: b[at + 8], klen, key, vlen, size, vcrc,
    ts: b.readUInt32LE(at + 14), prevFile: b.readUInt32LE(at + 18), prevOff: b.readUInt32LE(at + 22),
  };
}

/** The fields of the data entry at b[at..] without checking its crcs (to show a damaged entry). */
export function readDataEntryUnchecked(b: Buffer, at: number): DecodedEntry {
  const klen = b[at + 9], vlen = b.readUInt32LE(at + 10);
  return {
    flags: b[at + 8], klen, key: b.subarray(at + DATA_HEADER_SIZE, at + DATA_HEADER_SIZE + klen), vlen,
    size: DATA_HEADER_SIZE + klen + vlen, vcrc: b.readUInt32LE(at + 4),
    ts: b.readUInt32LE(at + 14), prevFile: b.readUInt32LE(at + 18), prevOff: b.readUInt32LE(at + 22),
  };
}

/** Index record: a compact copy of a data entry's header plus where it is, so start-up need not read values. */
export interface IndexRecord extends EntryMeta { key: Buffer; dataOff: number; size: number; }

export function indexRecordSize(klen: number): number { return INDEX_RECORD_SIZE + klen; }

export function writeIndexRecord(out: Buffer, at: number, key: Buffer, dataOff: number, m: EntryMeta): number {
  out[at + 4] = m.flags;
  out[at + 5] = key.length;
  out[at + 6] = 0; out[at + 7] = 0;
  u32(out, at + 8, m.vlen >>> 0);
  u32(out, at + 12, m.ts >>> 0);
  u32(out, at + 16, dataOff >>> 0);
  u32(out, at + 20, m.vcrc >>> 0);
  u32(out, at + 24, m.prevFile >>> 0);
  u32(out, at + 28, m.prevOff >>> 0);
  key.copy(out, at + INDEX_RECORD_SIZE);
  u32(out, at, crc32(out.subarray(at + 4, at + INDEX_RECORD_SIZE + key.length)));
  return at + INDEX_RECORD_SIZE + key.length;
}

/** Where the index record at b[at..] ends, or -1 when it is short or its crc fails. Start-up walks
 *  millions of records with this and the field readers below, without an object per record. */
export function indexRecordEnd(b: Buffer, at: number): number {
  if (at + INDEX_RECORD_SIZE > b.length) return -1;
  const end = at + INDEX_RECORD_SIZE + b[at + 5];
  if (end > b.length || crc32(b.subarray(at + 4, end)) !== b.readUInt32LE(at)) return -1;
  return end;
}
export const indexFlags = (b: Buffer, at: number): number => b[at + 4];
export const indexKeyLen = (b: Buffer, at: number): number => b[at + 5];
export const indexValueLen = (b: Buffer, at: number): number => b.readUInt32LE(at + 8);
export const indexTime = (b: Buffer, at: number): number => b.readUInt32LE(at + 12);
export const indexDataOff = (b: Buffer, at: number): number => b.readUInt32LE(at + 16);
export const indexValueCrc = (b: Buffer, at: number): number => b.readUInt32LE(at + 20);
export const indexKeyStart = (at: number): number => at + INDEX_RECORD_SIZE;

/** The size of the data entry whose header starts at b[at..] (its key and value lengths). */
export function dataEntrySizeAt(b: Buffer, at: number): number { return DATA_HEADER_SIZE + b[at + 9] + b.readUInt32LE(at + 10); }

export function readIndexRecord(b: Buffer, at: number): IndexRecord | null {
  if (at + INDEX_RECORD_SIZE > b.length) return null;
  const klen = b[at + 5];
  const end = at + INDEX_RECORD_SIZE + klen;
  if (end > b.length) return null;
  if (crc32(b.subarray(at + 4, end)) !== b.readUInt32LE(at)) return null;
  return {
    flags: b[at + 4], vlen: b.readUInt32LE(at + 8), ts: b.readUInt32LE(at + 12), dataOff: b.readUInt32LE(at + 16),
    vcrc: b.readUInt32LE(at + 20), prevFile: b.readUInt32LE(at + 24), prevOff: b.readUInt32LE(at + 28),
    key: b.subarray(at + INDEX_RECORD_SIZE, end), size: end - at,
  };
}

/** Cursors (KEYCUR/SCAN) and history keys are 8 bytes: file id and offset, both u32 LE. */
export function encodeLocation(file: number, off: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(file >>> 0, 0);
  b.writeUInt32LE(off >>> 0, 4);
  return b;
}
export function decodeLocation(b: Buffer): { file: number; off: number } | null {
  if (b.length !== 8) return null;
  return { file: b.readUInt32LE(0), off: b.readUInt32LE(4) };
}

export function dataFileName(id: number): string { return `zdb-data-${String(id).padStart(5, "0")}`; }
export function indexFileName(id: number): string { return `zdb-index-${String(id).padStart(5, "0")}`; }

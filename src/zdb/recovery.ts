// Start-up of one data file and its index: what can be trusted is replayed into the key table,
// what cannot is rebuilt or cut. The index is trusted only as far as it is intact and agrees with
// the data file (each record's crc, each data offset following the previous entry exactly, nothing
// past the data's end); the rest is rebuilt from the data. Entries in the data file past what the
// index covers (a crash between the two writes, a missing index) are re-indexed; the first short
// or bad-checksum entry is a torn write, and the data file is cut there.
import * as fs from "node:fs";
import * as path from "node:path";
import {
  DATA_MAGIC, FILE_HEADER_SIZE, INDEX_MAGIC, type EntryMeta,
  checkFileHeader, dataEntrySize, dataFileName, encodeFileHeader, indexFileName, indexRecordSize,
  readDataEntry, writeIndexRecord, indexRecordEnd, indexDataOff, indexKeyLen,
  indexValueLen, indexFlags, indexTime, indexValueCrc, indexKeyStart,
} from "./format.js";
import type { Logger } from "./log.js";

export interface RecoveryContext { name: string; dataDir: string; indexDir: string; now: () => number; log: Logger }

/** Where recovered records go (the namespace's key table). */
export interface RecoverySink {
  apply(key: Buffer, file: number, off: number, idxOff: number, m: EntryMeta): void;
  applyFields(kb: Buffer, kstart: number, klen: number, file: number, off: number, idxOff: number,
    flags: number, vlen: number, ts: number, vcrc: number): void;
}

export interface RecoveredFile {
  dataFd: number;      // open read-write
  indexFd: number;     // open read-write
  dataEnd: number;     // size of the data file once cut to its last whole entry
  indexEnd: number;    // size of the index file, matching it
  records: number;     // records replayed into the sink
  rebuilt: boolean;    // the index was (partly) rebuilt from the data
  truncatedBytes: number;
}

export function recoverFile(cx: RecoveryContext, id: number, last: boolean, sink: RecoverySink): RecoveredFile {
  const dpath = path.join(cx.dataDir, dataFileName(id));
  const ipath = path.join(cx.indexDir, indexFileName(id));
  const dfd = fs.openSync(dpath, fs.existsSync(dpath) ? "r+" : "w+");
  const ifd = fs.openSync(ipath, fs.existsSync(ipath) ? "r+" : "w+");
  let dsize = fs.fstatSync(dfd).size;
  let rebuilt = false, truncatedBytes = 0, records = 0;
  const hdr = Buffer.alloc(FILE_HEADER_SIZE);
  if (dsize >= FILE_HEADER_SIZE) fs.readSync(dfd, hdr, 0, FILE_HEADER_SIZE, 0);
  if (dsize < FILE_HEADER_SIZE || !checkFileHeader(hdr, DATA_MAGIC, id)) {
    if (dsize > 0) cx.log.warn({ ns: cx.name, file: dpath }, "data file header damaged; starting the file afresh");
    fs.ftruncateSync(dfd, 0);
    fs.writeSync(dfd, encodeFileHeader(DATA_MAGIC, id, cx.now()), 0, FILE_HEADER_SIZE, 0);
    dsize = FILE_HEADER_SIZE;
  }

  const ibuf = fs.readFileSync(ipath);
  let ipos = FILE_HEADER_SIZE;
  let covered = FILE_HEADER_SIZE;
  let count = 0;
  let damaged = false;
  // Pass 1 validates without allocating per record; pass 2 applies only what is known good.
  if (!checkFileHeader(ibuf, INDEX_MAGIC, id)) damaged = ibuf.length > 0;
  else {
    while (ipos < ibuf.length) {
      const end = indexRecordEnd(ibuf, ipos);
      if (end < 0 || indexDataOff(ibuf, ipos) !== covered) { damaged = true; break; }
      covered += dataEntrySize(indexKeyLen(ibuf, ipos), indexValueLen(ibuf, ipos));
      ipos = end;
      count++;
    }
  }
  if (covered > dsize) damaged = true;
  if (damaged || ibuf.length < FILE_HEADER_SIZE) {
    if (damaged) cx.log.warn({ ns: cx.name, file: ipath }, "index file damaged or ahead of data; rebuilding it from the data file");
    rebuilt = damaged || dsize > FILE_HEADER_SIZE;
    count = 0; covered = FILE_HEADER_SIZE; ipos = FILE_HEADER_SIZE;
    fs.ftruncateSync(ifd, 0);
    fs.writeSync(ifd, encodeFileHeader(INDEX_MAGIC, id, cx.now()), 0, FILE_HEADER_SIZE, 0);
  } else if (ipos < ibuf.length) {
    fs.ftruncateSync(ifd, ipos);
  }
  for (let p = FILE_HEADER_SIZE, i = 0; i < count; i++) {
    const klen = indexKeyLen(ibuf, p);
    sink.applyFields(ibuf, indexKeyStart(p), klen, id, indexDataOff(ibuf, p), p, indexFlags(ibuf, p),
      indexValueLen(ibuf, p), indexTime(ibuf, p), indexValueCrc(ibuf, p));
    p = indexKeyStart(p) + klen;
  }
  records += count;

  if (covered < dsize) {
    const tail = Buffer.allocUnsafe(dsize - covered);
    fs.readSync(dfd, tail, 0, tail.length, covered);
    let p = 0;
    const out: Buffer[] = [];
    let outLen = 0;
    while (p < tail.length) {
      const e = readDataEntry(tail, p, true);
      if (!e) break;
      const rec = Buffer.allocUnsafe(indexRecordSize(e.klen));
      writeIndexRecord(rec, 0, e.key, covered + p, e);
      out.push(rec);
      sink.apply(e.key, id, covered + p, ipos + outLen, e);
      outLen += rec.length;
      records++;
      p += e.size;
    }
    if (p < tail.length) {
      cx.log.warn({ ns: cx.name, file: dpath, at: covered + p, bytes: tail.length - p },
        last ? "torn entry at the end of the data file; cut off" : "damaged entry inside a data file; rest of the file dropped");
      fs.ftruncateSync(dfd, covered + p);
      truncatedBytes = tail.length - p;
      dsize = covered + p;
    }
    if (outLen) fs.writeSync(ifd, Buffer.concat(out, outLen), 0, outLen, ipos);
    ipos += outLen;
  }
  return { dataFd: dfd, indexFd: ifd, dataEnd: dsize, indexEnd: ipos, records, rebuilt, truncatedBytes };
}

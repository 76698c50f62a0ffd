// Walking a namespace: SCAN/SCANX forwards and RSCAN backwards over the index in write order (each
// key listed where its current, live version is), KSCAN by key prefix. A cursor is the location of
// the last record returned; each batch reads only the index bytes of its own records.
import { FLAG_DELETED, decodeLocation, encodeLocation, readIndexRecord } from "../format.js";
import type { Namespace } from "../namespace.js";
import type { Client } from "../server.js";
import { type Handler, type Command, argsExact, ns } from "./common.js";

const SCAN_BATCH = 128;
/** Records read from the index in one go while looking for a batch's live ones. */
const READ_RECORDS = 512;

interface Item { file: number; off: number; key: Buffer; vlen: number; ts: number }

function isCurrent(space: Namespace, file: number, off: number, key: Buffer): boolean {
  const s = space.table.find(key);
  return s >= 0 && space.table.file[s] === file && space.table.idxOff[s] === off && !(space.table.flags[s] & FLAG_DELETED);
}

function sendScan(c: Client, items: Item[]): void {
  if (items.length === 0) { c.out.error("No more data"); return; }
  const last = items[items.length - 1];
  c.out.array(2);
  c.out.bulk(encodeLocation(last.file, last.off));
  c.out.array(items.length);
  for (const it of items) { c.out.array(3); c.out.bulk(it.key); c.out.integer(it.vlen); c.out.integer(it.ts); }
}

/** Index of `off` among a file's record offsets (binary search), or -1 if no record starts there. */
function recordIndex(offs: Uint32Array, n: number, off: number): number {
  let lo = 0, hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (offs[mid] === off) return mid;
    if (offs[mid] < off) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

/** The cursor argument as (file, record index); undefined without one, null (answered) when invalid. */
function scanCursor(c: Client, space: Namespace, a: Buffer[], n: number): { file: number; i: number } | null | undefined {
  if (n < 2) return undefined;
  const loc = decodeLocation(a[1]);
  const i = loc && loc.file <= space.fileId ? recordIndex(space.recordOffsets(loc.file).offs, space.recordOffsets(loc.file).n, loc.off) : -1;
  if (!loc || i < 0) { c.out.error("Invalid key format"); return null; }
  return { file: loc.file, i };
}

/** Appends to `items` the live records among records [from, to) of `file`, in order or reversed. */
function collect(space: Namespace, file: number, from: number, to: number, reverse: boolean, items: Item[]): void {
  const o = space.recordOffsets(file);
  const start = o.offs[from], stop = to < o.n ? o.offs[to] : o.end;
  const b = space.readIndex(file, start, stop - start);
  for (let k = reverse ? to - 1 : from; reverse ? k >= from : k < to; k += reverse ? -1 : 1) {
    const rec = readIndexRecord(b, o.offs[k] - start);
    if (!rec || !isCurrent(space, file, o.offs[k], rec.key)) continue;
    items.push({ file, off: o.offs[k], key: Buffer.from(rec.key), vlen: rec.vlen, ts: rec.ts });
    if (items.length >= SCAN_BATCH) return;
  }
}

const scan: Handler = (_s, c, a, n) => {
  const space = ns(c);
  const cur = scanCursor(c, space, a, n);
  if (cur === null) return;
  const items: Item[] = [];
  let i = cur ? cur.i + 1 : 0;
  for (let f = cur ? cur.file : space.firstFileId(); f <= space.fileId && items.length < SCAN_BATCH; f++, i = 0) {
    const o = space.recordOffsets(f);
    // A full batch may end inside a range read: the cursor is its last item, so nothing is skipped.
    for (; i < o.n && items.length < SCAN_BATCH; i += READ_RECORDS) collect(space, f, i, Math.min(o.n, i + READ_RECORDS), false, items);
  }
  sendScan(c, items);
};

const rscan: Handler = (_s, c, a, n) => {
  const space = ns(c);
  const cur = scanCursor(c, space, a, n);
  if (cur === null) return;
  const items: Item[] = [];
  const firstFile = space.firstFileId();
  for (let f = cur ? cur.file : space.fileId; f >= firstFile && items.length < SCAN_BATCH; f--) {
    const o = space.recordOffsets(f);
    let i = f === cur?.file ? cur.i : o.n; // records before i
    for (; i > 0 && items.length < SCAN_BATCH; i -= READ_RECORDS) collect(space, f, Math.max(0, i - READ_RECORDS), i, true, items);
  }
  sendScan(c, items);
};

const kscan: Handler = (_s, c, a, n) => {
  const space = ns(c);
  if (space.settings.mode !== "user") { c.out.error("Index running mode doesn't support this feature"); return; }
  if (!argsExact(c, n, 2, true)) return;
  const prefix = a[1];
  const t = space.table;
  const keys: Buffer[] = [];
  for (let s = 0; s < t.size; s++) {
    if (t.flags[s] & FLAG_DELETED || t.keyLen[s] < prefix.length) continue;
    const k = t.key(s);
    if (k.compare(prefix, 0, prefix.length, 0, prefix.length) === 0) keys.push(k);
  }
  if (keys.length === 0) { c.out.error("No keys match"); return; }
  c.out.array(2); c.out.bulkString("0"); c.out.array(keys.length);
  for (const k of keys) c.out.bulk(k);
};

export const SCAN: Command[] = [
  { name: "SCAN", handler: scan }, { name: "SCANX", handler: scan }, { name: "RSCAN", handler: rscan },
  { name: "KSCAN", handler: kscan },
];

// The dataset of the selected namespace: SET/GET/DEL and the per-key questions, and HISTORY.
import { FLAG_DELETED, MAX_KEY, crc32, decodeLocation, encodeLocation } from "../format.js";
import { type Namespace, seqIdKey } from "../namespace.js";
import type { Client, Server } from "../server.js";
import { type Handler, type FastHandler, type Command, str, nowSec, argsExact, admin, liveSlot, ns, MAX_VALUE } from "./common.js";

const set: Handler = (s, c, a, n) => {
  if (n === 4) { if (!admin(c)) return; }
  else if (n !== 3) { c.out.error("Unexpected arguments"); return; }
  let ts = -1;
  if (n === 4) { ts = Number(str(a[3])); if (!Number.isFinite(ts) || ts < 0) ts = -1; }
  setValue(s, c, a[1], 0, a[1].length, a[2], ts);
};

const setFast: FastHandler = (s, c, f) => {
  if (f.argc !== 3) { set(s, c, f.args, f.argc); return; }
  setValue(s, c, f.src, f.starts[1], f.ends[1] - f.starts[1], f.src.subarray(f.starts[2], f.ends[2]), -1);
};

/** SET of the key at kb[ks, ks+kl); ts < 0: now. */
function setValue(s: Server, c: Client, kb: Buffer, ks: number, kl: number, value: Buffer, tsArg: number): void {
  if (kl > MAX_KEY) { c.out.error("Key too large"); return; }
  if (value.length > MAX_VALUE) { c.out.error("Payload too large"); return; }
  if (!c.writable || s.isReplica) { c.out.error("Namespace is in read-only mode"); return; }
  const space = ns(c);
  const t = space.table;
  const slot = kl ? space.findKey(kb, ks, kl) : -1;
  let k: Buffer | null = null;
  if (space.settings.mode === "seq") {
    if (kl && slot < 0) { c.out.error("Invalid key, only update authorized"); return; }
    // A new id, or the id as it is stored (an old 4-byte one is updated in place, not duplicated).
    k = kl ? Buffer.from(t.key(slot)) : seqIdKey(space.nextId);
  } else if (!kl) { c.out.error("Invalid argument, key needed"); return; }
  const live = slot >= 0 && !(t.flags[slot] & FLAG_DELETED);
  // An unchanged value is not written again. When the stored value is still in memory the bytes
  // are compared (exact, and cheaper than a crc of a big value); otherwise the crcs are.
  let vcrc = -1;
  if (live && t.vlen[slot] === value.length) {
    const same = space.sameValue(slot, value);
    if (same === null) vcrc = crc32(value);
    if (same === true || (same === null && t.vcrc[slot] === vcrc)) { c.out.nil(); return; }
  }
  if (vcrc < 0) vcrc = crc32(value);
  if (live && space.settings.worm) { c.out.error("Cannot update a key when namespace is in worm mode"); return; }
  const floating = live ? t.vlen[slot] : 0;
  if (space.settings.maxsize > 0 && space.dataSize + value.length > space.settings.maxsize + floating) {
    c.out.error("No space left on this namespace"); return;
  }
  const ts = tsArg >= 0 ? tsArg : nowSec(s);
  if (k === null) k = kb.subarray(ks, ks + kl);
  space.append(k, value, 0, ts, vcrc);
  s.mutated(c, space, "RSET", k, value, ts);
  c.out.bulk(k);
}

const get: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2)) return;
  getValue(c, a[1], 0, a[1].length);
};

const getFast: FastHandler = (s, c, f) => {
  if (f.argc !== 2) { get(s, c, f.args, f.argc); return; }
  getValue(c, f.src, f.starts[1], f.ends[1] - f.starts[1]);
};

function getValue(c: Client, kb: Buffer, ks: number, kl: number): void {
  if (kl > MAX_KEY) { c.out.error("Invalid key"); return; }
  const space = ns(c);
  const t = space.table;
  const slot = space.findKey(kb, ks, kl);
  if (slot < 0 || t.flags[slot] & FLAG_DELETED) { c.out.nil(); return; }
  const len = t.vlen[slot];
  const mark = c.out.len;
  const at = c.out.bulkReserve(len);
  if (!space.readInto(t.file[slot], space.valuePos(slot), len, c.out.buf, at)) {
    c.out.len = mark;
    c.out.error("Internal Error");
  }
}

const del: Handler = (s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  if (a[1].length > MAX_KEY) { c.out.error("Invalid key"); return; }
  if (!c.writable || s.isReplica) { c.out.error("Namespace is in read-only mode"); return; }
  const space = ns(c);
  if (liveSlot(space, a[1]) < 0) { c.out.error("Key not found"); return; }
  if (space.settings.worm) { c.out.error("Cannot delete a key when namespace is in worm mode"); return; }
  const ts = nowSec(s);
  space.append(a[1], EMPTY, FLAG_DELETED, ts, 0);
  s.mutated(c, space, "RDEL", a[1], EMPTY, ts);
  c.out.simple("OK");
};
const EMPTY = Buffer.alloc(0);

const exists: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  if (a[1].length > MAX_KEY) { c.out.error("Invalid key"); return; }
  c.out.integer(liveSlot(ns(c), a[1]) >= 0 ? 1 : 0);
};

const check: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  if (a[1].length > MAX_KEY) { c.out.error("Invalid key"); return; }
  const space = ns(c);
  const slot = liveSlot(space, a[1]);
  if (slot < 0) { c.out.nil(); return; }
  const e = space.readEntry(space.table.file[slot], space.table.off[slot]);
  c.out.integer(e && e.ok ? 1 : 0);
};

const keytime: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  const space = ns(c);
  const slot = liveSlot(space, a[1]);
  if (slot < 0) { c.out.nil(); return; }
  c.out.integer(space.table.ts[slot]);
};

const length: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  const space = ns(c);
  const slot = liveSlot(space, a[1]);
  if (slot < 0) { c.out.nil(); return; }
  c.out.integer(space.table.vlen[slot]);
};

const keycur: Handler = (_s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  const space = ns(c);
  const slot = space.findKey(a[1]);
  if (slot < 0) { c.out.error("Key not found"); return; }
  c.out.bulk(encodeLocation(space.table.file[slot], space.table.idxOff[slot]));
};

// A record is listed by SCAN only where it is the key's current, live version.
function sendHistory(c: Client, space: Namespace, e: { value: Buffer; meta: { ts: number; prevFile: number; prevOff: number } }): void {
  let pf = e.meta.prevFile, po = e.meta.prevOff;
  while (po !== 0) {
    const p = space.readEntry(pf, po);
    if (!p || !(p.meta.flags & FLAG_DELETED)) break;
    pf = p.meta.prevFile; po = p.meta.prevOff;
  }
  c.out.array(3);
  if (po === 0) c.out.nil(); else c.out.bulk(encodeLocation(pf, po));
  c.out.bulkString(String(e.meta.ts));
  c.out.bulk(e.value);
}

const history: Handler = (_s, c, a, n) => {
  if (n !== 2 && n !== 3) { c.out.error("Invalid arguments"); return; }
  const space = ns(c);
  if (n === 2) {
    const slot = liveSlot(space, a[1]);
    if (slot < 0) { c.out.error("Key not found"); return; }
    const e = space.readEntry(space.table.file[slot], space.table.off[slot]);
    if (!e) { c.out.error("Internal Error"); return; }
    sendHistory(c, space, e);
    return;
  }
  const loc = decodeLocation(a[2]);
  if (!loc) { c.out.error("Invalid arguments"); return; }
  if (loc.off === 0) { c.out.error("No more history"); return; }
  const e = space.readEntry(loc.file, loc.off);
  if (!e || !e.ok) { c.out.error("Invalid arguments (index query)"); return; }
  if (!e.key.equals(a[1])) { c.out.error("Invalid arguments (invalid key)"); return; }
  sendHistory(c, space, e);
};

export const KEYS: Command[] = [
  { name: "SET", handler: set, fast: setFast, write: true }, { name: "SETX", handler: set, fast: setFast, write: true },
  { name: "GET", handler: get, fast: getFast }, { name: "DEL", handler: del, write: true },
  { name: "EXISTS", handler: exists }, { name: "CHECK", handler: check }, { name: "KEYCUR", handler: keycur },
  { name: "KEYTIME", handler: keytime }, { name: "LENGTH", handler: length }, { name: "HISTORY", handler: history },
];

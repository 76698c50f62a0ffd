// The command set of 0-db: names, arguments, reply types and error texts follow the real server.
import { createHash, randomBytes } from "node:crypto";
import { FLAG_DELETED, MAX_KEY, crc32, decodeLocation, encodeLocation } from "./format.js";
import { type Namespace, type NsSettings, seqIdKey } from "./namespace.js";
import { DEFAULT_NS, Store } from "./store.js";
import type { FrameParser } from "./resp.js";
import type { Client, Server } from "./server.js";

export const MAX_VALUE = 8 * 1024 * 1024;
const SCAN_BATCH = 128;

export type Handler = (s: Server, c: Client, a: Buffer[], n: number) => void;
/** A hot command reading its arguments where the parser found them (no Buffer view per argument). */
export type FastHandler = (s: Server, c: Client, f: FrameParser) => void;
export interface Command { name: string; write?: boolean; handler: Handler; fast?: FastHandler; }

const str = (b: Buffer) => b.toString("utf8");
const eqi = (b: Buffer, s: string) => b.length === s.length && b.toString("latin1").toUpperCase() === s;
const nowSec = (s: Server) => s.store.opts.now();

function argsExact(c: Client, n: number, expected: number, allowEmpty = false, a?: Buffer[]): boolean {
  if (n !== expected) { c.out.error("Unexpected arguments"); return false; }
  if (!allowEmpty && a) for (let i = 0; i < n; i++) if (a[i].length === 0) { c.out.error("Invalid argument"); return false; }
  return true;
}

function admin(c: Client): boolean {
  if (!c.admin) { c.out.error("Permission denied"); return false; }
  return true;
}

function liveSlot(ns: Namespace, key: Buffer): number {
  const s = ns.findKey(key);
  return s >= 0 && !(ns.table.flags[s] & FLAG_DELETED) ? s : -1;
}

export function hashPassword(nonce: string, password: string): string {
  return createHash("sha1").update(`${nonce}:${password}`).digest("hex");
}

function ns(c: Client): Namespace { return c.ns as Namespace; }

// ---- system ------------------------------------------------------------------------------------

const ping: Handler = (_s, c) => c.out.simple("PONG");

const time: Handler = (_s, c) => {
  const t = Date.now();
  const us = (t % 1000) * 1000;
  c.out.array(2); c.out.bulkString(String(Math.floor(t / 1000))); c.out.bulkString(String(us));
};

const auth: Handler = (s, c, a, n) => {
  if (n === 2) {
    if (!s.opts.admin) { c.out.error("Authentication disabled"); return; }
    if (a[1].length === 0) { c.out.error("Invalid argument"); return; }
    if (a[1].length > 128) { c.out.error("Password too long"); return; }
    if (str(a[1]) === s.opts.admin) { c.admin = true; s.authSucceeded(c); c.out.simple("OK"); }
    else { c.out.error("Access denied"); s.authFailed(c); }
    return;
  }
  if (n === 3) {
    if (!eqi(a[1], "SECURE")) { c.out.error("Only SECURE extra method supported"); return; }
    if (eqi(a[2], "CHALLENGE")) {
      c.nonce = randomBytes(8).toString("hex");
      c.out.simple(c.nonce);
      return;
    }
    if (!s.opts.admin) { c.out.error("Authentication disabled"); return; }
    if (!c.nonce) { c.out.error("No CHALLENGE requested, secure authentication not available"); return; }
    if (a[2].length !== 40) { c.out.error("Invalid hash length"); return; }
    const ok = str(a[2]) === hashPassword(c.nonce, s.opts.admin);
    c.nonce = null;
    if (ok) { c.admin = true; s.authSucceeded(c); c.out.simple("OK"); }
    else { c.out.error("Access denied"); s.authFailed(c); }
    return;
  }
  c.out.error("Unexpected arguments");
};

const stop: Handler = (s, c) => {
  if (!c.admin) { c.out.error("Unauthorized"); return; }
  c.out.simple("Stopping");
  s.stopSoon();
};

const info: Handler = (s, c) => {
  const st = s.stats;
  const lines = [
    "# server", "server_name: 0-db (zdb)", "server_revision: grid-ts", `instance_id: ${s.instanceId}`,
    `boot_time: ${st.boot}`, `uptime: ${nowSec(s) - st.boot}`,
    `mode: ${s.store.opts.mode === "seq" ? "sequential" : "userkey"}`,
    `sync: ${s.store.opts.sync ? "yes" : "no"}`, `synctime: ${s.store.opts.synctime}`,
    `role: ${s.opts.replicate ? "replica" : "master"}`, `mirrors: ${s.mirrors.size}`,
    "", "# clients", `clients_lifetime: ${st.clients}`, `clients_connected: ${s.clients.size}`,
    "", "# stats", `commands_executed: ${st.commands}`, `commands_failed: ${st.failed}`,
    `commands_unauthorized: ${st.unauthorized}`, `namespaces: ${s.store.namespaces.size}`, "",
  ];
  c.out.bulkString(lines.join("\n"));
};

const command: Handler = (_s, c) => c.out.array(0);
const client: Handler = (_s, c, a, n) => {
  if (n >= 2 && eqi(a[1], "GETNAME")) { if (c.name) c.out.bulkString(c.name); else c.out.nil(); return; }
  if (n >= 3 && eqi(a[1], "SETNAME")) c.name = str(a[2]);
  if (n >= 2 && eqi(a[1], "ID")) { c.out.integer(c.id); return; }
  c.out.simple("OK");
};
const config: Handler = (_s, c) => c.out.array(0);
// RESP3 clients (ioredis 6) open with HELLO 3; NOPROTO makes them fall back to RESP2.
const hello: Handler = (_s, c) => c.out.error("NOPROTO unsupported protocol version");
const quit: Handler = (_s, c) => { c.out.simple("OK"); c.closeAfterReply = true; };

// ---- dataset -----------------------------------------------------------------------------------

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
    if (same === true || (same === null && t.vcrc[slot] === (vcrc = crc32(value)))) { c.out.nil(); return; }
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
function isCurrent(space: Namespace, file: number, off: number, key: Buffer): boolean {
  const s = space.table.find(key);
  return s >= 0 && space.table.file[s] === file && space.table.idxOff[s] === off && !(space.table.flags[s] & FLAG_DELETED);
}

function sendScan(c: Client, items: Array<{ file: number; off: number; key: Buffer; vlen: number; ts: number }>): void {
  if (items.length === 0) { c.out.error("No more data"); return; }
  const last = items[items.length - 1];
  c.out.array(2);
  c.out.bulk(encodeLocation(last.file, last.off));
  c.out.array(items.length);
  for (const it of items) { c.out.array(3); c.out.bulk(it.key); c.out.integer(it.vlen); c.out.integer(it.ts); }
}

function scanCursor(c: Client, space: Namespace, a: Buffer[], n: number): { file: number; off: number } | null | undefined {
  if (n < 2) return undefined;
  const loc = decodeLocation(a[1]);
  if (!loc || loc.file > space.fileId || !space.fileRecords(loc.file).some((r) => r.off === loc.off)) {
    c.out.error("Invalid key format");
    return null;
  }
  return loc;
}

const scan: Handler = (_s, c, a, n) => {
  const space = ns(c);
  const cur = scanCursor(c, space, a, n);
  if (cur === null) return;
  const items: Array<{ file: number; off: number; key: Buffer; vlen: number; ts: number }> = [];
  const first = cur ? cur.file : space.firstFileId();
  for (let f = first; f <= space.fileId && items.length < SCAN_BATCH; f++) {
    for (const { off, rec } of space.fileRecords(f)) {
      if (cur && f === cur.file && off <= cur.off) continue;
      if (!isCurrent(space, f, off, rec.key)) continue;
      items.push({ file: f, off, key: Buffer.from(rec.key), vlen: rec.vlen, ts: rec.ts });
      if (items.length >= SCAN_BATCH) break;
    }
  }
  sendScan(c, items);
};

const rscan: Handler = (_s, c, a, n) => {
  const space = ns(c);
  const cur = scanCursor(c, space, a, n);
  if (cur === null) return;
  const items: Array<{ file: number; off: number; key: Buffer; vlen: number; ts: number }> = [];
  const firstFile = space.firstFileId();
  for (let f = cur ? cur.file : space.fileId; f >= firstFile && items.length < SCAN_BATCH; f--) {
    const recs = space.fileRecords(f);
    for (let i = recs.length - 1; i >= 0; i--) {
      const { off, rec } = recs[i];
      if (cur && f === cur.file && off >= cur.off) continue;
      if (!isCurrent(space, f, off, rec.key)) continue;
      items.push({ file: f, off, key: Buffer.from(rec.key), vlen: rec.vlen, ts: rec.ts });
      if (items.length >= SCAN_BATCH) break;
    }
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

// HISTORY walks the chain of previous versions; tombstones are stepped over.
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

// ---- namespaces --------------------------------------------------------------------------------

function nsArg(c: Client, a: Buffer[]): string | null {
  if (a[1].length > 128) { c.out.error("Namespace too long"); return null; }
  return str(a[1]);
}

/** NSNEW name [PASSWORD p] [PUBLIC 0|1] [MAXSIZE n] [MODE user|seq] [WORM 0|1]: the namespace is
 *  born with these settings, so there is no moment where it is public and without a password
 *  (plain NSNEW name is the real 0-db's: public, no password, configured by NSSET afterwards). */
function nsOptions(c: Client, a: Buffer[], n: number): Partial<NsSettings> | null {
  if ((n - 2) % 2 !== 0) { c.out.error("Unexpected arguments"); return null; }
  const o: Partial<NsSettings> = {};
  for (let i = 2; i < n; i += 2) {
    const key = a[i].toString("latin1").toUpperCase(), v = a[i + 1];
    if (v.length > 63) { c.out.error("Invalid value"); return null; }
    const value = str(v);
    switch (key) {
      case "PASSWORD": o.password = value === "*" || value === "" ? null : value; break;
      case "PUBLIC": o.public = value[0] === "1"; break;
      case "WORM": o.worm = value[0] === "1"; break;
      case "MAXSIZE": case "SIZE": o.maxsize = Math.max(0, Number.parseInt(value, 10) || 0); break;
      case "MODE":
        if (value !== "user" && value !== "seq") { c.out.error("Invalid property value (expected: user, seq)"); return null; }
        o.mode = value; break;
      default: c.out.error("Invalid property"); return null;
    }
  }
  return o;
}

const nsnew: Handler = (s, c, a, n) => {
  if (!admin(c)) return;
  if (n < 2) { c.out.error("Unexpected arguments"); return; }
  if (a[1].length === 0) { c.out.error("Invalid argument"); return; }
  const name = nsArg(c, a); if (name === null) return;
  const settings = nsOptions(c, a, n); if (settings === null) return;
  if (!Store.validName(name)) { c.out.error("This name is not allowed"); return; }
  if (s.store.get(name)) { c.out.error("This namespace is not available"); return; }
  if (s.isReplica) { c.out.error("Namespace is in read-only mode"); return; }
  const space = s.store.create(name, settings);
  s.mutatedNs(c, "RNS", space);
  c.out.simple("OK");
};

const nsdel: Handler = (s, c, a, n) => {
  if (!admin(c) || !argsExact(c, n, 2, false, a)) return;
  const name = nsArg(c, a); if (name === null) return;
  if (name === DEFAULT_NS) { c.out.error("Cannot remove default namespace"); return; }
  const space = s.store.get(name);
  if (!space) { c.out.error("This namespace doesn't exists"); return; }
  if (c.ns === space) { c.out.error("Cannot remove namespace you're currently using."); return; }
  s.dropNamespace(space);
  s.mutatedNs(c, "RNSDEL", space);
  c.out.simple("OK");
};

const nslist: Handler = (s, c) => {
  const names = [...s.store.namespaces.keys()];
  c.out.array(names.length);
  for (const nm of names) c.out.bulkString(nm);
};

const nsinfo: Handler = (s, c, a, n) => {
  if (!argsExact(c, n, 2, false, a)) return;
  const name = nsArg(c, a); if (name === null) return;
  const space = s.store.get(name);
  if (!space) { c.out.error("Namespace not found"); return; }
  const st = space.settings;
  const mb = (x: number) => (x / (1024 * 1024)).toFixed(2);
  const lines = [
    "# namespace", `name: ${space.name}`, `entries: ${space.entries}`, `public: ${st.public ? "yes" : "no"}`,
    `worm: ${st.worm ? "yes" : "no"}`, "locked: no", `password: ${st.password ? "yes" : "no"}`,
    `data_size_bytes: ${space.dataSize}`, `data_size_mb: ${mb(space.dataSize)}`,
    `data_limits_bytes: ${st.maxsize}`, `index_size_bytes: ${space.indexSize}`,
    `index_size_kb: ${(space.indexSize / 1024).toFixed(2)}`,
    `next_internal_id: 0x${space.nextId.toString(16).padStart(8, "0")}`,
    `mode: ${st.mode === "seq" ? "sequential" : "userkey"}`,
  ];
  if (st.maxsize > 0) lines.push(`space_available: ${Math.max(0, st.maxsize - space.dataSize)}`);
  if (c.master && st.password) lines.push(`password_raw: ${st.password}`);
  c.out.bulkString(lines.join("\n") + "\n");
};

const nsset: Handler = (s, c, a, n) => {
  if (!admin(c) || !argsExact(c, n, 4, false, a)) return;
  const name = nsArg(c, a); if (name === null) return;
  if (a[3].length > 63) { c.out.error("Invalid value"); return; }
  const prop = str(a[2]), value = str(a[3]);
  if (name === DEFAULT_NS) { c.out.error("Cannot update default namespace"); return; }
  const space = s.store.get(name);
  if (!space) { c.out.error("Namespace not found"); return; }
  const st = space.settings;
  let access = false;
  switch (prop) {
    case "maxsize": st.maxsize = Math.max(0, Number.parseInt(value, 10) || 0); break;
    case "password": st.password = value === "*" ? null : value; access = true; break;
    case "public": st.public = value[0] === "1"; access = true; break;
    case "worm": st.worm = value[0] === "1"; break;
    case "lock": break;
    case "mode":
      if (value !== "user" && value !== "seq") { c.out.error("Invalid property value (expected: user, seq)"); return; }
      if (space.records > 0) { c.out.error("Cannot change mode of used namespace"); return; }
      st.mode = value; break;
    default: c.out.error("Invalid property"); return;
  }
  space.saveSettings();
  // Sessions SELECTed under the old password or privacy are held to the new ones at once.
  if (access) s.recheckSessions(space);
  s.mutatedNs(c, "RNS", space);
  c.out.simple("OK");
};

/** RELOAD ns (admin): the namespace re-read from its files, as the real 0-db's. */
const reload: Handler = (s, c, a, n) => {
  if (!admin(c) || !argsExact(c, n, 2, false, a)) return;
  const name = nsArg(c, a); if (name === null) return;
  const space = s.store.get(name);
  if (!space) { c.out.error("Namespace not found"); return; }
  s.reloadNamespace(space);
  c.out.simple("OK");
};

const select: Handler = (s, c, a, n) => {
  if (n < 2 || n > 4) { c.out.error("Invalid argument"); return; }
  const name = nsArg(c, a); if (name === null) return;
  const space = s.store.get(name);
  if (!space) { c.out.error("Namespace not found"); return; }
  // With --protect the default namespace behaves as if its password were the admin password.
  const password = name === DEFAULT_NS ? (s.opts.protect ? s.opts.admin ?? null : null) : space.settings.password;
  const isPublic = name === DEFAULT_NS ? true : space.settings.public;
  let writable = true;
  let given: string | null = null;
  if (password) {
    if (n === 2) {
      if (!isPublic) { c.out.error("Namespace protected and private"); return; }
      writable = false;
    } else if (n === 3) {
      if (a[2].length > 255) { c.out.error("Password too long"); return; }
      if (str(a[2]) !== password) { c.out.error("Access denied"); s.authFailed(c); return; }
      given = password;
    } else {
      if (!eqi(a[2], "SECURE")) { c.out.error("Only SECURE extra method supported"); return; }
      if (!c.nonce) { c.out.error("No CHALLENGE requested, secure authentication not available"); return; }
      if (a[3].length !== 40) { c.out.error("Invalid hash length"); return; }
      const ok = str(a[3]) === hashPassword(c.nonce, password);
      c.nonce = null;
      if (!ok) { c.out.error("Access denied"); s.authFailed(c); return; }
      given = password;
    }
    s.authSucceeded(c);
  }
  c.ns = space;
  c.writable = writable;
  c.nsPassword = given;
  c.out.simple("OK");
};

const dbsize: Handler = (_s, c) => c.out.integer(ns(c).entries);

const flush: Handler = (s, c) => {
  const space = ns(c);
  if (space.settings.public || !space.settings.password) { c.out.error("Flushing public namespace denied"); return; }
  if (!c.writable || s.isReplica) { c.out.error("Namespace is in read-only mode"); return; }
  space.reset();
  s.mutatedNs(c, "RFLUSH", space);
  c.out.simple("OK");
};

// ---- replication and events --------------------------------------------------------------------

const wait: Handler = (s, c, a, n) => {
  if (n !== 2 && n !== 3) { c.out.error("Invalid arguments"); return; }
  const target = a[1].toString("latin1").toUpperCase();
  if (target !== "*" && !s.commandNames.has(target)) { c.out.error("Unknown command to watch"); return; }
  let timeout = 5000;
  if (n === 3) {
    timeout = Number(str(a[2]));
    if (a[2].length > 16 || !Number.isFinite(timeout) || timeout < 100 || timeout > 30 * 60 * 1000) { c.out.error("Invalid timeout"); return; }
  }
  s.addWaiter(c, target, timeout);
};

const mirror: Handler = (s, c, a, n) => {
  if (!admin(c)) return;
  const have = new Map<string, number>();
  for (let i = 1; i + 1 < n; i += 2) have.set(str(a[i]), Number(str(a[i + 1])) || 0);
  c.out.simple("Starting mirroring");
  s.startMirror(c, have);
};

const master: Handler = (_s, c) => {
  if (!admin(c)) return;
  c.master = true;
  c.out.simple("Hello, master");
};

const ack: Handler = (s, c, a, n) => {
  if (c.mirror && n === 2) s.mirrorAck(c, Number(str(a[1])));
};

export const COMMANDS: Command[] = [
  { name: "PING", handler: ping }, { name: "TIME", handler: time }, { name: "AUTH", handler: auth },
  { name: "STOP", handler: stop }, { name: "INFO", handler: info }, { name: "COMMAND", handler: command },
  { name: "CLIENT", handler: client }, { name: "CONFIG", handler: config }, { name: "QUIT", handler: quit },
  { name: "HELLO", handler: hello },
  { name: "SET", handler: set, fast: setFast, write: true }, { name: "SETX", handler: set, fast: setFast, write: true },
  { name: "GET", handler: get, fast: getFast }, { name: "DEL", handler: del, write: true },
  { name: "EXISTS", handler: exists }, { name: "CHECK", handler: check }, { name: "KEYCUR", handler: keycur },
  { name: "KEYTIME", handler: keytime }, { name: "LENGTH", handler: length },
  { name: "SCAN", handler: scan }, { name: "SCANX", handler: scan }, { name: "RSCAN", handler: rscan },
  { name: "KSCAN", handler: kscan }, { name: "HISTORY", handler: history },
  { name: "NSNEW", handler: nsnew, write: true }, { name: "NSDEL", handler: nsdel, write: true },
  { name: "NSLIST", handler: nslist }, { name: "NSINFO", handler: nsinfo }, { name: "NSSET", handler: nsset, write: true },
  { name: "SELECT", handler: select }, { name: "RELOAD", handler: reload }, { name: "DBSIZE", handler: dbsize }, { name: "FLUSH", handler: flush, write: true },
  { name: "WAIT", handler: wait }, { name: "MIRROR", handler: mirror }, { name: "MASTER", handler: master },
  { name: "ACK", handler: ack },
];

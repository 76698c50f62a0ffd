// Namespaces: create, delete, list, describe, configure, select, reload, size, flush.
import { type NsSettings } from "../namespace.js";
import { DEFAULT_NS, Store } from "../store.js";
import type { Client } from "../server.js";
import { type Handler, type Command, str, eqi, argsExact, admin, ns, hashPassword } from "./common.js";

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

export const NAMESPACES: Command[] = [
  { name: "NSNEW", handler: nsnew, write: true }, { name: "NSDEL", handler: nsdel, write: true },
  { name: "NSLIST", handler: nslist }, { name: "NSINFO", handler: nsinfo }, { name: "NSSET", handler: nsset, write: true },
  { name: "SELECT", handler: select }, { name: "RELOAD", handler: reload }, { name: "DBSIZE", handler: dbsize },
  { name: "FLUSH", handler: flush, write: true },
];

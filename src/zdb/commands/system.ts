// Connection and server commands: PING, TIME, AUTH, STOP, INFO, and what Redis clients send on connect.
import { randomBytes } from "node:crypto";
import { type Handler, type Command, str, eqi, nowSec, hashPassword } from "./common.js";

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

export const SYSTEM: Command[] = [
  { name: "PING", handler: ping }, { name: "TIME", handler: time }, { name: "AUTH", handler: auth },
  { name: "STOP", handler: stop }, { name: "INFO", handler: info }, { name: "COMMAND", handler: command },
  { name: "CLIENT", handler: client }, { name: "CONFIG", handler: config }, { name: "QUIT", handler: quit },
  { name: "HELLO", handler: hello },
];

// Replication and events: WAIT for another client's command, MIRROR (a replica attaches), MASTER, ACK.
import { type Handler, type Command, str, admin } from "./common.js";

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
  // `MIRROR ns count …`, or one JSON object {ns: count} when the pairs would pass the 1,024
  // arguments a request may have (a replica with more than 511 namespaces).
  if (n === 2 && a[1][0] === 0x7b) {
    let counts: Record<string, unknown>;
    try { counts = JSON.parse(str(a[1])) as Record<string, unknown>; } catch { c.out.error("Invalid arguments"); return; }
    for (const [ns, k] of Object.entries(counts)) have.set(ns, Number(k) || 0);
  } else for (let i = 1; i + 1 < n; i += 2) have.set(str(a[i]), Number(str(a[i + 1])) || 0);
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

export const REPLICATION: Command[] = [
  { name: "WAIT", handler: wait }, { name: "MIRROR", handler: mirror }, { name: "MASTER", handler: master },
  { name: "ACK", handler: ack },
];

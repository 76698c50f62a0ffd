// The replica side of one replicated frame: the master's mutation applied to the local store as
// is (same key, value and time), and passed on to this server's own mirrors.
import { FLAG_DELETED } from "./format.js";
import type { Server } from "./server.js";
import { DEFAULT_NS } from "./store.js";

export function applyFrame(s: Server, op: string, nsName: string, a: Buffer[]): void {
  const store = s.store;
  let ns = store.get(nsName);
  switch (op) {
    case "RNS": {
      if (!ns) ns = store.create(nsName);
      ns.settings = { ...ns.settings, ...(JSON.parse(a[4].toString("utf8")) as object) };
      ns.saveSettings();
      s.recheckSessions(ns);
      s.mutatedNs(null, "RNS", ns);
      return;
    }
    case "RNSDEL": if (ns && nsName !== DEFAULT_NS) { s.dropNamespace(ns); s.mutatedNs(null, "RNSDEL", ns); } return;
    case "RFLUSH": if (ns) { ns.reset(); s.mutatedNs(null, "RFLUSH", ns); } return;
    case "RSET": case "RDEL": {
      if (!ns) ns = store.create(nsName);
      const ts = Number(a[6].toString("latin1"));
      const flags = op === "RDEL" ? FLAG_DELETED : 0;
      ns.append(a[4], a[5], flags, ts, flags ? 0 : undefined);
      s.mutated(null, ns, op, a[4], a[5], ts);
      return;
    }
    default: return;
  }
}

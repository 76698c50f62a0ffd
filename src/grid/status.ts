// `grid status`: which of the grid's processes run, what the ledger says about its nodes.
import { resolve } from "node:path";
import { LedgerClient } from "../ledger/client/index.js";
import { GridLayout } from "./state.js";
import { netnsList, linkExists } from "./netns.js";
import { nodeNet } from "./naming.js";
import { pidAlive } from "../runtime/index.js";
import { readPid, runningPid } from "./procs.js";

export interface StatusReport {
  dir: string;
  exists: boolean;
  running: boolean;
  mode: "netns" | "local" | null;
  ledger: { url: string | null; pid: number | null; alive: boolean; height: number | null };
  explorer: { url: string; pid: number | null; alive: boolean } | null;
  hub: { url: string; pid: number | null; alive: boolean; zdbAlive: boolean } | null;
  nodes: Array<{ index: number; id: number | null; underlay: string; netns: string | null; netnsExists: boolean; pid: number | null; alive: boolean; status: string | null }>;
  bridge: { name: string; exists: boolean } | null;
  deployment: { name: string } | null;
}

export async function gridStatus(dirIn: string): Promise<StatusReport> {
  const dir = resolve(dirIn);
  const L = new GridLayout(dir);
  const state = L.load();
  const ledgerPid = readPid(L.run, "bcdb");
  const ledgerAlive = ledgerPid !== null && pidAlive(ledgerPid);
  let height: number | null = null;
  let onLedger = new Map<number, string>();
  if (state && ledgerAlive) {
    const c = new LedgerClient(state.ledger.url);
    try {
      height = (await c.status()).height;
      onLedger = new Map((await c.nodes()).map((n) => [n.id, n.status]));
    } catch { /* not answering */ }
  }
  const namespaces = new Set(state?.net ? netnsList() : []);
  const nodes = (state?.nodes ?? []).map((n) => {
    const pid = readPid(L.run, `zos-n${n.index}`);
    return {
      index: n.index, id: n.nodeId ?? null, underlay: n.underlay, netns: n.netns,
      netnsExists: !!(state?.net && n.netns && namespaces.has(nodeNet(state.net, n.index).netns)),
      pid, alive: pid !== null && pidAlive(pid), status: n.nodeId !== undefined ? onLedger.get(n.nodeId) ?? null : null,
    };
  });
  return {
    dir, exists: state !== null,
    running: ledgerAlive && nodes.length > 0 && nodes.every((n) => n.alive) && (!state?.hub || runningPid(L.run, "zhub") !== null),
    mode: state?.mode ?? null,
    ledger: { url: state?.ledger.url ?? null, pid: ledgerPid, alive: ledgerAlive, height },
    explorer: state?.explorer ? { url: state.explorer.url, pid: readPid(L.run, "explorer"), alive: runningPid(L.run, "explorer") !== null } : null,
    hub: state?.hub ? { url: state.hub.url, pid: readPid(L.run, "zhub"), alive: runningPid(L.run, "zhub") !== null, zdbAlive: runningPid(L.run, "hub-zdb") !== null } : null,
    nodes,
    bridge: state?.net ? { name: state.net.bridge, exists: linkExists(state.net.bridge) } : null,
    deployment: state?.example ? { name: state.example.name } : null,
  };
}

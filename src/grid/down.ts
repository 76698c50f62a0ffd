// `grid down`: stop every process the grid started and remove every namespace, veth and bridge it
// made. The data stays, so `grid up` brings the same grid back.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { GridLayout } from "./state.js";
import { nodeNet } from "./naming.js";
import { netnsPids, removeBridge, removeNodeNs, netnsList } from "./netns.js";
import { pidNames, pidsMentioning, readPid, removePidFile, stopPids } from "./procs.js";
import { removeNodeContainers } from "./containers.js";

/** This process and its ancestors: never stopped, even if their command line names DIR. */
function ancestors(): Set<number> {
  const out = new Set<number>([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      pid = parseInt(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1], 10);
    } catch { break; }
  }
  return out;
}

export interface DownReport { dir: string; stopped: number[]; removed: string[]; containers: string[] }

export async function gridDown(opts: { dir: string; note: (l: string) => void; graceMs?: number }): Promise<DownReport> {
  const dir = resolve(opts.dir);
  const L = new GridLayout(dir);
  const state = L.load();
  const keep = ancestors();
  const names = pidNames(L.run);
  const pids = names.map((n) => readPid(L.run, n)).filter((p): p is number => p !== null && !keep.has(p));
  // Nodes first, so none of them sees its ledger (or hub) vanish and starts reconnecting.
  const pidsOf = (ns: string[]) => ns.map((n) => readPid(L.run, n)).filter((p): p is number => p !== null && !keep.has(p));
  const nodePids = pidsOf(names.filter((n) => n.startsWith("zos-")));
  if (nodePids.length) opts.note(`stopping ${nodePids.length} node(s)`);
  await stopPids(nodePids, opts.graceMs);
  const otherPids = pidsOf(names.filter((n) => n !== "bcdb" && !n.startsWith("zos-")));
  if (otherPids.length) opts.note(`stopping the flist hub and its 0-db`);
  await stopPids(otherPids, opts.graceMs);
  const ledgerPid = readPid(L.run, "bcdb");
  if (ledgerPid !== null) { opts.note("stopping the ledger"); await stopPids([ledgerPid], opts.graceMs); }
  // What a daemon started outside its process group (a node's 0-db), and anything left in a namespace.
  const stray = new Set<number>(pidsMentioning(dir).filter((p) => !keep.has(p)));
  const removed: string[] = [];
  if (state?.net) {
    for (const n of state.nodes) if (n.netns) for (const p of netnsPids(n.netns)) if (!keep.has(p)) stray.add(p);
  }
  if (stray.size) { opts.note(`stopping ${stray.size} leftover process(es)`); await stopPids([...stray], 3000); }
  for (const n of names) removePidFile(L.run, n);
  // The nodes' containers outlive their node on purpose (a restarted node adopts them): not here.
  const containers: string[] = [];
  for (const n of state?.nodes ?? []) {
    const nn = state?.net ? nodeNet(state.net, n.index) : null;
    const c = await removeNodeContainers(L.nodeData(n.index), nn && existsSync(`/run/netns/${nn.netns}`) ? nn.netns : null);
    containers.push(...c.containers);
    removed.push(...c.netns);
  }
  if (containers.length) opts.note(`removed ${containers.length} container(s)`);
  if (state?.net) {
    const present = new Set(netnsList());
    for (const n of state.nodes) {
      const nn = nodeNet(state.net, n.index);
      if (present.has(nn.netns)) removed.push(nn.netns);
      removeNodeNs(nn);
    }
    removeBridge(state.net);
    removed.push(state.net.bridge);
    opts.note(`removed ${removed.length} namespace(s) and link(s)`);
  }
  if (!existsSync(dir)) opts.note(`${dir} does not exist: nothing to stop`);
  return { dir, stopped: [...new Set([...pids, ...stray])], removed, containers };
}

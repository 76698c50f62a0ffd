// `grid down`: stop every process the grid started, have each node remove what it made on the
// machine (`zos cleanup`: a stopping node leaves its containers running on purpose, for the next
// zos to adopt), and remove every namespace, veth and bridge the launcher made. The data stays, so
// `grid up` brings the same grid back.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { UnavailableError } from "../core/index.js";
import type { CleanupReport } from "../node/index.js";
import { GridLayout } from "./state.js";
import { nodeNet } from "./naming.js";
import { netnsPids, removeBridge, removeNodeNs, netnsList } from "./netns.js";
import { pidNames, pidsMentioning, readPid, removePidFile, stopPids } from "./procs.js";
import { BIN } from "./up.js";

const run = promisify(execFile);

/** `zos cleanup` for one stopped node, in the network namespace it ran in (its containers' veths
 *  are there), the way `grid up` starts it. */
async function zosCleanup(nodeData: string, netns: string | null): Promise<CleanupReport> {
  const zos = [process.execPath, BIN("zos"), "cleanup", "--data", nodeData, "--json"];
  const [command, ...args] = netns ? ["nsenter", `--net=/run/netns/${netns}`, "--", ...zos] : zos;
  const r = await run(command, args, { env: { ...process.env, NODE_NO_WARNINGS: "1" }, maxBuffer: 16 << 20 })
    .catch((e: { stdout?: string; stderr?: string; message: string }) => ({ stdout: e.stdout ?? "", stderr: e.stderr || e.message }));
  let out: (CleanupReport & { error?: undefined }) | { error: { message: string; hint?: string } } | undefined;
  try { out = JSON.parse(r.stdout.trim().split("\n").pop() ?? ""); } catch { out = undefined; }
  if (!out || out.error) {
    throw new UnavailableError(`zos cleanup --data ${nodeData} failed: ${out?.error?.message ?? r.stderr.trim()}`, out?.error?.hint ?? "run it by hand to see why; `grid down` can be run again");
  }
  return out;
}

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

export interface DownReport { dir: string; stopped: number[]; removed: string[]; containers: string[]; nodes: CleanupReport[] }

export async function gridDown(opts: { dir: string; note: (l: string) => void; graceMs?: number }): Promise<DownReport> {
  const dir = resolve(opts.dir);
  const L = new GridLayout(dir);
  const state = L.load();
  const keep = ancestors();
  const names = pidNames(L.run);
  const pids = names.map((n) => readPid(L.run, n)).filter((p): p is number => p !== null && !keep.has(p));
  // Nodes first, so none of them sees its ledger (or hub) vanish and starts reconnecting.
  const pidsOf = (ns: string[]) => ns.map((n) => readPid(L.run, n)).filter((p): p is number => p !== null && !keep.has(p));
  // The explorer first: it only reads, and would otherwise retry a ledger that is going away.
  const explorerPids = pidsOf(names.filter((n) => n === "explorer"));
  if (explorerPids.length) opts.note("stopping the explorer");
  await stopPids(explorerPids, opts.graceMs);
  const nodePids = pidsOf(names.filter((n) => n.startsWith("zos-")));
  if (nodePids.length) opts.note(`stopping ${nodePids.length} node(s)`);
  await stopPids(nodePids, opts.graceMs);
  // The nodes' containers, mounts, namespaces and cgroups, and a 0-db a killed node left: each node
  // removes its own (the launcher knows nothing of how a node names them).
  const nodes: CleanupReport[] = [];
  const failed: string[] = [];
  for (const n of state?.nodes ?? []) {
    const data = L.nodeData(n.index);
    if (!existsSync(data)) continue;
    const ns = n.netns && existsSync(`/run/netns/${n.netns}`) ? n.netns : null;
    await zosCleanup(data, ns).then((r) => nodes.push(r), (e: Error) => failed.push(e.message));
  }
  const containers = nodes.flatMap((r) => r.containers);
  if (containers.length) opts.note(`removed ${containers.length} container(s)`);
  const otherPids = pidsOf(names.filter((n) => n !== "bcdb" && n !== "explorer" && !n.startsWith("zos-")));
  if (otherPids.length) opts.note(`stopping the flist hub and its 0-db`);
  await stopPids(otherPids, opts.graceMs);
  const ledgerPid = readPid(L.run, "bcdb");
  if (ledgerPid !== null) { opts.note("stopping the ledger"); await stopPids([ledgerPid], opts.graceMs); }
  // Anything else that names the grid's folder, and anything left in a node's namespace.
  const stray = new Set<number>(pidsMentioning(dir).filter((p) => !keep.has(p)));
  const removed: string[] = nodes.flatMap((r) => [...r.netns, ...r.veths]);
  if (state?.net) {
    for (const n of state.nodes) if (n.netns) for (const p of netnsPids(n.netns)) if (!keep.has(p)) stray.add(p);
  }
  if (stray.size) { opts.note(`stopping ${stray.size} leftover process(es)`); await stopPids([...stray], 3000); }
  for (const n of names) removePidFile(L.run, n);
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
  if (failed.length) throw new UnavailableError(failed.join("\n"), "run `grid down` again once the cause is fixed (every step is idempotent)");
  return { dir, stopped: [...new Set([...pids, ...stray, ...nodes.flatMap((r) => r.processes)])], removed, containers, nodes };
}

// Launch step 3: N nodes (zos), each in its own network namespace as root, registered on the
// ledger with a share of this machine's capacity.
import { mkdirSync, statfsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import type { LedgerClient } from "../../ledger/client/index.js";
import { nodeNet } from "../naming.js";
import { ensureNodeNs } from "../netns.js";
import { freePort } from "../ports.js";
import { runningPid, startDaemon } from "../procs.js";
import type { NodeState } from "../state.js";
import { BIN, waitFor, type Step } from "./common.js";

type Capacity = { cru: number; mru: number; sru: number; hru: number };

/** Each node's share of this machine, so N nodes together never claim more than it has. Half the
 *  disk is declared SSD and half HDD: a 0-db reserves HDD, a volume SSD. */
function nodeCapacity(dir: string, n: number): Capacity {
  const st = statfsSync(dir);
  const disk = Math.floor((Number(st.bavail) * Number(st.bsize)) / n);
  return { cru: Math.max(1, Math.floor(cpus().length / n)), mru: Math.floor(totalmem() / n), sru: Math.floor(disk / 2), hru: Math.floor(disk / 2) };
}

/** The nodes the grid had (at least `want`), started if not running; resolves with their pids once
 *  the ledger lists every one as up. */
export async function upNodes(step: Step, ledger: LedgerClient, want: number | undefined): Promise<number[]> {
  const { L, state } = step;
  const net = state.net;
  const count = Math.max(want ?? (state.nodes.length || 3), state.nodes.length);
  const cap = nodeCapacity(L.dir, count);
  for (let i = 1; i <= count; i++) {
    let ns = state.nodes.find((n) => n.index === i);
    if (!ns) {
      const nn = net ? nodeNet(net, i) : null;
      ns = nn
        ? { index: i, underlay: nn.ip, netns: nn.netns, zdbPort: 9900, metricsPort: 9100 }
        : { index: i, underlay: "127.0.0.1", netns: null, zdbPort: await freePort(), metricsPort: await freePort() };
      state.nodes.push(ns);
      L.save(state);
    }
    if (net && ns.netns) ensureNodeNs(net, nodeNet(net, i));
  }
  // One after the other, so node ids follow the nodes' order on a new grid.
  const started: number[] = [];
  for (const ns of state.nodes) started.push(await startNode(step, ns, cap));
  L.save(state);
  const farmId = state.farmer!.farmId;
  await waitFor(`${state.nodes.length} nodes up on the ledger`, 30_000, async () => {
    const up = await ledger.nodes({ status: "up", farmId });
    return state.nodes.every((n) => up.some((u) => u.id === n.nodeId)) ? true : undefined;
  });
  return started;
}

async function startNode({ L, state, env, note }: Step, ns: NodeState, cap: Capacity): Promise<number> {
  const name = `zos-n${ns.index}`;
  const running = runningPid(L.run, name);
  if (running !== null && ns.nodeId) { note(`node ${ns.nodeId} already running (${ns.underlay})`); return running; }
  const zos = [
    process.execPath, BIN("zos"), "--ledger", state.ledger.url, "--data", L.nodeData(ns.index), "--farm", String(state.farmer!.farmId),
    "--underlay", ns.underlay, "--cru", String(cap.cru), "--mru", String(cap.mru), "--sru", String(cap.sru), "--hru", String(cap.hru),
    "--zdb-port", String(ns.zdbPort), "--metrics-port", String(ns.metricsPort),
  ];
  // nsenter joins only the node's network namespace: `ip netns exec` would also give zos a private
  // mount namespace with a fresh /sys (no cgroup hierarchies for runc), and the mounts and
  // namespaces it makes for containers would be invisible, and unremovable, from the host.
  const [command, ...args] = ns.netns ? ["nsenter", `--net=/run/netns/${ns.netns}`, "--", ...zos] : zos;
  mkdirSync(L.nodeData(ns.index), { recursive: true });
  note(`starting node ${ns.index} at ${ns.underlay}${ns.netns ? ` in netns ${ns.netns}` : ""}`);
  const { pid, ready } = await startDaemon<{ nodeId: number; twinId: number; underlay: string }>({ name, command, args, env, logDir: L.logs, runDir: L.run, readyTimeoutMs: 30_000 });
  ns.nodeId = ready.nodeId;
  ns.twinId = ready.twinId;
  note(`node ${ready.nodeId} registered (twin ${ready.twinId}, ${ready.underlay})`);
  return pid;
}

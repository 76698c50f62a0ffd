// A small grid for the overlay tests and the bench, as root: a bridge standing for the underlay,
// per node a namespace on it (its own underlay address, as `grid up` makes them), a bcdb and the
// example flist's hub listening on the bridge, and real zos processes started in the nodes'
// namespaces with nsenter. The user signs per-node contracts with core + the ledger client.
// Everything it makes is removed when the test ends, in order: zos processes, what the nodes made
// (`zos cleanup`), the hub, the ledger, the namespaces, the bridge, the folder.
import { spawn, execFile } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateKeyPair, seal, signDeployment, MiB, type Deployment, type Workload } from "../../src/core/index.js";
import { publishExampleFlist } from "../../src/flist/index.js";
import { gridNet, nodeNet, type GridNet, type NodeNet } from "../../src/grid/naming.js";
import { ensureBridge, ensureNodeNs, removeBridge, removeNodeNs } from "../../src/grid/netns.js";
import type { Contract, LedgerClient } from "../../src/ledger/client/index.js";
import { generateWgKeyPair, type WgKeyPair } from "../../src/kosmos/network/keys.js";
import { startLedger, stopChild, waitFor, REPO_ROOT, type AfterHooks, type Ledger } from "../support.js";
import { startHub, startHubStore, type HubProc, type StoreProc } from "../flist/helpers.js";
import { newFarm, newUser, type User } from "../node/grid.js";

export const run = promisify(execFile);

export interface ZosNode {
  index: number; net: NodeNet; dir: string; nodeId: number; sealKey: string; args: string[];
  pid: number; stderr: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestGrid {
  dir: string; net: GridNet; ledger: Ledger; client: LedgerClient; flist: string; entrypoint: string; farmId: number;
  nodes: ZosNode[];
  /** A namespace on the underlay bridge with no node in it (a user's laptop), removed at the end. */
  spareNs(index: number): NodeNet;
  /** Starts zos for node `index` again (same folder and arguments). */
  restart(n: ZosNode): Promise<ZosNode>;
}

async function startZos(net: NodeNet, args: string[]): Promise<{ pid: number; line: Record<string, unknown>; stderr: () => string; kill(s?: NodeJS.Signals): Promise<void> }> {
  const child = spawn("nsenter", [`--net=/run/netns/${net.netns}`, "--", process.execPath, join(REPO_ROOT, "bin", "zos"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-40_000); });
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`zos did not get ready:\n${err}`)), 30_000);
    child.once("exit", (c) => { clearTimeout(t); reject(new Error(`zos exited ${c}:\n${err}`)); });
    createInterface({ input: child.stdout! }).once("line", (l) => { clearTimeout(t); resolve(JSON.parse(l) as Record<string, unknown>); });
  });
  child.stdout!.resume();
  const kill = (signal: NodeJS.Signals = "SIGTERM") => stopChild(child, signal);
  return { pid: child.pid!, line, stderr: () => err, kill };
}

/**
 * A hidden node's namespace: behind the router namespace `r` (a node namespace on the bridge, whose
 * address is the NAT's public side), on a private /30, masqueraded on the way out. Nothing on the
 * underlay can open a connection to it.
 */
export async function hiddenBehind(r: NodeNet): Promise<NodeNet> {
  const h: NodeNet = { ...r, netns: `${r.netns}-hidden`, vethHost: `hr${r.vethHost.slice(2)}`, vethPeer: "eth0", ip: "192.168.231.2" };
  await run("ip", ["netns", "add", h.netns]);
  await run("ip", ["-n", r.netns, "link", "add", h.vethHost, "type", "veth", "peer", "name", "eth0", "netns", h.netns]);
  const batch = async (ns: string, cmds: string[]) => {
    const c = spawn("ip", ["-n", ns, "-batch", "-"], { stdio: ["pipe", "ignore", "inherit"] });
    c.stdin.end(cmds.join("\n") + "\n");
    const code = await new Promise((res) => c.once("exit", res));
    if (code !== 0) throw new Error(`ip -n ${ns} -batch failed`);
  };
  await batch(r.netns, [`addr add 192.168.231.1/30 dev ${h.vethHost}`, `link set ${h.vethHost} up`]);
  await batch(h.netns, ["link set lo up", "addr add 192.168.231.2/30 dev eth0", "link set eth0 up", "route add default via 192.168.231.1"]);
  await run("ip", ["netns", "exec", r.netns, "iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "eth0", "-j", "MASQUERADE"]);
  return h;
}

export async function testGrid(t: AfterHooks, nodes: number, opts: { hidden?: number[] } = {}): Promise<TestGrid> {
  const dir = mkdtempSync(join(tmpdir(), "znet-"));
  const net = gridNet(dir);
  const live: { nodes: ZosNode[]; ledger?: Ledger; hub?: HubProc; store?: StoreProc; nets: NodeNet[] } = { nodes: [], nets: [] };
  t.after(async () => {
    for (const n of live.nodes) await n.kill();
    for (const n of live.nodes) {
      await run("nsenter", [`--net=/run/netns/${n.net.netns}`, "--", process.execPath, join(REPO_ROOT, "bin", "zos"), "cleanup", "--data", n.dir]).catch((e: unknown) => console.error(`zos cleanup ${n.dir}: ${(e as Error).message}`));
      // The node's 0-db (a killed zos leaves it) is a process in the node's namespace.
      const pids = (await run("ip", ["netns", "pids", n.net.netns]).then((r) => r.stdout, () => "")).split("\n").filter(Boolean);
      for (const p of pids) { try { process.kill(Number(p), "SIGKILL"); } catch { /* gone */ } }
    }
    await live.hub?.stop();
    await live.store?.stop();
    await live.ledger?.stop();
    for (const n of live.nets) removeNodeNs(n);
    for (const n of live.nets) await run("ip", ["netns", "del", `${n.netns}-hidden`]).catch(() => {});
    removeBridge(net);
    rmSync(dir, { recursive: true, force: true });
  });
  ensureBridge(net);
  live.ledger = await startLedger(join(dir, "ledger"), { args: ["--host", net.bridgeIp, "--faucet", "--block-interval", "100", "--report-interval", "2"] });
  live.store = await startHubStore();
  live.hub = await startHub(live.store, { args: ["--host", net.bridgeIp] });
  const example = await publishExampleFlist({ hub: live.hub.url, keys: generateKeyPair() });
  const farmId = await newFarm(live.ledger.client);
  const startNode = async (index: number, nn: NodeNet, ndir: string, args?: string[]): Promise<ZosNode> => {
    args ??= [
      "--ledger", live.ledger!.url, "--data", ndir, "--farm", String(farmId), "--underlay", nn.ip,
      "--zdb-port", "9900", "--metrics-port", "0", "--report-interval", "1",
      "--cru", "8", "--mru", "4GiB", "--sru", "2GiB", "--hru", "10GiB", "--log-level", "info",
    ];
    const z = await startZos(nn, args);
    const nodeId = z.line.nodeId as number;
    const info = await live.ledger!.client.node(nodeId);
    return { index, net: nn, dir: ndir, nodeId, sealKey: info.sealKey, args, pid: z.pid, stderr: z.stderr, kill: z.kill };
  };
  for (let i = 1; i <= nodes; i++) {
    const nn = nodeNet(net, i);
    live.nets.push(nn);
    ensureNodeNs(net, nn);
    const z = await startNode(i, opts.hidden?.includes(i) ? await hiddenBehind(nn) : nn, join(dir, `n${i}`));
    live.nodes.push(z);
  }
  return {
    dir, net, ledger: live.ledger, client: live.ledger.client, flist: example.address, entrypoint: example.entrypoint, farmId,
    get nodes() { return live.nodes; },
    spareNs: (index) => {
      const nn = nodeNet(net, index);
      live.nets.push(nn);
      ensureNodeNs(net, nn);
      return nn;
    },
    restart: async (n) => {
      const z = await startNode(n.index, n.net, n.dir, n.args);
      live.nodes[live.nodes.indexOf(n)] = z;
      return z;
    },
  };
}

export function container(name: string, g: TestGrid, network?: string, ip?: string): Workload {
  return {
    name, type: "container", version: 0, description: "",
    data: { flist: g.flist, entrypoint: g.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 * MiB, rootfsSize: 16 * MiB, mounts: [], ...(network ? { network } : {}), ...(ip ? { ip } : {}) },
  };
}

export interface NetNode { node: ZosNode; subnet: string; keys: WgKeyPair; port: number; endpoint?: string }

/** The network workload for member `me` of a full mesh of `all` (each peer's subnet routed to it). */
export function networkWorkload(name: string, ipRange: string, me: NetNode, all: NetNode[], version = 0): Workload {
  return {
    name, type: "network", version, description: "",
    data: {
      ipRange, subnet: me.subnet, wgListenPort: me.port, wgPrivateKey: seal(me.keys.privateKey, me.node.sealKey),
      peers: all.filter((p) => p !== me).map((p) => ({ subnet: p.subnet, wgPublicKey: p.keys.publicKey, allowedIps: [p.subnet], ...(p.endpoint ? { endpoint: p.endpoint } : {}) })),
    },
  };
}

export function netNode(node: ZosNode, subnet: string, port = 51820): NetNode {
  return { node, subnet, keys: generateWgKeyPair(), port, endpoint: `${node.net.ip}:${port}` };
}

export function deploymentFor(user: User, nodeId: number, workloads: Workload[], version = 0): Deployment {
  return {
    version, twinId: user.twinId, nodeId, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: user.twinId, weight: 1, required: false }], weightRequired: 1 }, workloads,
  };
}

export async function createContract(user: User, d: Deployment): Promise<number> {
  const r = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.keys.privateKey) });
  const ev = r.events?.find((e) => e.type === "contract.created");
  if (ev?.type !== "contract.created") throw new Error("no contract.created event");
  return ev.contractId;
}

export async function updateContract(user: User, contractId: number, d: Deployment): Promise<void> {
  await user.signer.send("contract.update", { contractId, deployment: d, deploymentSignature: signDeployment(d, user.keys.privateKey) });
}

/** Waits until every named workload of the contract is `state` (an `error` on the way fails at once). */
export async function waitAll(client: LedgerClient, contractId: number, names: string[], state = "ok", timeoutMs = 60_000): Promise<Contract> {
  return waitFor(`contract ${contractId}: ${names.join(", ")} ${state}`, async () => {
    const c = await client.contract(contractId);
    for (const n of names) {
      const r = c.results[n];
      if (r?.state === "error" && state !== "error") throw new Error(`${n}: error: ${r.message}`);
    }
    return names.every((n) => c.results[n]?.state === state) ? c : undefined;
  }, { timeoutMs, stepMs: 100 });
}

export { newUser, type User };

/** The container's own network namespace (from its saved state on its node). */
export async function containerNetns(node: ZosNode, contractId: number, name: string): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  const s = JSON.parse(await readFile(join(node.dir, "container", `${contractId}-${name}`, "state.json"), "utf8")) as { netns: string };
  return s.netns;
}

/** Runs a command inside a namespace; resolves with {ok, out}. */
export async function inNs(netns: string, cmd: string[], timeoutMs = 10_000): Promise<{ ok: boolean; out: string }> {
  return run("ip", ["netns", "exec", netns, ...cmd], { timeout: timeoutMs }).then((r) => ({ ok: true, out: r.stdout }), (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` }));
}

export const ping = (from: string, to: string) => inNs(from, ["busybox", "ping", "-c", "1", "-W", "2", to]);
export const fetchOver = (from: string, to: string) => inNs(from, ["busybox", "wget", "-q", "-O", "-", `http://${to}/`], 5000);

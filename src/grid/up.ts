// `grid up`: a whole grid on this machine — the ledger, a farm, N nodes (each in its own network
// namespace as root), a funded demo user — then the example deployed and working. Every step first
// looks at what already runs, so `up` repairs, resumes after `down`, or just reports.
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync, statfsSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { resolve, join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "node:net";
import { generateKeyPair, keyPairFromSeed, newMnemonic, UnavailableError, type KeyPair } from "../core/index.js";
import { LedgerClient } from "../ledger/client/index.js";
import { ConfigStore, Kosmos, parseDeploymentFile, type DeploymentView } from "../kosmos/index.js";
import { GridLayout, type GridState, type NodeState } from "./state.js";
import { gridNet, nodeNet, type GridNet } from "./naming.js";
import { ensureBridge, ensureNodeNs, subnetInUse } from "./netns.js";
import { runningPid, startDaemon } from "./procs.js";
import { freePort } from "./ports.js";

export const REPO = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
/** GRID_BIN_<NAME> (e.g. GRID_BIN_ZOS) points the launcher at another build of a daemon (development). */
export const BIN = (name: string) => process.env[`GRID_BIN_${name.toUpperCase()}`] || join(REPO, "bin", name);
export const DEFAULT_EXAMPLE = join(REPO, "examples", "hello.yaml");
/** The example's password comes from this variable; the launcher makes one up when it is unset. */
export const EXAMPLE_PASSWORD_ENV = "HELLO_ZDB_PASSWORD";

export interface UpOptions {
  dir: string;
  /** How many nodes (default: as many as the grid had, or 3 for a new grid). */
  nodes?: number;
  example: string;
  /** Force plain processes on 127.0.0.1 even as root. */
  noNetns?: boolean;
  note: (line: string) => void;
  timeoutMs?: number;
}

export interface UpReport {
  ledger: string;
  nodes: Array<{ id: number; underlay: string; netns: string | null; pid: number }>;
  user: { twinId: number; home: string };
  deployment: { name: string; contractId: number; workloads: Array<{ name: string; type: string; state: string; data: Record<string, unknown> }> };
  mode: "netns" | "local";
  dir: string;
  env: Record<string, string>;
  /** The example's 0-db password (a local demo's secret: kept 0600 in DIR/user). */
  examplePassword: string;
  view: DeploymentView;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function loadOrMakeKey(path: string): KeyPair {
  if (existsSync(path)) return keyPairFromSeed(readFileSync(path, "utf8").trim());
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  const k = generateKeyPair();
  writeFileSync(path, k.privateKey + "\n", { mode: 0o600 });
  chmodSync(path, 0o600);
  return k;
}

/** Each node's share of this machine, so N nodes together never claim more than it has. Half the
 *  disk is declared SSD and half HDD: a 0-db reserves HDD, a volume SSD. */
function nodeCapacity(dir: string, n: number): { cru: number; mru: number; sru: number; hru: number } {
  const st = statfsSync(dir);
  const disk = Math.floor((Number(st.bavail) * Number(st.bsize)) / n);
  return { cru: Math.max(1, Math.floor(cpus().length / n)), mru: Math.floor(totalmem() / n), sru: Math.floor(disk / 2), hru: Math.floor(disk / 2) };
}

function pickNet(dir: string): GridNet {
  for (let attempt = 0; attempt < 50; attempt++) {
    const net = gridNet(dir, attempt);
    if (!subnetInUse(net.subnet, net.bridge)) return net;
  }
  throw new UnavailableError("no free 10.x.y.0/24 subnet for the grid's bridge");
}

function tcpOpen(host: string, port: number): Promise<true | undefined> {
  return new Promise((res) => {
    const c = connect({ host, port, timeout: 1000 }, () => { c.destroy(); res(true); });
    c.on("error", () => res(undefined));
    c.on("timeout", () => { c.destroy(); res(undefined); });
  });
}

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr = "";
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) { lastErr = (e as Error).message; }
    if (Date.now() > deadline) throw new UnavailableError(`timed out waiting for ${what}${lastErr ? `: ${lastErr}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function gridUp(opts: UpOptions): Promise<UpReport> {
  const dir = resolve(opts.dir);
  const L = new GridLayout(dir);
  const note = opts.note;
  mkdirSync(dir, { recursive: true });
  for (const d of [L.logs, L.run]) mkdirSync(d, { recursive: true });
  const prev = L.load();
  const wantNetns = !opts.noNetns && isRoot();
  const mode: "netns" | "local" = prev?.mode ?? (wantNetns ? "netns" : "local");
  if (mode === "local") note("warning: not root (or --no-netns): nodes run as plain processes on 127.0.0.1 with distinct ports, not in their own network namespaces");
  if (mode === "netns" && !isRoot()) throw new UnavailableError(`the grid in ${dir} was made with network namespaces; bring it up as root`);

  // The network.
  let net: GridNet | null = prev?.net ?? null;
  if (mode === "netns") {
    net ??= pickNet(dir);
    ensureBridge(net);
    note(`bridge ${net.bridge} ${net.bridgeIp}/${net.prefix}`);
  }
  const host = mode === "netns" ? net!.bridgeIp : "127.0.0.1";
  const state: GridState = prev ?? { version: 1, mode, net, ledger: { host, port: await freePort(host), url: "" }, nodes: [] };
  state.net = net;
  state.ledger.url = `http://${state.ledger.host}:${state.ledger.port}`;
  L.save(state);

  // The ledger.
  const env = { ...process.env, NODE_NO_WARNINGS: "1" };
  if (runningPid(L.run, "bcdb") === null) {
    note(`starting the ledger on ${state.ledger.url}`);
    await startDaemon({
      name: "bcdb", command: process.execPath, env, logDir: L.logs, runDir: L.run,
      args: [BIN("bcdb"), "--data", L.ledgerData, "--host", state.ledger.host, "--port", String(state.ledger.port), "--faucet"],
    });
  } else note(`ledger already running on ${state.ledger.url}`);
  const ledger = new LedgerClient(state.ledger.url);
  await waitFor("the ledger", 15_000, () => ledger.status());

  // The farmer and the farm.
  const farmerKeys = loadOrMakeKey(L.farmerKey);
  const farmer = ledger.signer(farmerKeys);
  const farmerTwin = await farmer.ensureTwin();
  let farm = (await ledger.farms()).find((f) => f.twinId === farmerTwin);
  if (!farm) {
    await farmer.send("farm.create", { name: `local-${net?.tag ?? "grid"}` });
    farm = (await ledger.farms()).find((f) => f.twinId === farmerTwin);
    if (!farm) throw new UnavailableError("farm.create was included but the farm is not listed");
  }
  state.farmer = { twinId: farmerTwin, farmId: farm.id };
  L.save(state);

  // The nodes.
  const count = Math.max(opts.nodes ?? (state.nodes.length || 3), state.nodes.length);
  const cap = nodeCapacity(dir, count);
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
  for (const ns of state.nodes) started.push(await startNode(L, state, ns, cap, env, note));
  L.save(state);
  await waitFor(`${state.nodes.length} nodes up on the ledger`, 30_000, async () => {
    const up = await ledger.nodes({ status: "up", farmId: farm!.id });
    return state.nodes.every((n) => up.some((u) => u.id === n.nodeId)) ? true : undefined;
  });

  // The demo user.
  const passphrase = L.secretFile(L.passphraseFile);
  const store = new ConfigStore(L.userHome, async () => passphrase);
  if (!store.hasSecrets()) await store.setIdentity(newMnemonic());
  const { keys } = await store.identity();
  const user = new Kosmos({ ledgerUrl: state.ledger.url, keys, client: ledger });
  const twinId = await user.twinId();
  store.updateSettings({ ledgerUrl: state.ledger.url, twinId });
  if ((await user.balance()).balance < 10_000_000) {
    await user.faucet(100_000_000);
    note(`funded the demo user (twin ${twinId}) from the faucet`);
  }
  state.user = { twinId };
  L.save(state);

  // The example.
  const examplePassword = process.env[EXAMPLE_PASSWORD_ENV] || L.secretFile(L.examplePasswordFile, 12);
  const spec = parseDeploymentFile(resolve(opts.example), { ...process.env, [EXAMPLE_PASSWORD_ENV]: examplePassword });
  note(`deploying ${opts.example} ("${spec.name}")`);
  const result = await user.deploy(spec, {
    timeoutMs: opts.timeoutMs ?? 90_000,
    onProgress: (p) => {
      if (p.stage === "planned") note(`  planned on node ${p.plan.node.id}: about ${p.plan.cost.perHour} per hour`);
      else if (p.stage === "unchanged") note(`  already deployed (contract ${p.contractId})`);
      else if (p.stage === "submitted") note(`  submitted: contract ${p.contractId}`);
      else if (p.stage === "approved") note(`  approved`);
      else if (p.stage === "workload") note(`  ${p.name}: ${p.state === "pending" ? "waiting for the node" : p.state}${p.message ? ` (${p.message})` : ""}`);
    },
  });
  // An `ok` from before a restart says nothing about now: wait until each 0-db answers again.
  for (const w of result.workloads) {
    const d = w.data as { ips?: string[]; port?: number };
    if (w.type === "zdb" && d.ips?.[0] && d.port) await waitFor(`0-db ${w.name} at ${d.ips[0]}:${d.port}`, 30_000, () => tcpOpen(d.ips![0], d.port!));
  }
  state.example = { name: spec.name, file: resolve(opts.example) };
  L.save(state);

  return {
    ledger: state.ledger.url,
    nodes: state.nodes.map((n, i) => ({ id: n.nodeId!, underlay: n.underlay, netns: n.netns, pid: started[i] })),
    user: { twinId, home: L.userHome },
    deployment: { name: result.name, contractId: result.contractId, workloads: result.workloads.map((w) => ({ name: w.name, type: w.type, state: w.state, data: w.data })) },
    mode, dir,
    env: { KOSMOS_HOME: L.userHome, KOSMOS_PASSPHRASE: `$(cat ${L.passphraseFile})`, KOSMOS_LEDGER: state.ledger.url },
    examplePassword,
    view: result,
  };
}

async function startNode(L: GridLayout, state: GridState, ns: NodeState, cap: ReturnType<typeof nodeCapacity>, env: NodeJS.ProcessEnv, note: (l: string) => void): Promise<number> {
  const name = `zos-n${ns.index}`;
  const running = runningPid(L.run, name);
  if (running !== null && ns.nodeId) { note(`node ${ns.nodeId} already running (${ns.underlay})`); return running; }
  const zos = [
    process.execPath, BIN("zos"), "--ledger", state.ledger.url, "--data", L.nodeData(ns.index), "--farm", String(state.farmer!.farmId),
    "--underlay", ns.underlay, "--cru", String(cap.cru), "--mru", String(cap.mru), "--sru", String(cap.sru), "--hru", String(cap.hru),
    "--zdb-port", String(ns.zdbPort), "--metrics-port", String(ns.metricsPort),
  ];
  const [command, ...args] = ns.netns ? ["ip", "netns", "exec", ns.netns, ...zos] : zos;
  mkdirSync(L.nodeData(ns.index), { recursive: true });
  note(`starting node ${ns.index} at ${ns.underlay}${ns.netns ? ` in netns ${ns.netns}` : ""}`);
  const { pid, ready } = await startDaemon<{ nodeId: number; twinId: number; underlay: string }>({ name, command, args, env, logDir: L.logs, runDir: L.run, readyTimeoutMs: 30_000 });
  ns.nodeId = ready.nodeId;
  ns.twinId = ready.twinId;
  note(`node ${ready.nodeId} registered (twin ${ready.twinId}, ${ready.underlay})`);
  return pid;
}

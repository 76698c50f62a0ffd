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
import { ConfigStore, Kosmos, parseDeploymentFile, logPasswordsOf, type DeploymentView } from "../kosmos/index.js";
import { HubClient, publishExampleFlist } from "../flist/index.js";
import { GridLayout, type GridState, type NodeState } from "./state.js";
import { gridNet, nodeNet, type GridNet } from "./naming.js";
import { ensureBridge, ensureNodeNs, subnetInUse, routeToContainer } from "./netns.js";
import { runningPid, startDaemon } from "./procs.js";
import { freePort } from "./ports.js";

export const REPO = resolve(fileURLToPath(new URL("../../../", import.meta.url)));
/** GRID_BIN_<NAME> (e.g. GRID_BIN_ZOS) points the launcher at another build of a daemon (development). */
export const BIN = (name: string) => process.env[`GRID_BIN_${name.toUpperCase()}`] || join(REPO, "bin", name);
export const DEFAULT_EXAMPLE = join(REPO, "examples", "hello.yaml");
/** The example's password comes from this variable; the launcher makes one up when it is unset. */
export const EXAMPLE_PASSWORD_ENV = "HELLO_ZDB_PASSWORD";
/** The example's container runs this flist (the busybox httpd one the launcher publishes). */
export const EXAMPLE_FLIST_ENV = "HELLO_FLIST";
export const EXAMPLE_FLIST_NAME = "hello-httpd";

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
  hub: string;
  deployment: {
    name: string; contractId: number;
    workloads: Array<{ name: string; type: string; state: string; data: Record<string, unknown> }>;
    /** Its containers: IP, and the URL their page is served at (reachable from this host). */
    containers: Array<{ name: string; ip: string; url: string | null }>;
  };
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

  // The flist hub, and the example's flist on it (published once, as the demo user).
  const hub = await startHub(L, state, host, env, note);
  store.updateSettings({ hubUrl: hub.url });
  const example = await publishOrExplain(L, state, keys, note);
  L.save(state);

  // The example.
  const examplePassword = process.env[EXAMPLE_PASSWORD_ENV] || L.secretFile(L.examplePasswordFile, 12);
  const exampleEnv = { ...process.env, [EXAMPLE_PASSWORD_ENV]: examplePassword, [EXAMPLE_FLIST_ENV]: process.env[EXAMPLE_FLIST_ENV] || example.address };
  const spec = parseDeploymentFile(resolve(opts.example), exampleEnv);
  if (!isRoot() && spec.containers.length) {
    // runc needs root; a node not run as root would refuse the container and fail the example.
    note(`warning: not root: the example's container(s) ${spec.containers.map((c) => c.name).join(", ")} are left out (containers need root)`);
    spec.containers = [];
  }
  const logPasswords = logPasswordsOf(spec);
  if (Object.keys(logPasswords).length) await store.rememberLogPasswords(spec.name, logPasswords);
  note(`deploying ${opts.example} ("${spec.name}")`);
  const result = await user.deploy(spec, {
    timeoutMs: opts.timeoutMs ?? 90_000,
    onProgress: (p) => {
      if (p.stage === "planned") note(`  planned on node ${p.plan.node.id}: about ${p.plan.cost.perHour} per hour`);
      else if (p.stage === "unchanged") note(`  already deployed (contract ${p.contractId})`);
      else if (p.stage === "submitted") note(`  submitted: contract ${p.contractId}`);
      else if (p.stage === "approved") note(`  approved`);
      else if (p.stage === "held") note(`  ${p.containers.join(", ")}: added once 0-db ${p.zdbs.join(", ")} is up (it holds their logs)`);
      else if (p.stage === "workload") note(`  ${p.name}: ${p.state === "pending" ? "waiting for the node" : p.state}${p.message ? ` (${p.message})` : ""}`);
    },
  });
  // An `ok` from before a restart says nothing about now: wait until each 0-db answers again.
  for (const w of result.workloads) {
    const d = w.data as { ips?: string[]; port?: number };
    if (w.type === "zdb" && d.ips?.[0] && d.port) await waitFor(`0-db ${w.name} at ${d.ips[0]}:${d.port}`, 30_000, () => tcpOpen(d.ips![0], d.port!));
  }
  const containers = await waitForContainers(user, state, spec.name, result, Math.max(30_000, opts.timeoutMs ?? 90_000), note);
  if (state.net) await routeAllContainers(ledger, state, note);
  state.example = { name: spec.name, file: resolve(opts.example) };
  L.save(state);

  return {
    ledger: state.ledger.url,
    nodes: state.nodes.map((n, i) => ({ id: n.nodeId!, underlay: n.underlay, netns: n.netns, pid: started[i] })),
    user: { twinId, home: L.userHome },
    hub: hub.url,
    deployment: { name: containers.view.name, contractId: containers.view.contractId, workloads: containers.view.workloads.map((w) => ({ name: w.name, type: w.type, state: w.state, data: w.data })), containers: containers.list },
    mode, dir,
    env: { KOSMOS_HOME: L.userHome, KOSMOS_PASSPHRASE: `$(cat ${L.passphraseFile})`, KOSMOS_LEDGER: state.ledger.url, KOSMOS_HUB: hub.url, [EXAMPLE_FLIST_ENV]: exampleEnv[EXAMPLE_FLIST_ENV]! },
    examplePassword,
    view: containers.view,
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

/** The hub's 0-db and the hub (host side, on the bridge so the nodes fetch from it), started once;
 *  ports kept in grid.json so flist addresses stay valid across down/up. */
async function startHub(L: GridLayout, state: GridState, host: string, env: NodeJS.ProcessEnv, note: (l: string) => void): Promise<{ url: string }> {
  state.hub ??= { host, port: await freePort(host), zdbPort: await freePort(host), url: "" };
  const h = state.hub;
  h.url = `http://${h.host}:${h.port}`;
  L.save(state);
  mkdirSync(L.hubData, { recursive: true });
  if (runningPid(L.run, "hub-zdb") === null) {
    note(`starting the hub's 0-db on ${h.host}:${h.zdbPort}`);
    await startDaemon({
      name: "hub-zdb", command: process.execPath, env, logDir: L.logs, runDir: L.run,
      args: [BIN("zdb"), "--listen", h.host, "--port", String(h.zdbPort), "--data", join(L.hubData, "data"), "--index", join(L.hubData, "index")],
      ready: (line) => (/listening on .* port \d+/.test(line) ? true : undefined),
    });
  }
  if (runningPid(L.run, "zhub") === null) {
    note(`starting the flist hub on ${h.url}`);
    await startDaemon({
      name: "zhub", command: process.execPath, env, logDir: L.logs, runDir: L.run,
      args: [BIN("zhub"), "--host", h.host, "--port", String(h.port), "--zdb", `${h.host}:${h.zdbPort}`],
    });
  } else note(`flist hub already running on ${h.url}`);
  return { url: h.url };
}

/** Publishes the example; on failure, says whether the hub or its 0-db died, with its log's end. */
async function publishOrExplain(L: GridLayout, state: GridState, keys: KeyPair, note: (l: string) => void): Promise<{ address: string; entrypoint: string }> {
  const tail = (n: string) => { try { return readFileSync(join(L.logs, `${n}.log`), "utf8").trimEnd().split("\n").filter((l) => !l.startsWith("{")).slice(-8).join("\n"); } catch { return ""; } };
  const dead = () => ["hub-zdb", "zhub"].filter((n) => runningPid(L.run, n) === null);
  try {
    return await ensureExampleFlist(state.hub!.url, state, keys, note);
  } catch (e) {
    // A daemon that failed may take a moment to exit: give it that before looking.
    for (const end = Date.now() + 1000; !dead().length && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    const why = dead().map((n) => `\n${n} is not running; its log (${join(L.logs, `${n}.log`)}) ends:\n${tail(n)}`).join("");
    throw new UnavailableError(`publishing the example flist failed: ${(e as Error).message}${why}`, "run ./bin/grid down, then up again; the logs above say what failed");
  }
}

/** The example flist (busybox httpd) on the hub: published the first time, found afterwards. */
async function ensureExampleFlist(hubUrl: string, state: GridState, keys: KeyPair, note: (l: string) => void): Promise<{ address: string; entrypoint: string }> {
  const have = state.hub!.example;
  if (have) {
    const listed = await new HubClient(hubUrl).list().catch(() => []);
    if (listed.some((r) => r.owner === keys.publicKey && r.name === EXAMPLE_FLIST_NAME && r.hash === have.hash)) return have;
  }
  note(`building the example flist (busybox httpd) and publishing it as ${EXAMPLE_FLIST_NAME}`);
  const r = await publishExampleFlist({ hub: hubUrl, keys, name: EXAMPLE_FLIST_NAME, onProgress: (m) => note(`  ${m}`) });
  state.hub!.example = { address: r.address, hash: r.hash, entrypoint: r.entrypoint };
  note(`  ${r.address} (${r.files} files, ${r.size} bytes)`);
  return state.hub!.example;
}

async function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch { return undefined; }
}

/**
 * Every container of the example, reachable from this host: a route to its IP via its node, and,
 * for one that serves HTTP, its page answering. The node's word is re-read while waiting: after a
 * restart it recreates a container (perhaps with another IP) and says so in a new result.
 */
async function waitForContainers(user: Kosmos, state: GridState, name: string, first: DeploymentView, ms: number, note: (l: string) => void): Promise<{ view: DeploymentView; list: UpReport["deployment"]["containers"] }> {
  if (!first.workloads.some((w) => w.type === "container")) return { view: first, list: [] };
  const node = state.nodes.find((n) => n.nodeId === first.nodeId);
  let view = first;
  let said = "";
  const list = await waitFor(`the containers of "${name}" to answer`, ms, async () => {
    view = await user.get(name);
    const out: UpReport["deployment"]["containers"] = [];
    for (const w of view.workloads.filter((x) => x.type === "container")) {
      const ip = (w.data as { ip?: string }).ip;
      if (w.state !== "ok" || !ip) return undefined;
      if (state.net && node) routeToContainer(state.net, ip, node.underlay);
      if (w.url) {
        const r = await httpGet(w.url);
        if (r?.status !== 200) {
          if (said !== w.url) { said = w.url; note(`  waiting for ${w.url} to answer`); }
          return undefined;
        }
      }
      out.push({ name: w.name, ip, url: w.url ?? null });
    }
    return out;
  });
  for (const c of list) note(`  ${c.name}: ${c.url ? `serves ${c.url}` : `runs at ${c.ip}`}`);
  return { view, list };
}

/** Host routes to every running container on the grid's nodes (anyone's deployments, not only the
 *  example), so `curl http://IP/` works from this host; `grid up` again after deploying more. */
async function routeAllContainers(ledger: LedgerClient, state: GridState, note: (l: string) => void): Promise<void> {
  let n = 0;
  for (const node of state.nodes) {
    if (node.nodeId === undefined) continue;
    for (const c of await ledger.contracts({ nodeId: node.nodeId, state: "active" })) {
      for (const w of c.deployment.workloads) {
        const ip = (c.results[w.name]?.data as { ip?: unknown } | undefined)?.ip;
        if (w.type !== "container" || c.results[w.name]?.state !== "ok" || typeof ip !== "string" || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) continue;
        routeToContainer(state.net!, ip, node.underlay);
        n++;
      }
    }
  }
  if (n) note(`routes from this host to ${n} container(s)`);
}

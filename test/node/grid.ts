// End-to-end harness for the node tests: a real bcdb process, real zos processes, and a user who
// talks to the node only through the ledger (signs deployments with core + the ledger client).
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  generateKeyPair, seal, signDeployment, type Deployment, type KeyPair, type Workload,
} from "../../src/core/index.js";
import { LedgerClient, type Contract, type Signer } from "../../src/ledger/client/index.js";
import { freePort, tempDir, waitFor, run, pidAlive } from "./helpers.js";
import type { AfterHooks } from "../support.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const BIN = { bcdb: join(ROOT, "bin", "bcdb"), zos: join(ROOT, "bin", "zos") };

export interface Proc { child: ChildProcess; line: Record<string, unknown>; stderr: () => string }

/** Start a bin/* program and wait for its one JSON ready line on stdout. */
export async function startProc(bin: string, args: string[], timeoutMs = 20_000): Promise<Proc> {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => { err = (err + d.toString()).slice(-20_000); });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${bin} did not get ready in ${timeoutMs} ms:\n${err}`)), timeoutMs);
    rl.once("line", (l) => { clearTimeout(t); try { resolve(JSON.parse(l)); } catch (e) { reject(e); } });
    child.once("exit", (code) => { clearTimeout(t); reject(new Error(`${bin} exited with ${code}:\n${err}`)); });
  });
  child.stdout!.resume();
  return { child, line, stderr: () => err };
}

export async function stopProc(p: Proc | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const done = new Promise((r) => p.child.once("exit", r));
  p.child.kill(signal);
  const t = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  await done;
  clearTimeout(t);
}

export interface LedgerProc { proc: Proc; url: string; port: number; dir: string; client: LedgerClient }

export async function startLedger(dir: string, extra: string[] = [], port?: number): Promise<LedgerProc> {
  const p = port ?? await freePort();
  const proc = await startProc(BIN.bcdb, ["--data", dir, "--port", String(p), "--faucet", "--block-interval", "200", "--report-interval", "2", "--log-level", "warn", ...extra]);
  const url = proc.line.url as string;
  return { proc, url, port: p, dir, client: new LedgerClient(url) };
}

export interface User { keys: KeyPair; signer: Signer; twinId: number }

export async function newUser(client: LedgerClient, funds = 1_000_000_000): Promise<User> {
  const keys = generateKeyPair();
  const signer = client.signer(keys);
  const twinId = await signer.ensureTwin();
  if (funds > 0) await client.faucet(twinId, funds);
  return { keys, signer, twinId };
}

export async function newFarm(client: LedgerClient): Promise<number> {
  const farmer = await newUser(client, 0);
  const r = await farmer.signer.send("farm.create", { name: `farm-${farmer.twinId}` });
  const ev = r.events?.find((e) => e.type === "farm.created");
  if (!ev || ev.type !== "farm.created") throw new Error("no farm.created event");
  return ev.farmId;
}

export interface ZosProc { proc: Proc; nodeId: number; twinId: number; dir: string; args: string[] }

export async function startZos(ledgerUrl: string, farmId: number, dir: string, opts: { zdbPort: number; extra?: string[] }): Promise<ZosProc> {
  const args = [
    "--ledger", ledgerUrl, "--data", dir, "--farm", String(farmId), "--underlay", "127.0.0.1",
    "--zdb-port", String(opts.zdbPort), "--metrics-port", "0", "--report-interval", "1",
    "--cru", "4", "--mru", "4GiB", "--sru", "2GiB", "--hru", "10GiB", "--log-level", "debug", ...(opts.extra ?? []),
  ];
  const proc = await startProc(BIN.zos, args);
  return { proc, nodeId: proc.line.nodeId as number, twinId: proc.line.twinId as number, dir, args };
}

export async function restartZos(ledgerUrl: string, farmId: number, z: ZosProc): Promise<ZosProc> {
  const proc = await startProc(BIN.zos, z.args);
  void ledgerUrl; void farmId;
  return { ...z, proc, nodeId: proc.line.nodeId as number };
}

/** Stop whatever a node left so the temp folder can go: `zos cleanup` first (containers, the
 *  prepared namespace pool, networks, the gateway, its 0-db, mounts), then by hand what a folder
 *  cleanup refuses (not a node's) could still hold. */
export async function cleanupNode(dir: string): Promise<void> {
  await run(process.execPath, [BIN.zos, "cleanup", "--data", dir]).catch(() => {});
  try {
    const { pid } = JSON.parse(await readFile(join(dir, "zdb", "zdb.pid"), "utf8")) as { pid: number };
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
  } catch { /* none */ }
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").map((l) => l.split(" ")[4]).filter((m) => m && m.startsWith(dir));
  for (const m of mounts) await run("umount", ["-l", m]).catch(() => {});
}

/**
 * One node test's world: a temp folder, a bcdb in DIR/ledger, a farm, and a zos in DIR/node with its
 * 0-db on a free port. Torn down when the test ends: zos, then what the node left, then the ledger,
 * then the folder. A test that replaces the node or the ledger midway assigns the new process to
 * `zos` / `ledger` here, so teardown stops the one that is running.
 */
export interface NodeFixture {
  readonly dir: string;
  readonly ledgerDir: string;
  readonly nodeDir: string;
  readonly zdbPort: number;
  readonly farmId: number;
  ledger: LedgerProc;
  zos: ZosProc;
  /** The current ledger's client. */
  readonly client: LedgerClient;
}

export interface NodeFixtureOptions {
  /** More bcdb arguments (e.g. a short billing period). */
  ledgerArgs?: string[];
  /** More zos arguments. */
  zos?: { extra?: string[] };
}

export async function nodeFixture(t: AfterHooks, name: string, opts: NodeFixtureOptions = {}): Promise<NodeFixture> {
  const live: { ledger?: LedgerProc; zos?: ZosProc; nodeDir?: string } = {};
  // Registered before the folder's own removal (node:test runs after-hooks in order).
  t.after(async () => {
    await stopProc(live.zos?.proc);
    if (live.nodeDir) await cleanupNode(live.nodeDir);
    await stopProc(live.ledger?.proc);
  });
  const dir = tempDir(t, `zos-e2e-${name}`);
  const ledgerDir = join(dir, "ledger"), nodeDir = join(dir, "node");
  live.nodeDir = nodeDir;
  live.ledger = await startLedger(ledgerDir, opts.ledgerArgs ?? []);
  const zdbPort = await freePort();
  const farmId = await newFarm(live.ledger.client);
  live.zos = await startZos(live.ledger.url, farmId, nodeDir, { zdbPort, extra: opts.zos?.extra });
  return {
    dir, ledgerDir, nodeDir, zdbPort, farmId,
    get ledger() { return live.ledger!; },
    set ledger(l: LedgerProc) { live.ledger = l; },
    get zos() { return live.zos!; },
    set zos(z: ZosProc) { live.zos = z; },
    get client() { return live.ledger!.client; },
  };
}

export function zdbWorkload(name: string, password: string, sealKey: string, size = 64 * 1024 * 1024, extra: Partial<{ public: boolean; mode: "user" | "seq" }> = {}): Workload {
  return { name, type: "zdb", version: 0, description: "", data: { size, mode: extra.mode ?? "user", password: seal(password, sealKey), public: extra.public ?? false } };
}

export function deployment(user: User, nodeId: number, workloads: Workload[], requests?: Deployment["signatureRequirement"]): Deployment {
  return {
    version: 0, twinId: user.twinId, nodeId, metadata: "", description: "",
    signatureRequirement: requests ?? { requests: [{ twinId: user.twinId, weight: 1, required: false }], weightRequired: 1 },
    workloads,
  };
}

export async function createContract(user: User, d: Deployment, signWith: KeyPair = user.keys): Promise<number> {
  const r = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, signWith.privateKey) });
  const ev = r.events?.find((e) => e.type === "contract.created");
  if (!ev || ev.type !== "contract.created") throw new Error("no contract.created event");
  return ev.contractId;
}

export async function waitResult(client: LedgerClient, contractId: number, name: string, state: string, timeoutMs = 15_000): Promise<Contract> {
  return waitFor(`contract ${contractId} workload ${name} to be ${state}`, async () => {
    const c = await client.contract(contractId);
    return c.results[name]?.state === state ? c : undefined;
  }, { timeoutMs });
}

export async function nsList(port: number): Promise<string[]> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "NSLIST"]);
  return stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}

export async function workloadFiles(dir: string): Promise<string[]> {
  return readdir(join(dir, "workloads")).then((f) => f.filter((x) => x.endsWith(".json") && !x.startsWith(".")), () => []);
}

export { tempDir, freePort, waitFor };

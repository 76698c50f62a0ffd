// `zos cleanup`: a real bcdb and zos deploy a 0-db, a volume and a container (flist from a real
// hub); SIGTERM leaves the container running on purpose; cleanup refuses while zos runs, then
// removes every container, mount, namespace, veth, cgroup and loop device of the data folder and
// keeps the data (a zos started again serves the same 0-db key and volume file); a second run
// removes nothing; a 0-db left by `kill -9` is stopped; --purge deletes the workload state.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ERROR_CATALOGUE, type Workload } from "../../src/core/index.js";
import { publishExampleFlist } from "../../src/flist/index.js";
import { runcList, runcRoot, type CleanupReport } from "../../src/node/index.js";
import { startRedis, startHub, type Proc } from "../flist/helpers.js";
import { BIN, cleanupNode, createContract, deployment, newFarm, newUser, startLedger, startZos, stopProc, waitResult, zdbWorkload, type LedgerProc, type ZosProc } from "./grid.js";
import { freePort, redisCli, tempDir, waitFor } from "./helpers.js";

const exec = promisify(execFile);
const root = process.getuid?.() === 0;
const MiB = 1024 * 1024;

let redis: Proc | undefined, hub: Proc | undefined, flist: { address: string; entrypoint: string } | undefined;
before(async () => {
  if (!root) return;
  redis = await startRedis();
  hub = await startHub(redis.url);
  const { generateKeyPair } = await import("../../src/core/index.js");
  flist = await publishExampleFlist({ hub: hub.url, keys: generateKeyPair() });
});
after(async () => { await hub?.stop(); await redis?.stop(); });

async function cleanup(dir: string, ...extra: string[]): Promise<{ code: number; stdout: string; stderr: string; json: () => CleanupReport & { error?: { message: string } } }> {
  const r = await exec(process.execPath, [BIN.zos, "cleanup", "--data", dir, "--json", ...extra]).then(
    (o) => ({ code: 0, stdout: o.stdout, stderr: o.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }));
  return { ...r, json: () => JSON.parse(r.stdout) };
}

function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => l.split(" ")[4]).filter((m) => m.startsWith(dir + "/"));
}
async function netnsNames(): Promise<string[]> {
  return (await exec("ip", ["netns", "list"])).stdout.split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}
async function vethNames(): Promise<string[]> {
  return [...(await exec("ip", ["-o", "link", "show", "type", "veth"])).stdout.matchAll(/^\d+: (vh[0-9a-f]+)[@:]/gm)].map((m) => m[1]);
}
function cgroupsOf(runcIds: string[]): string[] {
  const hs = readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}`).concat(["/sys/fs/cgroup"]);
  return hs.flatMap((h) => runcIds.filter((id) => existsSync(`${h}/grid/${id}`)).map((id) => `${h}/grid/${id}`));
}
/** Live processes whose command line names `needle` (the node's 0-db names its data folder). */
function pidsNaming(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle) && !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

test("zos cleanup removes what a stopped node left, keeps its data, and is idempotent", { skip: !root && "needs root (containers, loop mounts, namespaces)", timeout: 120_000 }, async (t) => {
  let ledger: LedgerProc | undefined, zos: ZosProc | undefined;
  // Registered before the temp folders: after-hooks run in order, and the folders go last.
  t.after(async () => {
    await stopProc(zos?.proc);
    await stopProc(ledger?.proc);
    if (existsSync(data)) await cleanup(data);
    await cleanupNode(data);
  });
  const ledgerDir = tempDir(t, "cleanup-ledger");
  const data = tempDir(t, "cleanup-node");
  ledger = await startLedger(ledgerDir);
  const farmId = await newFarm(ledger.client);
  const zdbPort = await freePort();
  zos = await startZos(ledger.url, farmId, data, { zdbPort });
  const user = await newUser(ledger.client);
  const { sealKey } = await ledger.client.node(zos.nodeId);
  const web: Workload = { name: "web", type: "container", version: 0, description: "", data: {
    flist: flist!.address, entrypoint: flist!.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 * MiB, rootfsSize: 32 * MiB, mounts: [{ volume: "vol", mountpoint: "/data" }],
  } };
  const vol: Workload = { name: "vol", type: "volume", version: 0, description: "", data: { size: 16 * MiB } };
  const contractId = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("db", "pw-db", sealKey), vol, web]));
  let c = await waitResult(ledger.client, contractId, "web", "ok", 60_000);
  c = await waitResult(ledger.client, contractId, "db", "ok");
  const ns = c.results.db.data.namespace as string;
  assert.match(await redisCli(zdbPort, "SELECT", ns, "pw-db"), /OK/);
  // One connection: SELECT then SET.
  await exec("sh", ["-c", `printf 'SELECT ${ns} pw-db\\nSET k kept\\n' | redis-cli -h 127.0.0.1 -p ${zdbPort}`]);
  const volPath = join(data, "volume", `${contractId}-vol`);
  await writeFile(join(volPath, "f.txt"), "volume data");

  // While zos runs: refused, and nothing changed.
  const refused = await cleanup(data);
  assert.equal(refused.code, ERROR_CATALOGUE.conflict.exit, "a conflict's own exit code");
  assert.match(refused.json().error!.message, /zos \(pid \d+\) is running on .*nothing was removed/);
  const rroot = runcRoot(data);
  assert.equal(runcList(rroot).length, 1, "the container still runs");

  // SIGTERM: the container stays (the next zos would adopt it); the 0-db stops with zos.
  await stopProc(zos.proc);
  const running = runcList(rroot);
  assert.deepEqual(running.map((x) => x.status), ["running"], "a stopped node leaves its container running");
  const state = JSON.parse(readFileSync(join(data, "container", `${contractId}-web`, "state.json"), "utf8")) as { netns: string };
  const pool = readdirSync(join(data, "container", ".netpool")).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5));
  const theirNetns = [state.netns, ...pool];
  assert.ok((await netnsNames()).includes(state.netns));
  assert.ok(mountsUnder(data).length >= 3, "rootfs, its tmpfs and the volume are mounted");
  const image = join(data, "volume", `${contractId}-vol.img`);
  assert.notEqual((await exec("losetup", ["-j", image])).stdout.trim(), "", "the volume's loop device");

  const first = await cleanup(data);
  assert.equal(first.code, 0, first.stderr);
  const r = first.json();
  assert.deepEqual(r.containers, running.map((x) => x.id));
  assert.ok(r.mounts.some((m) => m.endsWith(`${contractId}-vol`)) && r.mounts.some((m) => m.endsWith("rootfs")), `mounts: ${r.mounts.join(" ")}`);
  assert.ok(r.netns.includes(state.netns), `netns: ${r.netns.join(" ")}`);
  // Nothing of it is left.
  assert.deepEqual(runcList(rroot), []);
  assert.deepEqual(mountsUnder(data), []);
  const nsLeft = await netnsNames();
  for (const n of theirNetns) assert.ok(!nsLeft.includes(n), `${n} is gone`);
  const vethLeft = await vethNames();
  for (const n of theirNetns) assert.ok(!vethLeft.includes(`vh${n.slice(3)}`), `the veth of ${n} is gone`);
  assert.deepEqual(cgroupsOf(running.map((x) => x.id)), []);
  assert.equal((await exec("losetup", ["-j", image])).stdout.trim(), "", "no loop device left");
  assert.deepEqual(pidsNaming(data), [], "no process of the node (its 0-db) left");
  assert.ok(!existsSync(join(data, "zos.pid")), "the lock is released");
  // The data stays.
  assert.ok(existsSync(image) && existsSync(join(data, "zdb", "data")));

  const second = await cleanup(data);
  assert.equal(second.code, 0, second.stderr);
  const r2 = second.json();
  assert.deepEqual({ ...r2, dataDir: undefined }, { dataDir: undefined, containers: [], mounts: [], netns: [], veths: [], cgroups: [], processes: [], purged: [] });

  // A zos started again serves the same data: the 0-db key, the volume's file (the container runs anew).
  zos = await startZos(ledger.url, farmId, data, { zdbPort });
  await waitFor("the container to run again", () => runcList(rroot).some((x) => x.status === "running"), { timeoutMs: 30_000 });
  await waitFor("the volume to be mounted again", () => mountsUnder(data).includes(volPath), { timeoutMs: 30_000 });
  assert.equal(readFileSync(join(volPath, "f.txt"), "utf8"), "volume data");
  const got = await exec("sh", ["-c", `printf 'SELECT ${ns} pw-db\\nGET k\\n' | redis-cli -h 127.0.0.1 -p ${zdbPort}`]);
  assert.match(got.stdout, /kept/);

  // kill -9 this time (the prepared namespaces and the 0-db are left too), then --purge: the
  // workload state goes as well, the node's identity stays.
  const poolDir = join(data, "container", ".netpool");
  const poolRecords = () => readdirSync(poolDir).filter((f) => f.endsWith(".json")).map((f) => JSON.parse(readFileSync(join(poolDir, f), "utf8")) as { netns: string; ip: string });
  // Killed while the pool is still filling, often: a namespace half made is recorded too.
  const prepared = (await waitFor("the pool to hold a prepared namespace", () => { const l = poolRecords(); return l.some((p) => p.ip) ? l : undefined; }, { timeoutMs: 15_000 })).filter((p) => p.ip).map((p) => p.netns);
  await stopProc(zos.proc, "SIGKILL");
  const recorded = poolRecords().map((p) => p.netns);
  const purged = await cleanup(data, "--purge");
  assert.equal(purged.code, 0, purged.stderr);
  const rp = purged.json();
  assert.equal(rp.containers.length, 1);
  assert.equal(rp.processes.length, 1, "the 0-db the killed zos left");
  for (const n of prepared) assert.ok(rp.netns.includes(n), `prepared ${n} removed`);
  const nsAfter = await netnsNames();
  for (const n of recorded) assert.ok(!nsAfter.includes(n), `${n} (recorded by the pool) is gone`);
  for (const p of ["workloads", "container", "volume", "zdb"]) {
    assert.ok(rp.purged.includes(join(data, p)), `${p} purged: ${rp.purged.join(" ")}`);
    assert.ok(!existsSync(join(data, p)));
  }
  assert.ok(existsSync(join(data, "identity.key")) && existsSync(join(data, "seal.key")));
  assert.deepEqual(mountsUnder(data), []);
});

test("zos cleanup stops the 0-db a kill -9'd zos left, and refuses a folder that is not a node's", { timeout: 60_000 }, async (t) => {
  let ledger: LedgerProc | undefined, zos: ZosProc | undefined;
  // Registered before the temp folders: after-hooks run in order, and the folders go last.
  t.after(async () => {
    await stopProc(zos?.proc, "SIGKILL");
    await stopProc(ledger?.proc);
    await cleanupNode(data);
  });
  const ledgerDir = tempDir(t, "cleanup-ledger");
  const data = tempDir(t, "cleanup-node");
  const other = tempDir(t, "cleanup-other");
  const notNode = await cleanup(other);
  assert.equal(notNode.code, ERROR_CATALOGUE.invalid.exit, "bad input's own exit code");
  assert.match(notNode.json().error!.message, /is not a zos data folder/);
  const missing = await cleanup(join(other, "nope"));
  assert.match(missing.json().error!.message, /does not exist/);
  assert.equal(missing.code, ERROR_CATALOGUE.not_found.exit);

  ledger = await startLedger(ledgerDir);
  zos = await startZos(ledger.url, await newFarm(ledger.client), data, { zdbPort: await freePort() });
  const zdbPid = (JSON.parse(readFileSync(join(data, "zdb", "zdb.pid"), "utf8")) as { pid: number }).pid;
  await stopProc(zos.proc, "SIGKILL");
  assert.deepEqual(pidsNaming(data), [zdbPid], "the killed node's 0-db runs on");
  const r = await cleanup(data);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json().processes, [zdbPid]);
  assert.deepEqual(pidsNaming(data), []);
  assert.deepEqual((await cleanup(data)).json().processes, [], "idempotent");
});

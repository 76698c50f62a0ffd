// The zdb and volume provisioners against the real thing: bin/zdb as a child process (used with
// redis-cli and ioredis), loop-mounted ext4 images when running as root.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, writeFile, stat } from "node:fs/promises";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Redis } from "ioredis";
import { generateSealKeyPair, seal, MiB, type Deployment, type WorkloadOf } from "../../src/core/index.js";
import { ZdbProvisioner } from "../../src/node/provisioners/zdb.js";
import { DEFAULT_ZDB_BIN } from "../../src/node/zdb-server.js";
import { VolumeProvisioner, parseMountinfo } from "../../src/node/provisioners/volume.js";
import type { WorkloadContext } from "../../src/node/provisioners/types.js";
import { freePort, tempDir, quietLog, redisCli, pidAlive, waitFor } from "./helpers.js";

const sealKeys = generateSealKeyPair();

function ctx(dataDir: string, workloadId: string): WorkloadContext {
  const deployment = { version: 0, twinId: 2, nodeId: 1, metadata: "", description: "", signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 }, workloads: [] } as Deployment;
  return {
    nodeId: 1, contractId: 7, twinId: 2, workloadId, deployment, dataDir, underlay: "127.0.0.1", sealKeys, log: quietLog,
    progress: () => {}, signal: new AbortController().signal,
  };
}

function zdbWorkload(password: string, size = 10 * MiB): WorkloadOf<"zdb"> {
  return { name: "db", type: "zdb", version: 0, description: "", data: { size, mode: "user", password: seal(password, sealKeys.publicKey), public: false } };
}

test("zdb provisioner: namespace with the sealed password, usable with redis-cli and ioredis; pause, resume, delete", async (t) => {
  const port = await freePort();
  const p = new ZdbProvisioner({ listen: "127.0.0.1", port });
  t.after(async () => { await p.shutdown(); });
  const dir = tempDir(t, "zos-zdb");
  await p.init(dir, quietLog);
  const c = ctx(dir, "7-db");
  const w = zdbWorkload("s3cret-pass");

  const data = await p.provision(c, w);
  assert.deepEqual(data, { namespace: "7-db", ips: ["127.0.0.1"], port });
  // Idempotent: a second provision adopts the same namespace.
  assert.deepEqual(await p.provision(c, w), data);
  assert.equal((await redisCli(port, "NSLIST")).split("\n").filter((l) => l === "7-db").length, 1);

  assert.match(await redisCli(port, "SELECT", "7-db", "wrong"), /denied/i);
  assert.equal(await redisCli(port, "SELECT", "7-db"), "Namespace protected and private");
  const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  t.after(() => r.disconnect());
  await r.connect();
  assert.equal(await r.call("SELECT", "7-db", "s3cret-pass"), "OK");
  assert.equal(await r.call("SET", "hello", "world"), "hello");
  assert.equal(String(await r.call("GET", "hello")), "world");
  assert.equal((await p.check(c, w)).ok, true);

  // The admin password lives 0600 in the data folder, and the user's password is nowhere on disk.
  assert.equal((await stat(join(dir, "zdb", "admin.key"))).mode & 0o777, 0o600);

  await p.pause(c);
  assert.match(await redisCli(port, "SELECT", "7-db", "s3cret-pass"), /denied/i);
  await p.resume(c, w);
  assert.equal(await redisCli(port, "SELECT", "7-db", "s3cret-pass"), "OK");

  r.disconnect();
  await p.deprovision(c);
  await p.deprovision(c); // already gone: still fine
  assert.equal((await redisCli(port, "NSLIST")).split("\n").includes("7-db"), false);
  assert.equal((await p.check(c, w)).ok, false);
});

test("zdb server: a 0-db orphaned by a killed node is replaced, not duplicated; a dead one is restarted", async (t) => {
  let second: ZdbProvisioner | undefined, orphan = 0;
  // Registered before the temp folder: after-hooks run in order, and the folder goes last.
  t.after(async () => { await second?.shutdown(); try { if (orphan) process.kill(orphan, "SIGKILL"); } catch { /* gone */ } });
  const dir = tempDir(t, "zos-zdb-orphan");
  const port = await freePort();
  const first = new ZdbProvisioner({ listen: "127.0.0.1", port });
  await first.init(dir, quietLog);
  const c = ctx(dir, "7-db");
  await first.provision(c, zdbWorkload("pw1"));
  await first.shutdown();
  // What a `kill -9` of zos leaves behind: its 0-db still running, named in the pid file.
  const z = join(dir, "zdb");
  const admin = (await readFile(join(z, "admin.key"), "utf8")).trim();
  const child = spawn(process.execPath, [DEFAULT_ZDB_BIN, "--listen", "127.0.0.1", "--port", String(port), "--data", join(z, "data"), "--index", join(z, "index"), "--admin", admin, "--protect"], { stdio: "ignore", detached: true });
  child.unref();
  orphan = child.pid!;
  await writeFile(join(z, "zdb.pid"), JSON.stringify({ pid: orphan }));
  await waitFor("orphan 0-db up", async () => (await redisCli(port, "PING")) === "PONG", { timeoutMs: 15_000 });
  second = new ZdbProvisioner({ listen: "127.0.0.1", port });
  await second.init(dir, quietLog);
  await waitFor("old 0-db gone", () => !pidAlive(orphan), { timeoutMs: 5000 });
  const pid = JSON.parse(await readFile(join(z, "zdb.pid"), "utf8")).pid as number;
  assert.notEqual(pid, orphan);
  // The namespace survived in the data folder and is adopted.
  assert.equal((await second.check(c, zdbWorkload("pw1"))).ok, true);

  // Supervision: a 0-db that dies is started again.
  process.kill(pid, "SIGKILL");
  await waitFor("0-db restarted", async () => {
    const now = JSON.parse(await readFile(join(dir, "zdb", "zdb.pid"), "utf8")).pid as number;
    return now !== pid && (await redisCli(port, "PING")) === "PONG";
  }, { timeoutMs: 15_000 });
  assert.equal((await second.check(c, zdbWorkload("pw1"))).ok, true);
});

test("volume provisioner: a folder whose size is enforced", async (t) => {
  const p = new VolumeProvisioner();
  // Registered before the temp folder: after-hooks run in order, and the folder goes last.
  t.after(async () => { await p.deprovision(c); });
  const dir = tempDir(t, "zos-vol");
  const root = process.getuid?.() === 0;
  const c = ctx(dir, "7-vol");
  const w: WorkloadOf<"volume"> = { name: "vol", type: "volume", version: 0, description: "", data: { size: 16 * MiB } };
  const data = await p.provision(c, w);
  assert.equal(data.path, join(dir, "volume", "7-vol"));
  assert.deepEqual(await p.provision(c, w), data);
  assert.equal((await p.check(c)).ok, true);
  await writeFile(join(data.path as string, "small"), Buffer.alloc(MiB));
  if (root) {
    assert.equal(data.quota, true);
    await assert.rejects(writeFile(join(data.path as string, "big"), Buffer.alloc(20 * MiB)), /ENOSPC/);
    assert.ok(parseMountinfo(await readFile("/proc/self/mountinfo", "utf8")).includes(data.path as string));
  }
  await p.deprovision(c);
  await assert.rejects(stat(data.path as string), /ENOENT/);
  assert.equal((await p.check(c)).ok, false);
  if (root) assert.ok(!parseMountinfo(await readFile("/proc/self/mountinfo", "utf8")).includes(data.path as string));
});

// The node's own 0-db gets its admin password through the environment: the command line of a
// process is readable by every user of the machine (ps, /proc/PID/cmdline), the environment is not.
// And the node never leaves a namespace open to a stranger: born private, sessions cut at grace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Redis } from "ioredis";
import { generateSealKeyPair, seal, MiB } from "../../src/core/index.js";
import { ZdbProvisioner } from "../../src/node/provisioners/zdb.js";
import { ZdbServer } from "../../src/node/zdb-server.js";
import { freePort, quietLog, redisCli, tempDir, waitFor } from "./helpers.js";

test("node's 0-db: admin password not on the command line, admin commands still work", async (t) => {
  const dir = tempDir(t, "zos-zdb-admin");
  const port = await freePort();
  const zdb = new ZdbServer({ listen: "127.0.0.1", port, dataDir: dir, log: quietLog });
  try {
    await zdb.start();
    const password = (await readFile(join(dir, "zdb", "admin.key"), "utf8")).trim();
    assert.match(password, /^[0-9a-f]{64}$/);
    const { pid } = JSON.parse(await readFile(join(dir, "zdb", "zdb.pid"), "utf8")) as { pid: number };
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    assert.ok(cmdline.some((a) => a.endsWith("zdb")), `the pid is the 0-db: ${cmdline.join(" ")}`);
    assert.ok(!cmdline.join(" ").includes(password), "the admin password is not in /proc/PID/cmdline");
    assert.ok(!cmdline.includes("--admin"));
    // /proc/PID/environ, where it is, is readable only by the process's own user.
    assert.equal((await stat(`/proc/${pid}/environ`)).mode & 0o077, 0);

    // The server did get the password: admin commands work for the node, and not for anyone else.
    assert.equal(await zdb.call("NSNEW", "admin-test"), "OK");
    assert.match(await redisCli(port, "NSNEW", "intruder"), /Permission denied/);
    assert.match(await redisCli(port, "AUTH", "wrong"), /Access denied/);
    // --protect relies on the admin password too: the default namespace stays read-only for strangers.
    assert.match(await redisCli(port, "SET", "k", "v"), /read-only/);
  } finally {
    await zdb.stop();
  }
});

test("zdb provisioner: a namespace is born private with its password; the grace period ends the sessions in it", async (t) => {
  const sealKeys = generateSealKeyPair();
  const port = await freePort();
  const p = new ZdbProvisioner({ listen: "127.0.0.1", port });
  t.after(async () => { await p.shutdown(); });
  const dir = tempDir(t, "zos-zdb-grace");
  await p.init(dir, quietLog);
  const ctx = {
    nodeId: 1, contractId: 9, twinId: 2, workloadId: "9-db", dataDir: dir, underlay: "127.0.0.1", sealKeys, log: quietLog,
    progress: () => {}, signal: new AbortController().signal, deployment: {} as never,
  };
  const w = { name: "db", type: "zdb" as const, version: 0, description: "", data: { size: 10 * MiB, mode: "seq" as const, password: seal("user-pass", sealKeys.publicKey), public: false } };
  await p.provision(ctx, w);
  // One NSNEW carried everything: private, password, size and mode from the first moment.
  const info = await redisCli(port, "NSINFO", "9-db");
  assert.match(info, /public: no/); assert.match(info, /password: yes/);
  assert.match(info, /data_limits_bytes: 10485760/); assert.match(info, /mode: sequential/);

  const user = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0, retryStrategy: () => null });
  user.on("error", () => {});
  t.after(() => user.disconnect());
  assert.equal(await user.call("SELECT", "9-db", "user-pass"), "OK");
  assert.equal((await user.callBuffer("SET", "", "before grace") as Buffer).length, 8);
  await p.pause(ctx);
  // The session opened with the user's password is over: nothing is written during the grace period.
  await waitFor("the session to be closed", () => user.status === "end" || user.status === "close");
  await assert.rejects(user.call("SET", "", "during grace"));
  assert.match(await redisCli(port, "SELECT", "9-db", "user-pass"), /denied/i);
  await p.resume(ctx, w);
  const back = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: 0 });
  t.after(() => back.disconnect());
  assert.equal(await back.call("SELECT", "9-db", "user-pass"), "OK");
  assert.equal(await back.call("DBSIZE"), 1);
});

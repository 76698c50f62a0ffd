// The node's own 0-db gets its admin password through the environment: the command line of a
// process is readable by every user of the machine (ps, /proc/PID/cmdline), the environment is not.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ZdbServer } from "../../src/node/zdb-server.js";
import { freePort, quietLog, redisCli, tempDir } from "./helpers.js";

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

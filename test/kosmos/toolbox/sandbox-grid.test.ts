// The builder end to end: Debian's redis-server sandboxed from this machine, published to the local
// grid's hub, deployed as a container on a node, answering redis-cli PING over the grid's network.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, waitFor } from "../helpers.js";

test("a sandboxed /usr/bin/redis-server deployed on the local grid answers PING", { timeout: 400_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kosmos-sbx-grid-"));
  const data = join(dir, "g");
  const password = `pw-${randomBytes(6).toString("hex")}`;
  t.after(async () => {
    await runBin("grid", ["down", "--data", data], {}, undefined, 90_000);
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await runBin("grid", ["up", "--json", "--nodes", "1", "--data", data], { HELLO_ZDB_PASSWORD: password }, undefined, 180_000);
  assert.equal(up.code, 0, up.stderr);
  const r = up.json();
  const user = { KOSMOS_HOME: join(data, "user"), KOSMOS_PASSPHRASE: readFileSync(join(data, "user", ".passphrase"), "utf8").trim(), KOSMOS_LEDGER: r.ledger, KOSMOS_HUB: r.hub };

  const sbx = await runBin("kosmos", ["flist", "sandbox", "/usr/bin/redis-server", "--name", "redis-sandbox", "--json"], user, undefined, 120_000);
  assert.equal(sbx.code, 0, sbx.stderr);
  const file = join(dir, "redis.yaml");
  writeFileSync(file, [
    "name: sandboxed-redis",
    "containers:",
    "  - name: redis",
    "    flist: { env: REDIS_FLIST }",
    "    entrypoint: /usr/bin/redis-server --bind 0.0.0.0 --protected-mode no --dir /tmp",
    "    memory: 64MiB",
    "    rootfsSize: 64MiB",
    "",
  ].join("\n"));
  const dep = await runBin("kosmos", ["deploy", file, "--json", "--timeout", "90"], { ...user, REDIS_FLIST: sbx.json().address }, undefined, 120_000);
  assert.equal(dep.code, 0, dep.stderr);
  const ip = (dep.json().workloads.find((w: { name: string }) => w.name === "redis") as { data: { ip: string } }).data.ip;
  // A container deployed after `grid up` is routed from this host by running up again.
  const routed = await runBin("grid", ["up", "--json", "--data", data], { HELLO_ZDB_PASSWORD: password }, undefined, 90_000);
  assert.equal(routed.code, 0, routed.stderr);
  await waitFor(`redis-cli -h ${ip} PING to answer PONG`, () => {
    try { return execFileSync("redis-cli", ["-h", ip, "PING"], { encoding: "utf8", timeout: 5000 }).trim() === "PONG"; } catch { return false; }
  }, { timeoutMs: 30_000 });
  assert.match(execFileSync("redis-cli", ["-h", ip, "INFO", "server"], { encoding: "utf8", timeout: 5000 }), /redis_version:\d/);
});

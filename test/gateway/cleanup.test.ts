// `zos cleanup` stops the HAProxy a killed zos left serving (it outlives zos on purpose: a gateway keeps
// serving through a node restart), and leaves a stranger's process alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { pidAlive } from "../../src/runtime/index.js";
import { freePort, tempDir, waitFor } from "../support.js";

const exec = promisify(execFile);
const ZOS = resolve(new URL("../../..", import.meta.url).pathname, "bin", "zos");

test("zos cleanup stops the HAProxy a killed zos left, and only that one", { timeout: 30_000 }, async (t) => {
  const data = tempDir(t, "gw-cleanup");
  const dir = join(data, "gateway");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const cfg = join(dir, "haproxy.cfg");
  writeFileSync(cfg, `global\n  log stdout format raw local0 emerg\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 5s\n  timeout server 5s\nfrontend web\n  bind 127.0.0.1:${port}\n  http-request return status 200 content-type text/plain string ok\n`);
  // What zos runs: a master-worker HAProxy with its pid file beside the configuration.
  const left = spawn("haproxy", ["-W", "-db", "-f", cfg, "-p", join(dir, "haproxy.pid")], { stdio: "ignore", detached: true });
  left.unref();
  t.after(() => { try { process.kill(left.pid!, "SIGKILL"); } catch { /* gone */ } });
  await waitFor("haproxy's pid file", async () => { try { return readFileSync(join(dir, "haproxy.pid"), "utf8").trim() || undefined; } catch { return undefined; } });
  const pid = Number(readFileSync(join(dir, "haproxy.pid"), "utf8").trim().split("\n")[0]);
  assert.ok(pidAlive(pid));

  // A stranger: the same binary, another configuration, must survive.
  const otherCfg = join(data, "other.cfg");
  writeFileSync(otherCfg, readFileSync(cfg, "utf8").replace(`:${port}`, `:${await freePort()}`));
  const stranger = spawn("haproxy", ["-W", "-db", "-f", otherCfg], { stdio: "ignore" });
  t.after(() => { stranger.kill("SIGKILL"); });
  await waitFor("the other haproxy", async () => (stranger.pid && pidAlive(stranger.pid)) || undefined);

  const r = await exec(process.execPath, [ZOS, "cleanup", "--data", data, "--json"]);
  const report = JSON.parse(r.stdout) as { processes: number[] };
  assert.deepEqual(report.processes, [pid], "the gateway's master, and nothing else");
  await waitFor("the left HAProxy gone", async () => !pidAlive(pid) || undefined);
  assert.ok(stranger.pid && pidAlive(stranger.pid), "a stranger's HAProxy is left alone");
  // Idempotent: nothing left to stop.
  const again = JSON.parse((await exec(process.execPath, [ZOS, "cleanup", "--data", data, "--json"])).stdout) as { processes: number[] };
  assert.deepEqual(again.processes, []);
});

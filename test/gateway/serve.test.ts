// The gateway serving real traffic: a real HAProxy supervised by the node's GatewayService, two
// backends (busybox httpd in namespaces this test makes), requests with curl --resolve. Both
// backends are used; one killed, the name is still served; an unknown name gets 404; haproxy killed
// -9 comes back with its routes; a reload does not cut an open connection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import pino from "pino";
import { GatewayService } from "../../src/node/gateway/index.js";
import { routeOf } from "../../src/gateway/index.js";
import { freePort, tempDir, waitFor } from "../support.js";
import { backendNs } from "./backend-ns.js";

const run = promisify(execFile);
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

async function curl(port: number, host: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run("curl", ["-s", "-m", "5", "--resolve", `${host}:${port}:127.0.0.1`, "-w", "\n%{http_code}", `http://${host}:${port}/`]);
  const i = stdout.lastIndexOf("\n");
  return { body: stdout.slice(0, i).trim(), status: Number(stdout.slice(i + 1)) };
}

test("a name served by two backends, through failures of a backend and of haproxy itself", { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t, "gw-serve");
  const a = await backendNs(t, dir, "page from A\n");
  const b = await backendNs(t, dir, "page from B\n");
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const svc = new GatewayService({ domain: "gw.test", ipv4: "198.51.100.1", bind: "127.0.0.1", httpPort, httpsPort, checkIntervalMs: 200 }, dir, log);
  t.after(() => svc.stop());
  await svc.start();
  const policy = { ownNetworks: [a.range, b.range] };
  const route = routeOf("5-web", { name: "web", type: "gateway-name-proxy", version: 0, description: "", data: { name: "hello", backends: [a.url, b.url], tlsPassthrough: false } }, "gw.test", policy);
  const t0 = performance.now();
  await svc.ensure(route);
  const first = await curl(httpPort, "hello.gw.test");
  const readyMs = performance.now() - t0;
  assert.equal(first.status, 200);
  t.diagnostic(`a new route served ${readyMs.toFixed(0)} ms after ensure began`);

  // Round robin: both pages come back.
  const seen = new Set<string>();
  for (let i = 0; i < 8; i++) seen.add((await curl(httpPort, "hello.gw.test")).body);
  assert.deepEqual([...seen].sort(), ["page from A", "page from B"]);

  // Nothing for a name nobody asked for, Host port suffix and case ignored for a known one.
  assert.equal((await curl(httpPort, "other.gw.test")).status, 404);
  assert.equal((await curl(httpPort, "HELLO.gw.test")).status, 200);

  // One backend dies: after the health check takes it out, every request is served by the other.
  a.stop();
  await waitFor("A taken out", async () => {
    for (let i = 0; i < 6; i++) { const r = await curl(httpPort, "hello.gw.test"); if (r.status !== 200 || r.body !== "page from B") return false; }
    return true;
  }, { timeoutMs: 10_000, stepMs: 100 });
  // And put back when it answers again.
  await a.start();
  await waitFor("A back", async () => (await curl(httpPort, "hello.gw.test")).body === "page from A", { timeoutMs: 10_000, stepMs: 100 });

  // haproxy killed -9: restarted by the supervisor with the same routes.
  const pid = svc.process.pid!;
  process.kill(pid, "SIGKILL");
  await waitFor("haproxy restarted", () => svc.process.pid !== undefined && svc.process.pid !== pid, { timeoutMs: 10_000 });
  await waitFor("served again after kill -9", async () => (await curl(httpPort, "hello.gw.test")).status === 200, { timeoutMs: 10_000, stepMs: 100 });
  assert.ok(svc.process.restarts >= 1);
});

test("a reload (a new route) does not cut a transfer in progress", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "gw-reload");
  const a = await backendNs(t, dir, "A\n");
  // A 2 MiB file read at 1 MiB/s: the reload lands in the middle of the transfer.
  writeFileSync(join(a.www, "big.bin"), randomBytes(2 << 20));
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const svc = new GatewayService({ domain: "gw.test", ipv4: "198.51.100.1", bind: "127.0.0.1", httpPort, httpsPort, checkIntervalMs: 200 }, dir, log);
  t.after(() => svc.stop());
  await svc.start();
  const mk = (id: string, name: string) => routeOf(id, { name, type: "gateway-name-proxy", version: 0, description: "", data: { name, backends: [a.url], tlsPassthrough: false } }, "gw.test", { ownNetworks: [a.range] });
  await svc.ensure(mk("1-a", "one"));
  const transfer = run("curl", ["-s", "-m", "20", "--limit-rate", "1M", "--resolve", `one.gw.test:${httpPort}:127.0.0.1`, "-o", "/dev/null", "-w", "%{http_code} %{size_download}", `http://one.gw.test:${httpPort}/big.bin`]);
  await new Promise((r) => setTimeout(r, 400));
  const before = svc.process.pid;
  await svc.ensure(mk("2-b", "two"));
  assert.equal((await curl(httpPort, "two.gw.test")).status, 200, "the new route is live");
  assert.equal(svc.process.pid, before, "reloaded by the same master, not restarted");
  // Another workload asking for a name already served here is refused, and the first keeps it.
  await assert.rejects(svc.ensure(mk("3-c", "one")), (e: Error & { code?: string }) => e.code === "conflict" && /already served on this gateway by workload 1-a/.test(e.message));
  assert.equal(svc.route("3-c"), undefined);
  const { stdout } = await transfer;
  assert.equal(stdout, `200 ${2 << 20}`, "the transfer begun before the reload completed");
});

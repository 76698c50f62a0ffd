// Abuse: a flood of the node's read-only metrics port (idle connections and half-sent requests,
// a few thousand, on loopback only) must not kill zos nor lock out a scraper, and the node keeps
// provisioning while it lasts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { readdir } from "node:fs/promises";
import { MiB } from "../../src/core/index.js";
import { raiseOpenFileLimit } from "../../src/runtime/index.js";
import { METRICS_LIMITS } from "../../src/node/metrics.js";
import { newUser, zdbWorkload, deployment, createContract, waitResult, freePort, nodeFixture, waitFor } from "./grid.js";
import { pidAlive } from "./helpers.js";

const FLOOD = 3000;
const BATCH = 250;

/** Opens one connection; `partial` sends an unfinished request (a slowloris) and nothing more. */
function open(port: number, partial: boolean, held: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.on("error", () => {});
    s.once("connect", () => {
      held.add(s);
      s.once("close", () => held.delete(s));
      if (partial) s.write("GET /metrics HTTP/1.1\r\nHost: flood\r\nX-Slow: ");
      resolve();
    });
    s.once("close", () => resolve());
  });
}

async function scrape(port: number): Promise<{ ms: number; status: number; body: string }> {
  const t0 = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, body };
}

test("metrics flood: zos stays up, a scraper is served during it, a deployment still reaches ok", async (t) => {
  raiseOpenFileLimit(FLOOD * 2 + 1024);
  const metricsPort = await freePort();
  const held = new Set<Socket>();
  t.after(() => { for (const s of held) s.destroy(); });
  const { client, zos } = await nodeFixture(t, "metrics-flood", { zos: { extra: ["--metrics-port", String(metricsPort)] } });
  const pid = zos.proc.child.pid!;
  assert.equal((await scrape(metricsPort)).status, 200);
  const baseFds = (await readdir(`/proc/${pid}/fd`)).length;
  const quiet: number[] = [];
  for (let i = 0; i < 10; i++) quiet.push((await scrape(metricsPort)).ms);
  quiet.sort((a, b) => a - b);
  t.diagnostic(`bystander GET /metrics before the flood: median ${quiet[5].toFixed(1)} ms, max ${quiet[9].toFixed(1)} ms`);

  let opened = 0;
  for (let i = 0; i < FLOOD; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, FLOOD - i) }, (_, j) => open(metricsPort, (i + j) % 2 === 1, held)));
    opened += Math.min(BATCH, FLOOD - i);
  }
  assert.equal(opened, FLOOD);
  // The node keeps at most its soft cap of them (our side sees the evictions a moment later).
  // Counted on the node's side: ours also holds connections the kernel queued but zos never took.
  const fds = await waitFor("zos to hold few descriptors", async () => { const n = (await readdir(`/proc/${pid}/fd`)).length; return n < baseFds + METRICS_LIMITS.softConnections + 8 && n; }, { timeoutMs: 5000 });
  t.diagnostic(`flood: ${FLOOD} connections opened; ${held.size} still open on the client side; zos holds ${fds} descriptors (${baseFds} before)`);

  // A bystander, while the flood's survivors are still held open and more keep coming.
  const latencies: number[] = [];
  for (let i = 0; i < 10; i++) {
    await Promise.all(Array.from({ length: 50 }, (_, j) => open(metricsPort, j % 2 === 0, held)));
    const r = await scrape(metricsPort);
    assert.equal(r.status, 200);
    assert.match(r.body, /zos_workloads/);
    latencies.push(r.ms);
  }
  latencies.sort((a, b) => a - b);
  t.diagnostic(`bystander GET /metrics during the flood: median ${latencies[5].toFixed(1)} ms, max ${latencies[9].toFixed(1)} ms`);

  // Provisioning goes on.
  const node = await client.node(zos.nodeId);
  const user = await newUser(client);
  const t0 = Date.now();
  const contractId = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("db", "flood-pass", node.sealKey, 16 * MiB)]));
  await waitResult(client, contractId, "db", "ok", 20_000);
  t.diagnostic(`deploy → ok during the flood: ${Date.now() - t0} ms`);
  assert.ok(pidAlive(pid), "zos is alive");
  assert.equal(zos.proc.child.exitCode, null);
  const refused = /zos_metrics_refused_connections (\d+)/.exec((await scrape(metricsPort)).body);
  assert.ok(refused && Number(refused[1]) > FLOOD / 2, `refused/evicted connections are counted (${refused?.[1]})`);
});

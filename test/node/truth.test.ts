// Issue 10 on a real node (bcdb + zos processes, runc containers, a hub with the example flist), the
// user talking to the node only through the ledger:
// - one signed step: a container logging into a 0-db of its own deployment (`logs.address` zdb:NAME)
//   is started by the node once that 0-db is up, and its lines reach it;
// - a missing entrypoint is `error` at once and stays so (never back to `init`);
// - a crash-looping container's result turns `error` with its exit, counts and last output.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, MiB, seal, type Workload } from "../../src/core/index.js";
import { publishExampleFlist, readShippedLogs } from "../../src/flist/index.js";
import { startHub, startRedis } from "../flist/helpers.js";
import { createContract, deployment, newUser, nodeFixture, waitFor, waitResult, zdbWorkload } from "./grid.js";

function container(name: string, flist: string, entrypoint: string, extra: Partial<Extract<Workload, { type: "container" }>["data"]> = {}): Workload {
  return { name, type: "container", version: 0, description: "", data: { flist, entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 32 * MiB, rootfsSize: 32 * MiB, mounts: [], ...extra } };
}

test("one signed step for a container and its logs' 0-db; a missing entrypoint stays error; a crash loop is error with its output", { timeout: 120_000 }, async (t) => {
  const redis = await startRedis();
  t.after(() => redis.stop());
  const hub = await startHub(redis);
  t.after(() => hub.stop());
  const example = await publishExampleFlist({ hub: hub.url, keys: generateKeyPair() });
  const { client, zdbPort, zos } = await nodeFixture(t, "truth");
  const node = await client.node(zos.nodeId);
  const user = await newUser(client);

  // 1. One contract, one signature: the 0-db and the container that logs into it.
  const pw = `logs-${Math.random().toString(36).slice(2)}`;
  const marker = `one-step-${Math.random().toString(36).slice(2)}`;
  const oneStep = deployment(user, zos.nodeId, [
    zdbWorkload("logs", pw, node.sealKey, 64 * MiB, { mode: "seq" }),
    container("app", example.address, `/bin/sh -c 'echo ${marker}; exec sleep 1000'`, { logs: { address: "zdb:logs", namespace: "", password: seal(pw, node.sealKey) } }),
  ]);
  const id = await createContract(user, oneStep);
  const c = await waitResult(client, id, "app", "ok", 30_000);
  assert.equal(c.deployment.version, 0, "no second version was needed");
  assert.equal(c.results.logs.state, "ok");
  assert.ok(c.results.logs.created <= c.results.app.created, "the 0-db was up first");
  assert.deepEqual((c.results.app.data as { logs?: unknown }).logs, { address: `127.0.0.1:${zdbPort}`, namespace: `${id}-logs` });
  const lines: string[] = [];
  await waitFor("the container's line in its 0-db", async () => {
    lines.length = 0;
    await readShippedLogs({ address: `127.0.0.1:${zdbPort}`, namespace: `${id}-logs`, password: pw }, { onLine: (l) => lines.push(l.line) });
    return lines.includes(marker);
  }, { timeoutMs: 15_000 });

  // 2. A missing entrypoint (what a client that skips kosmos's checks can sign): error at once, and it stays.
  const t0 = Date.now();
  const bad = await createContract(user, deployment(user, zos.nodeId, [container("bad", example.address, "/nope/missing")]));
  const failed = await waitResult(client, bad, "bad", "error", 15_000);
  t.diagnostic(`missing entrypoint → error in ${Date.now() - t0} ms`);
  assert.match(failed.results.bad.message, /entrypoint \/nope\/missing is not in the flist/);
  assert.equal((failed.results.bad.data as { code?: string }).code, "invalid");
  for (const until = Date.now() + 3000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
    assert.equal((await client.contract(bad)).results.bad.state, "error", "stays error, never init");
  }

  // 3. A crash loop: restarted by the node, then error with its exit and last output (on the ledger).
  const crashId = await createContract(user, deployment(user, zos.nodeId, [
    container("crashy", example.address, "/bin/sh -c 'echo first line; echo going down >&2; sleep 0.2; exit 3'"),
  ]));
  const crash = await waitResult(client, crashId, "crashy", "error", 60_000);
  const r = crash.results.crashy;
  t.diagnostic(`crash loop result: ${r.message.split("\n")[0]}`);
  assert.match(r.message, /^crash loop: 5 restarts within 60s/);
  assert.match(r.message, /its last output:\n(first line\ngoing down\n?)+$/);
  const data = r.data as { restarts: number; oomKills: number; output: string; crashLoop: boolean; exitCode?: number };
  assert.ok(data.restarts >= 5);
  assert.equal(data.oomKills, 0);
  assert.equal(data.crashLoop, true);
  assert.match(data.output, /going down$/);
  if (data.exitCode !== undefined) assert.equal(data.exitCode, 3);
});

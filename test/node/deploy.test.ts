// A user deploys 0-db namespaces and a volume through the ledger; the node provisions them; the user
// reaches the namespace with redis-cli and ioredis; cancelling removes it and frees the capacity.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { stat, readFile } from "node:fs/promises";
import { Redis } from "ioredis";
import { MiB, signDeployment, type Workload } from "../../src/core/index.js";
import {
  newUser, zdbWorkload, deployment, createContract, waitResult, nsList, freePort, waitFor, nodeFixture,
} from "./grid.js";
import { redisCli } from "./helpers.js";

test("deploy a 0-db namespace, use it with its password, update it, cancel it", async (t) => {
  const { client, zdbPort, nodeDir, ledgerDir, ledger, zos } = await nodeFixture(t, "deploy");
  const node = await client.node(zos.nodeId);
  assert.equal(node.twinId, zos.twinId);
  assert.equal(node.underlay, "127.0.0.1");
  assert.equal(node.capacity.hru, 10 * 1024 ** 3);
  for (const f of ["identity.key", "seal.key"]) assert.equal((await stat(join(nodeDir, f))).mode & 0o777, 0o600, f);

  const user = await newUser(client);
  const password = "correct horse battery";
  const d = deployment(user, zos.nodeId, [zdbWorkload("db", password, node.sealKey, 64 * MiB), { name: "vol", type: "volume", version: 0, description: "", data: { size: 32 * MiB } }]);
  const t0 = Date.now();
  const contractId = await createContract(user, d);
  const c = await waitResult(client, contractId, "db", "ok");
  const elapsed = Date.now() - t0;
  t.diagnostic(`deploy → ok in ${elapsed} ms`);
  const data = c.results.db.data as { namespace: string; ips: string[]; port: number };
  assert.deepEqual(data, { namespace: `${contractId}-db`, ips: ["127.0.0.1"], port: zdbPort });
  const vol = (await waitResult(client, contractId, "vol", "ok")).results.vol.data as { path: string; size: number };
  assert.equal(vol.path, join(nodeDir, "volume", `${contractId}-vol`));
  assert.equal(vol.size, 32 * MiB);

  // The ledger holds no clear-text password: not in the contract, not anywhere in the block log.
  const raw = JSON.stringify(await (await fetch(`${ledger.url}/contracts?nodeId=${zos.nodeId}`)).json());
  assert.ok(raw.includes(data.namespace));
  assert.ok(!raw.includes(password));
  const { readdir } = await import("node:fs/promises");
  for (const f of await readdir(ledgerDir)) {
    const p = join(ledgerDir, f);
    if ((await stat(p)).isFile()) assert.ok(!(await readFile(p)).includes(password), `clear-text password in ledger file ${f}`);
  }
  for (const f of await readdir(join(nodeDir, "workloads"))) assert.ok(!(await readFile(join(nodeDir, "workloads", f))).includes(password));

  // redis-cli with the password; a wrong password refused.
  assert.equal(await redisCli(zdbPort, "SELECT", data.namespace, "wrong"), "Access denied");
  const out = await redisCli(zdbPort, "SELECT", data.namespace, password);
  assert.equal(out, "OK");
  const r = new Redis({ host: "127.0.0.1", port: zdbPort, lazyConnect: true, maxRetriesPerRequest: 0 });
  t.after(() => r.disconnect());
  await r.connect();
  assert.equal(await r.call("SELECT", data.namespace, password), "OK");
  await r.call("SET", "k", "v");
  assert.equal(String(await r.call("GET", "k")), "v");
  r.disconnect();

  // An update (version 1): a second namespace added, the volume removed.
  const d1 = { ...d, version: 1, workloads: [d.workloads[0], zdbWorkload("db2", "another-pass", node.sealKey, 32 * MiB)] };
  await user.signer.send("contract.update", { contractId, deployment: d1, deploymentSignature: signDeployment(d1, user.keys.privateKey) });
  await waitResult(client, contractId, "db2", "ok");
  await waitResult(client, contractId, "vol", "deleted");
  await waitFor("volume removed", async () => stat(vol.path).then(() => false, () => true), { timeoutMs: 15_000 });
  assert.equal(await redisCli(zdbPort, "SELECT", `${contractId}-db2`, "another-pass"), "OK");
  // The unchanged namespace kept its data.
  assert.equal(await redisCli(zdbPort, "SELECT", data.namespace, password), "OK");

  // Cancel: namespaces gone, capacity free again on the ledger and in the node's report.
  const before = await client.node(zos.nodeId);
  assert.ok(before.reserved.hru >= 96 * MiB);
  await user.signer.send("contract.cancel", { contractId });
  await waitFor("namespaces removed", async () => {
    const ns = await nsList(zdbPort);
    return !ns.includes(data.namespace) && !ns.includes(`${contractId}-db2`);
  }, { timeoutMs: 15_000 });
  const after = await client.node(zos.nodeId);
  assert.deepEqual(after.free, after.capacity);
  await waitFor("node reports nothing used", async () => (await client.node(zos!.nodeId)).used.hru === 0, { timeoutMs: 15_000 });
});

test("a workload type this node does not support gets an error result saying so; /metrics is read-only", async (t) => {
  const metricsPort = await freePort();
  const { ledger, zos } = await nodeFixture(t, "unsupported", { zos: { extra: ["--metrics-port", String(metricsPort)] } });
  const user = await newUser(ledger.client);
  const gw: Workload = { name: "gw", type: "gateway-fqdn-proxy", version: 0, description: "", data: { fqdn: "example.com", backends: ["http://10.0.0.1:80"], tlsPassthrough: false } };
  const contractId = await createContract(user, deployment(user, zos.nodeId, [gw]));
  const c = await waitResult(ledger.client, contractId, "gw", "error");
  assert.equal(c.results.gw.message, "workload type gateway-fqdn-proxy is not supported by this node");
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  assert.match(text, /zos_workloads\{state="refused"\} 1/);
  const height = Number(/zos_last_processed_height (\d+)/.exec(text)?.[1]);
  assert.ok(height > 0, "the node reports how far it has processed the ledger");
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: "POST" })).status, 405);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/anything`)).status, 404);
});

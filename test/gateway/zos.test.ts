// A gateway node end to end: a real bcdb and a zos started with --gateway-domain/--public-ip (its
// public config registered on the ledger by its own signed node.register), a gateway-name-proxy
// contract, and curl --resolve NAME.DOMAIN through the node's HAProxy to a backend in a namespace
// this test makes. A second user cannot take the name; a backend on the node itself is refused
// with a clear result; a cancelled contract's name is no longer served.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { ConflictError, type Workload } from "../../src/core/index.js";
import { createContract, deployment, newUser, nodeFixture, restartZos, waitResult } from "../node/grid.js";
import { freePort, waitFor } from "../support.js";
import { backendNs } from "./backend-ns.js";
import { runBin } from "../kosmos/helpers.js";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { pidAlive } from "../../src/runtime/index.js";

const run = promisify(execFile);

async function get(port: number, host: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run("curl", ["-s", "-m", "5", "--resolve", `${host}:${port}:127.0.0.1`, "-w", "\n%{http_code}", `http://${host}:${port}/`]);
  const i = stdout.lastIndexOf("\n");
  return { body: stdout.slice(0, i).trim(), status: Number(stdout.slice(i + 1)) };
}

const nameProxy = (wname: string, name: string, backends: string[]): Workload =>
  ({ name: wname, type: "gateway-name-proxy", version: 0, description: "", data: { name, backends, tlsPassthrough: false } });

test("a gateway node serves a name contract's NAME.DOMAIN; the name is its owner's only", { timeout: 120_000 }, async (t) => {
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  const f = await nodeFixture(t, "gateway", { zos: { extra: ["--gateway-domain", "gw.test", "--public-ip", "127.0.0.1", "--gateway-http-port", String(httpPort), "--gateway-https-port", String(httpsPort)] } });
  const node = await f.client.node(f.zos.nodeId);
  assert.deepEqual(node.publicConfig, { domain: "gw.test", ipv4: "127.0.0.1" });
  // Kosmos lists it as a gateway (read-only: no identity needed).
  const listed = (await runBin("kosmos", ["nodes", "--gateways", "--json"], { KOSMOS_LEDGER: f.ledger.url, KOSMOS_HOME: join(f.dir, "kosmos") })).json() as Array<{ id: number; publicConfig: unknown }>;
  assert.deepEqual(listed.map((n) => [n.id, n.publicConfig]), [[f.zos.nodeId, { domain: "gw.test", ipv4: "127.0.0.1" }]]);

  // 198.18/15 is outside every private range: a "public" backend, in a namespace of this test.
  const web = await backendNs(t, f.dir, "hello from the web container\n", 8080, "198.18");
  const alice = await newUser(f.client), bob = await newUser(f.client);
  const name = `hello-${randomBytes(3).toString("hex")}`;
  const t0 = performance.now();
  const id = await createContract(alice, deployment(alice, f.zos.nodeId, [nameProxy("web", name, [web.url])]));
  const c = await waitResult(f.client, id, "web", "ok", 20_000);
  t.diagnostic(`contract → ok in ${(performance.now() - t0).toFixed(0)} ms`);
  assert.equal(c.results.web!.data.fqdn, `${name}.gw.test`);
  const page = await get(httpPort, `${name}.gw.test`);
  assert.deepEqual(page, { status: 200, body: "hello from the web container" });

  // zos killed -9: its HAProxy keeps serving meanwhile; the next zos replaces it and serves the same routes.
  const pidFile = join(f.nodeDir, "gateway", "haproxy.pid");
  const oldMaster = Number(readFileSync(pidFile, "utf8").trim().split("\n")[0]);
  assert.ok(pidAlive(oldMaster));
  f.zos.proc.child.kill("SIGKILL");
  await new Promise((r) => f.zos.proc.child.once("exit", r));
  assert.equal((await get(httpPort, `${name}.gw.test`)).status, 200, "served while zos is down");
  f.zos = await restartZos(f.ledger.url, f.farmId, f.zos);
  await waitFor("served by the new zos's haproxy", async () => (await get(httpPort, `${name}.gw.test`)).status === 200, { timeoutMs: 20_000, stepMs: 100 });
  await waitFor("the old master gone", () => !pidAlive(oldMaster));
  assert.notEqual(Number(readFileSync(pidFile, "utf8").trim().split("\n")[0]), oldMaster, "a new master runs");

  // Bob cannot take the name: the ledger refuses the contract, nothing reaches the node.
  await assert.rejects(createContract(bob, deployment(bob, f.zos.nodeId, [nameProxy("steal", name, [web.url])])), (e: Error) => e instanceof ConflictError && /is taken by twin/.test(e.message));
  // A backend on the gateway node itself (its 0-db) is refused by the node with the reason.
  const bad = await createContract(bob, deployment(bob, f.zos.nodeId, [nameProxy("probe", `probe-${randomBytes(3).toString("hex")}`, [`http://127.0.0.1:${f.zdbPort}`])]));
  const refused = await waitResult(f.client, bad, "probe", "error", 20_000);
  assert.match(refused.results.probe!.message, /loopback/);
  // An unknown name: 404 from the gateway.
  assert.equal((await get(httpPort, `nobody.gw.test`)).status, 404);

  // Cancelled: the name is no longer served.
  await alice.signer.send("contract.cancel", { contractId: id });
  await waitFor("name no longer served", async () => (await get(httpPort, `${name}.gw.test`)).status === 404, { timeoutMs: 20_000, stepMs: 200 });
});

// Billing in ledger time through a real bcdb: billed each period, grace when the money runs out,
// deleted after the grace period; nodes go down without reports. Events arrive on the stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { generateSealKeyPair, signDeployment, GiB, type Deployment } from "../../src/core/index.js";
import type { LedgerEvent } from "../../src/ledger/client/index.js";
import { startBcdb, tempDir, fundedTwin, waitFor } from "./helpers.js";

test("a contract pays each period, enters grace when its twin runs dry, and is deleted after grace", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  const b = await startBcdb(dir, ["--faucet", "--block-interval", "100", "--billing-period", "1", "--grace-period", "1", "--report-interval", "1"]);
  t.after(() => b.stop());
  assert.equal(statSync(join(dir, "genesis.key")).mode & 0o777, 0o600);
  const c = b.client;
  const farmer = await fundedTwin(c, 0);
  const nodeTwin = await fundedTwin(c, 0);
  await farmer.signer.send("farm.create", { name: "bill-farm" });
  const reg = await nodeTwin.signer.send("node.register", { farmId: 1, capacity: { cru: 4, mru: 8 * GiB, sru: 50 * GiB, hru: 0 }, sealKey: generateSealKeyPair().publicKey, underlay: "10.9.0.1" });
  const nodeId = (reg.events![0] as { nodeId: number }).nodeId;
  const user = await fundedTwin(c, 5);
  const d: Deployment = {
    version: 0, twinId: user.twinId, nodeId, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: user.twinId, weight: 1, required: true }], weightRequired: 1 },
    workloads: [{ name: "c", type: "container", version: 0, description: "", data: { flist: "https://hub/x.flist", entrypoint: "", env: {}, secretEnv: {}, cpu: 1, memory: GiB, rootfsSize: GiB, mounts: [] } }],
  };
  const events: LedgerEvent[] = [];
  const cr = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.keys.privateKey) });
  const contractId = (cr.events!.find((e) => e.type === "contract.created") as { contractId: number }).contractId;
  const sub = c.subscribe({ from: cr.height, contractId }, (e) => { if (e.type !== "block") events.push(e); });
  t.after(() => sub.close());
  const cost = (await c.contract(contractId)).costPerPeriod;
  assert.equal(cost, 2);

  await waitFor("deletion", () => events.some((e) => e.type === "contract.deleted"), { timeoutMs: 15_000 });
  const types = events.map((e) => e.type);
  assert.deepEqual(types.filter((x) => x.startsWith("contract.") && x !== "contract.signed" && x !== "contract.approved"),
    ["contract.created", "contract.billed", "contract.billed", "contract.grace", "contract.deleted"]);
  const ct = await c.contract(contractId);
  assert.equal(ct.state, "deleted");
  assert.equal(ct.deletedReason, "out of funds");
  assert.equal((await c.twin(user.twinId)).balance, 1);
  assert.equal((await c.twin(farmer.twinId)).balance, 4, "the farmer got what the user paid");
  assert.deepEqual((await c.node(nodeId)).reserved, { cru: 0, mru: 0, sru: 0, hru: 0 });
  // The node never reported: after 3 report intervals of ledger time it is down.
  await waitFor("node down", async () => (await c.node(nodeId)).status === "down", { timeoutMs: 10_000 });
  assert.equal((await c.nodes({ status: "down" })).length, 1);
  await nodeTwin.signer.send("node.report", { nodeId, uptime: 10, used: { cru: 0, mru: 0, sru: 0, hru: 0 } });
  assert.equal((await c.node(nodeId)).status, "up");
});

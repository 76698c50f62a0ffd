// Co-signers: contract.created/updated name the twins a version asks to sign it (`signers`), a twin's
// event filter matches them, and GET /contracts?signer=TWIN&pending=true lists what awaits that twin.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSealKeyPair, signDeployment, GiB, ValidationError, type Deployment } from "../../src/core/index.js";
import type { LedgerEvent } from "../../src/ledger/client/index.js";
import { startBcdb, tempDir, fundedTwin, waitFor } from "./helpers.js";

test("co-signers: signers in contract events, the twin filter, and GET /contracts?signer=&pending=true", async (t) => {
  const b = await startBcdb(tempDir(t, "bcdb-test-"), ["--faucet", "--block-interval", "100"]);
  t.after(() => b.stop());
  const c = b.client;
  const alice = await fundedTwin(c, 5_000_000_000);
  const bob = await fundedTwin(c, 0);
  const carol = await fundedTwin(c, 0);
  const farmer = await fundedTwin(c, 0);
  const fr = await farmer.signer.send("farm.create", { name: "cosign-farm" });
  const farmId = (fr.events!.find((e) => e.type === "farm.created") as { farmId: number }).farmId;
  const nr = await farmer.signer.send("node.register", {
    farmId, capacity: { cru: 8, mru: 16 * GiB, sru: 100 * GiB, hru: 1000 * GiB }, sealKey: generateSealKeyPair().publicKey, underlay: "10.0.0.2",
  });
  const nodeId = (nr.events![0] as { nodeId: number }).nodeId;

  const bobSees: LedgerEvent[] = [];
  const sub = c.subscribe({ from: 0, twinId: bob.twinId }, (e) => { if (e.type !== "block") bobSees.push(e); });
  t.after(() => sub.close());

  const d0: Deployment = {
    version: 0, twinId: alice.twinId, nodeId, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: alice.twinId, weight: 1, required: true }, { twinId: bob.twinId, weight: 1, required: false }], weightRequired: 2 },
    workloads: [{ name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } }],
  };
  const cr = await alice.signer.send("contract.create", { deployment: d0, deploymentSignature: signDeployment(d0, alice.keys.privateKey) });
  const created = cr.events!.find((e) => e.type === "contract.created") as { contractId: number; signers: number[] };
  assert.deepEqual(created.signers, [alice.twinId, bob.twinId]);
  const contractId = created.contractId;
  // an alice-only contract that bob must not see
  const solo: Deployment = { ...d0, signatureRequirement: { requests: [{ twinId: alice.twinId, weight: 1, required: false }], weightRequired: 1 } };
  await alice.signer.send("contract.create", { deployment: solo, deploymentSignature: signDeployment(solo, alice.keys.privateKey) });

  // bob, filtering on his own twin, learns of the contract awaiting his signature
  await waitFor("bob to see contract.created", () => bobSees.some((e) => e.type === "contract.created" && e.contractId === contractId), { timeoutMs: 10_000 });
  assert.ok(bobSees.every((e) => !(e.type === "contract.created" && e.contractId !== contractId)), "only contracts that ask bob");

  const ids = (cs: { id: number }[]) => cs.map((x) => x.id);
  assert.deepEqual(ids(await c.contracts({ signer: bob.twinId })), [contractId]);
  assert.deepEqual(ids(await c.contracts({ signer: bob.twinId, pending: true })), [contractId]);
  assert.deepEqual(ids(await c.contracts({ signer: carol.twinId, pending: true })), []);
  assert.deepEqual(ids(await c.contracts({ signer: alice.twinId, pending: true })), [], "alice signed both when she created them");
  await assert.rejects(c.contracts({ pending: true }), (e: unknown) => e instanceof ValidationError && /signer/.test((e as Error).message));
  await assert.rejects(c.contracts({ signer: bob.twinId, pending: "yes" as unknown as boolean }), ValidationError);

  await bob.signer.send("contract.approve", { contractId, version: 0, deploymentSignature: signDeployment(d0, bob.keys.privateKey) });
  assert.deepEqual(ids(await c.contracts({ signer: bob.twinId, pending: true })), [], "signed: no longer pending");
  assert.deepEqual(ids(await c.contracts({ signer: bob.twinId })), [contractId]);

  // an update asking carol instead of bob: the event names carol, and it is pending for her
  const d1: Deployment = { ...d0, version: 1, signatureRequirement: { requests: [{ twinId: alice.twinId, weight: 1, required: true }, { twinId: carol.twinId, weight: 1, required: false }], weightRequired: 2 } };
  const up = await alice.signer.send("contract.update", { contractId, deployment: d1, deploymentSignature: signDeployment(d1, alice.keys.privateKey) });
  assert.deepEqual((up.events!.find((e) => e.type === "contract.updated") as { signers: number[] }).signers, [alice.twinId, carol.twinId]);
  assert.deepEqual(ids(await c.contracts({ signer: carol.twinId, pending: true })), [contractId]);
  assert.deepEqual(ids(await c.contracts({ signer: bob.twinId })), [], "the latest version no longer asks bob");
});

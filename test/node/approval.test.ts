// The node acts only on deployments whose signatures it verified itself: a forged approval is
// ignored by the node even if a ledger claimed it; a missing required signer means nothing happens
// until that signer approves.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { generateKeyPair, signDeployment, MiB, type Deployment } from "../../src/core/index.js";
import { ApprovalVerifier } from "../../src/node/verify.js";
import type { ContractView } from "../../src/node/ledger.js";
import {
  newUser, zdbWorkload, deployment, createContract, waitResult, nsList, waitFor, nodeFixture,
} from "./grid.js";

test("verifier: a forged or incomplete approval is refused, a real one accepted", async () => {
  const alice = generateKeyPair(), bob = generateKeyPair(), mallory = generateKeyPair();
  const keys = new Map([[2, alice.publicKey], [3, bob.publicKey]]);
  const v = new ApprovalVerifier({ twin: async (id) => ({ id, publicKey: keys.get(id)! }) }, 1);
  const d: Deployment = {
    version: 0, twinId: 2, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: true }, { twinId: 3, weight: 1, required: true }], weightRequired: 2 },
    workloads: [],
  };
  const view = (sigs: ContractView["approvedSignatures"], dep: Deployment = d): ContractView => ({ id: 1, twinId: 2, nodeId: 1, state: "active", approvedVersion: dep.version, approvedDeployment: dep, approvedSignatures: sigs });
  const good = [{ twinId: 2, signature: signDeployment(d, alice.privateKey) }, { twinId: 3, signature: signDeployment(d, bob.privateKey) }];
  assert.equal((await v.verify(view(good))).ok, true);
  const forged = await v.verify(view([good[0], { twinId: 3, signature: signDeployment(d, mallory.privateKey) }]));
  assert.equal(forged.ok, false);
  assert.match((forged as { reason: string }).reason, /missing required signer\(s\) 3; invalid signature\(s\) from 3/);
  assert.equal((await v.verify(view([good[0]]))).ok, false);
  // Signatures of another deployment do not carry over to a changed one.
  const changed = { ...d, metadata: "changed" };
  assert.equal((await v.verify(view(good, changed))).ok, false);
  // A deployment for another node is not this node's business.
  assert.equal((await v.verify(view(good, { ...d, nodeId: 9 }))).ok, false);
});

test("a deployment lacking a required signer is not touched until it is approved; a wrong-key signature is refused", async (t) => {
  const { client, zdbPort, nodeDir, zos } = await nodeFixture(t, "approval");
  const { sealKey } = await client.node(zos.nodeId);
  const user = await newUser(client);
  const cosigner = await newUser(client, 0);

  // Signed with a key that is not the deployment twin's: refused, and nothing appears on the node.
  const bad = deployment(user, zos.nodeId, [zdbWorkload("x", "pw-x", sealKey, 16 * MiB)]);
  await assert.rejects(createContract(user, bad, generateKeyPair()), /signature/i);

  const d = deployment(user, zos.nodeId, [zdbWorkload("db", "pw-db", sealKey, 16 * MiB)], {
    requests: [{ twinId: user.twinId, weight: 1, required: true }, { twinId: cosigner.twinId, weight: 1, required: true }], weightRequired: 2,
  });
  const receipt = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.keys.privateKey) });
  const ev = receipt.events?.find((e) => e.type === "contract.created");
  const contractId = ev && ev.type === "contract.created" ? ev.contractId : NaN;
  const created = await client.contract(contractId);
  assert.equal(created.approved, false);
  // Wait until the node has processed the contract's creation, then check it did nothing.
  const h = receipt.height;
  await waitFor("node processed the creation", async () => JSON.parse(await readFile(join(nodeDir, "cursor.json"), "utf8")).height >= h, { timeoutMs: 15_000 });
  assert.deepEqual((await client.contract(contractId)).results, {});
  assert.ok(!(await nsList(zdbPort)).some((n) => n.startsWith(`${contractId}-`)));

  await cosigner.signer.send("contract.approve", { contractId, version: 0, deploymentSignature: signDeployment(d, cosigner.keys.privateKey) });
  const c = await waitResult(client, contractId, "db", "ok");
  assert.equal(c.approved, true);
  assert.ok((await nsList(zdbPort)).includes(`${contractId}-db`));
});

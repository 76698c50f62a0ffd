// The ledger over its real HTTP API: every transaction type through the typed client, the
// queries, and each kind of bad input refused with a clear reason and the state unchanged.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  generateKeyPair, generateSealKeyPair, signTx, signDeployment, seal, GiB, MAX_TX_BYTES,
  ConflictError, ForbiddenError, InsufficientFundsError, NonceError, SignatureError, ValidationError, NotFoundError, GridError,
  type Deployment,
} from "../../src/core/index.js";
import { LedgerClient } from "../../src/ledger/client/index.js";
import { startBcdb, tempDir, fundedTwin } from "./helpers.js";

function deployment(twinId: number, nodeId: number, extra: Partial<Deployment> = {}): Deployment {
  return {
    version: 0, twinId, nodeId, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId, weight: 1, required: false }], weightRequired: 1 },
    workloads: [{ name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } }],
    ...extra,
  };
}

/** What must not move when a transaction is refused. */
async function snapshot(c: LedgerClient, keys: string[]) {
  const st = await c.status();
  const accounts = await Promise.all(keys.map((k) => c.account(k)));
  return { height: st.height, twins: st.twins, nodes: st.nodes, contracts: st.contracts, accounts };
}

async function refused(c: LedgerClient, keys: string[], attempt: () => Promise<unknown>, cls: new (...a: never[]) => GridError, reason: RegExp): Promise<void> {
  const before = await snapshot(c, keys);
  await assert.rejects(attempt, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.match((e as Error).message, reason);
    return true;
  });
  const after = await snapshot(c, keys);
  assert.deepEqual(after, before);
}

test("ledger API: every transaction type, the queries, and refusals that change nothing", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  const b = await startBcdb(dir, ["--faucet", "--block-interval", "600000"]);
  t.after(() => b.stop());
  const c = b.client;

  const alice = await fundedTwin(c, 5_000_000_000);
  const bob = await fundedTwin(c, 1_000);
  const farmer = await fundedTwin(c, 0);
  const nodeOwner = await fundedTwin(c, 0);
  const otherNode = await fundedTwin(c, 0);
  const keys = [alice.keys.publicKey, bob.keys.publicKey, nodeOwner.keys.publicKey];

  // twin.create, twins and accounts
  const acc = await c.account(alice.keys.publicKey);
  assert.equal(acc.twinId, alice.twinId);
  assert.equal(acc.balance, 5_000_000_000);
  assert.equal(acc.nonce, 1);
  assert.equal((await c.twin(alice.twinId)).publicKey, alice.keys.publicKey);
  const fresh = generateKeyPair();
  assert.deepEqual(await c.account(fresh.publicKey), { publicKey: fresh.publicKey, twinId: null, nonce: 0, balance: 0 });

  // transfer
  const tr = await alice.signer.send("transfer", { to: bob.twinId, amount: 500 });
  assert.ok(tr.height > 0 && tr.index >= 0 && /^[0-9a-f]{64}$/.test(tr.hash));
  assert.equal((await c.twin(bob.twinId)).balance, 1_500);

  // farm.create, node.register (re-register keeps the id), node.report
  const fr = await farmer.signer.send("farm.create", { name: "farm-one" });
  const farmId = (fr.events!.find((e) => e.type === "farm.created") as { farmId: number }).farmId;
  assert.deepEqual(await c.farm(farmId), { id: farmId, name: "farm-one", twinId: farmer.twinId });
  assert.equal((await c.farms()).length, 1);
  const seal1 = generateSealKeyPair();
  const capacity = { cru: 8, mru: 16 * GiB, sru: 100 * GiB, hru: 1000 * GiB };
  const reg = { farmId, capacity, sealKey: seal1.publicKey, underlay: "10.0.0.2" };
  const nr = await nodeOwner.signer.send("node.register", reg);
  const nodeId = (nr.events![0] as { nodeId: number }).nodeId;
  const again = await nodeOwner.signer.send("node.register", { ...reg, underlay: "10.0.0.3", publicConfig: { domain: "gw.example.org" } });
  assert.equal((again.events![0] as { nodeId: number }).nodeId, nodeId);
  const other = await otherNode.signer.send("node.register", { ...reg, sealKey: generateSealKeyPair().publicKey });
  const otherNodeId = (other.events![0] as { nodeId: number }).nodeId;
  await nodeOwner.signer.send("node.report", { nodeId, uptime: 42, used: { cru: 1, mru: GiB, sru: 0, hru: 0 } });
  const node = await c.node(nodeId);
  assert.equal(node.underlay, "10.0.0.3");
  assert.equal(node.publicConfig?.domain, "gw.example.org");
  assert.equal(node.uptime, 42);
  assert.equal(node.status, "up");
  assert.equal(node.sealKey, seal1.publicKey);
  assert.equal((await c.nodes({ farmId })).length, 2);
  assert.equal((await c.nodes({ mru: 17 * GiB })).length, 0);

  // contract.create with a two-party requirement: not approved until bob signs
  const d0 = deployment(alice.twinId, nodeId, {
    signatureRequirement: { requests: [{ twinId: alice.twinId, weight: 1, required: true }, { twinId: bob.twinId, weight: 1, required: false }], weightRequired: 2 },
    workloads: [
      { name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } },
      { name: "db", type: "zdb", version: 0, description: "", data: { size: 20 * GiB, mode: "user", password: seal("s3cret", seal1.publicKey), public: false } },
      { name: "gw", type: "gateway-name-proxy", version: 0, description: "", data: { name: "alicesite", backends: ["http://10.1.0.2:80"], tlsPassthrough: false } },
    ],
  });
  const cr = await alice.signer.send("contract.create", { deployment: d0, deploymentSignature: signDeployment(d0, alice.keys.privateKey) });
  const contractId = (cr.events!.find((e) => e.type === "contract.created") as { contractId: number }).contractId;
  let ct = await c.contract(contractId);
  assert.equal(ct.state, "active");
  assert.equal(ct.approved, false);
  assert.equal(ct.approvedDeployment, null);
  assert.ok(ct.costPerPeriod > 0);
  assert.deepEqual((await c.node(nodeId)).reserved, { cru: 0, mru: 0, sru: 10 * GiB, hru: 20 * GiB });
  assert.deepEqual(await c.name("alicesite"), { name: "alicesite", twinId: alice.twinId, contractId });
  assert.ok(!JSON.stringify(ct).includes("s3cret"), "no secret in clear text on the ledger");

  // refusals: approving with a key not in the requirement, a node posting another node's result, a non-node result
  const carol = await fundedTwin(c, 0);
  await refused(c, keys, () => carol.signer.send("contract.approve", { contractId, version: 0, deploymentSignature: signDeployment(d0, carol.keys.privateKey) }), ForbiddenError, /not in contract .* signature requirement/);
  await refused(c, keys, () => otherNode.signer.send("contract.result", { contractId, version: 0, results: [{ name: "vol", state: "ok", message: "", data: {}, created: 1 }] }), ForbiddenError, /may not post results for contract/);
  await refused(c, keys, () => bob.signer.send("contract.result", { contractId, version: 0, results: [{ name: "vol", state: "ok", message: "", data: {}, created: 1 }] }), ForbiddenError, /is not a node/);
  // bob signing something else than the deployment
  await refused(c, keys, () => bob.signer.send("contract.approve", { contractId, version: 0, deploymentSignature: signDeployment({ ...d0, metadata: "x" }, bob.keys.privateKey) }), SignatureError, /deploymentSignature/);

  const ap = await bob.signer.send("contract.approve", { contractId, version: 0, deploymentSignature: signDeployment(d0, bob.keys.privateKey) });
  assert.deepEqual(ap.events!.map((e) => e.type), ["contract.signed", "contract.approved"]);
  ct = await c.contract(contractId);
  assert.equal(ct.approved, true);
  assert.equal(ct.approvedVersion, 0);
  assert.equal(ct.approvedSignatures.length, 2);

  // contract.result from the contract's own node
  await nodeOwner.signer.send("contract.result", { contractId, version: 0, results: [{ name: "vol", state: "ok", message: "", data: {}, created: 5 }] });
  assert.equal((await c.contract(contractId)).results.vol.version, 0);
  assert.equal((await c.contracts({ nodeId })).length, 1);
  assert.equal((await c.contracts({ twinId: bob.twinId })).length, 0);

  // contract.update: version must be +1; signatures reset; the approved version stays until re-approved
  const d1 = { ...d0, version: 1, workloads: d0.workloads.slice(0, 2) };
  await refused(c, keys, () => alice.signer.send("contract.update", { contractId, deployment: { ...d1, version: 3 }, deploymentSignature: signDeployment({ ...d1, version: 3 }, alice.keys.privateKey) }), ConflictError, /must be version 1/);
  await alice.signer.send("contract.update", { contractId, deployment: d1, deploymentSignature: signDeployment(d1, alice.keys.privateKey) });
  ct = await c.contract(contractId);
  assert.equal(ct.deployment.version, 1);
  assert.equal(ct.approved, false);
  assert.equal(ct.approvedVersion, 0);
  assert.equal((await c.name("alicesite")).contractId, null);

  // names: first come first served, release
  await alice.signer.send("name.reserve", { name: "shared" });
  await refused(c, keys, () => bob.signer.send("name.reserve", { name: "shared" }), ConflictError, /name "shared" is taken by twin/);
  await refused(c, keys, () => bob.signer.send("name.release", { name: "shared" }), ForbiddenError, /belongs to twin/);
  await alice.signer.send("name.release", { name: "shared" });
  await assert.rejects(() => c.name("shared"), NotFoundError);

  // a deployment failing its schema (clear-text password)
  const bad = { ...d0, workloads: [{ name: "db", type: "zdb", version: 0, description: "", data: { size: GiB, mode: "user", password: "plain", public: false } }] } as unknown as Deployment;
  await refused(c, keys, () => alice.signer.send("contract.create", { deployment: bad, deploymentSignature: signDeployment(bad, alice.keys.privateKey) }), ValidationError, /invalid contract.create payload: deployment\.workloads/);

  // transfer over balance; forged and missing signatures; replayed and skipped nonces
  await refused(c, keys, () => bob.signer.send("transfer", { to: alice.twinId, amount: 1_000_000 }), InsufficientFundsError, /less than the 1000000/);
  const n = (await c.account(bob.keys.publicKey)).nonce;
  const good = signTx({ type: "transfer", signer: bob.keys.publicKey, nonce: n + 1, payload: { to: alice.twinId, amount: 1 } }, bob.keys.privateKey);
  await refused(c, keys, () => c.submit({ ...good, payload: { to: alice.twinId, amount: 2 } }), SignatureError, /does not verify/);
  await refused(c, keys, () => c.submit(signTx({ ...good, signature: undefined } as never, alice.keys.privateKey)), SignatureError, /does not verify/);
  const { signature: _s, ...unsigned } = good;
  await refused(c, keys, () => c.submit(unsigned as never), ValidationError, /malformed transaction: signature/);
  await refused(c, keys, () => c.submit(signTx({ ...unsigned, nonce: n }, bob.keys.privateKey)), NonceError, /already used/);
  await refused(c, keys, () => c.submit(signTx({ ...unsigned, nonce: n + 2 }, bob.keys.privateKey)), NonceError, /skips ahead/);
  await c.submit(good);
  await refused(c, keys, () => c.submit(good), NonceError, /already used/);

  // mint is genesis-only
  await refused(c, keys, () => alice.signer.send("mint", { to: alice.twinId, amount: 1 }), ForbiddenError, /only the genesis key/);

  // malformed JSON and oversized bodies, over raw HTTP
  const before = await snapshot(c, keys);
  const mal = await fetch(`${b.url}/tx`, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
  assert.equal(mal.status, 400);
  assert.match(((await mal.json()) as { error: { message: string } }).error.message, /not valid JSON/);
  const big = await fetch(`${b.url}/tx`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ pad: "x".repeat(3 * MAX_TX_BYTES) }) });
  assert.equal(big.status, 413);
  const bigErr = ((await big.json()) as { error: { code: string; message: string } }).error;
  assert.equal(bigErr.code, "invalid");
  assert.match(bigErr.message, /larger than the limit/);
  assert.deepEqual(await snapshot(c, keys), before);

  // contract.cancel by its owner only; frees the node
  await refused(c, keys, () => bob.signer.send("contract.cancel", { contractId }), ForbiddenError, /may cancel it/);
  const cancel = await alice.signer.send("contract.cancel", { contractId });
  assert.ok(cancel.events!.some((e) => e.type === "contract.deleted" && e.reason === "cancelled"));
  ct = await c.contract(contractId);
  assert.equal(ct.state, "deleted");
  assert.equal(ct.deletedReason, "cancelled");
  assert.deepEqual((await c.node(nodeId)).reserved, { cru: 0, mru: 0, sru: 0, hru: 0 });

  // blocks and status
  const st = await c.status();
  const blk = await c.block(tr.height);
  assert.equal(blk.height, tr.height);
  assert.ok((blk.txs as { signature: string }[]).some((x) => x.signature && tr.hash));
  assert.equal((await c.block(0)).genesis?.publicKey !== undefined, true);
  assert.ok(st.height >= tr.height && st.twins >= 6 && st.contracts === 1);
  const metrics = await (await fetch(`${b.url}/metrics`)).text();
  assert.match(metrics, /ledger_txs_included_total \d+/);
  assert.match(metrics, /ledger_txs_refused_total\{code="bad_nonce"\} [1-9]/);
  assert.equal(otherNodeId > nodeId, true);
});

test("the faucet is off unless --faucet; unknown paths are 404 with a JSON error", async (t) => {
  const b = await startBcdb(tempDir(t, "bcdb-test-"));
  t.after(() => b.stop());
  await assert.rejects(() => b.client.faucet(1, 10), (e: unknown) => e instanceof NotFoundError && /no faucet/.test(e.message));
  const r = await fetch(`${b.url}/nope`);
  assert.equal(r.status, 404);
  assert.equal(((await r.json()) as { error: { code: string } }).error.code, "not_found");
  await assert.rejects(() => b.client.twin(999), NotFoundError);
});

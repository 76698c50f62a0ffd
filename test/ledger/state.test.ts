// The pure state machine: no clock, no disk. Supply invariance, billing → grace → resumed /
// deleted in ledger time, and replay of the same blocks rebuilding the same state.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, generateSealKeyPair, signTx, signDeployment, GiB, parseTx, InsufficientFundsError, type KeyPair, type TxType, type Payload, type Deployment } from "../../src/core/index.js";
import { apply, applyBilling } from "../../src/ledger/apply.js";
import { emptyState, stateToJson, stateFromJson, type State } from "../../src/ledger/state.js";

const genesisKey = generateKeyPair();
function fresh(): State {
  return emptyState({ publicKey: genesisKey.publicKey, supply: 1_000_000_000, billingPeriod: 100, gracePeriod: 250, reportInterval: 60 }, 1000);
}
function send<T extends TxType>(s: State, k: KeyPair, type: T, payload: Payload<T>, time = 1000) {
  const nonce = (s.nonces.get(k.publicKey) ?? 0) + 1;
  return apply(s, parseTx(signTx({ type, signer: k.publicKey, nonce, payload }, k.privateKey)), time);
}
function totalBalance(s: State): number { let t = 0; for (const tw of s.twins.values()) t += tw.balance; return t; }

test("random transfers never create or destroy tokens; refused ones change nothing", () => {
  const s = fresh();
  const keys = Array.from({ length: 8 }, () => generateKeyPair());
  for (const k of keys) send(s, k, "twin.create", {});
  for (let i = 0; i < keys.length; i++) send(s, genesisKey, "transfer", { to: i + 2, amount: 1000 });
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
  let refusedCount = 0;
  for (let i = 0; i < 2000; i++) {
    const from = rnd(keys.length), to = rnd(keys.length + 1) + 1;
    const amount = rnd(1500) + 1;
    const before = JSON.stringify(stateToJson(s));
    try { send(s, keys[from], "transfer", { to, amount }); } catch {
      refusedCount++;
      assert.equal(JSON.stringify(stateToJson(s)), before, "a refusal leaves the state as it was");
    }
    assert.equal(totalBalance(s), s.supply);
  }
  assert.ok(refusedCount > 0 && refusedCount < 2000);
  assert.throws(() => send(s, keys[0], "transfer", { to: 3, amount: 10 ** 9 }), InsufficientFundsError);
});

function setup(userFunds: number) {
  const s = fresh();
  const user = generateKeyPair(), farmer = generateKeyPair(), node = generateKeyPair();
  for (const k of [user, farmer, node]) send(s, k, "twin.create", {});
  const [userTwin, farmerTwin] = [s.twinByKey.get(user.publicKey)!, s.twinByKey.get(farmer.publicKey)!];
  if (userFunds > 0) send(s, genesisKey, "transfer", { to: userTwin, amount: userFunds });
  send(s, farmer, "farm.create", { name: "f" });
  send(s, node, "node.register", { farmId: 1, capacity: { cru: 4, mru: 8 * GiB, sru: 100 * GiB, hru: 0 }, sealKey: generateSealKeyPair().publicKey, underlay: "n1" });
  const d: Deployment = {
    version: 0, twinId: userTwin, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: userTwin, weight: 1, required: false }], weightRequired: 1 },
    workloads: [{ name: "c", type: "container", version: 0, description: "", data: { flist: "x", entrypoint: "", env: {}, secretEnv: {}, cpu: 2, memory: 4 * GiB, rootfsSize: 2 * GiB, mounts: [] } }],
  };
  const evs = send(s, user, "contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.privateKey) });
  assert.deepEqual(evs.map((e) => e.type), ["contract.created", "contract.signed", "contract.approved"]);
  return { s, user, userTwin, farmerTwin, c: s.contracts.get(1)! };
}

test("billing: each period the user pays the farmer; out of funds → grace → resumed when funded again", () => {
  const { s, userTwin, farmerTwin, c } = setup(10 ** 6);
  const cost = c.costPerPeriod;
  assert.ok(cost > 0);
  assert.deepEqual(applyBilling(s, 1099), [], "nothing is due before the period ends");
  const ev = applyBilling(s, 1100);
  assert.deepEqual(ev, [{ type: "contract.billed", contractId: 1, twinId: userTwin, nodeId: 1, amount: cost }]);
  assert.equal(s.twins.get(farmerTwin)!.balance, cost);
  // Two periods late (a block gap): both are billed, in order.
  assert.equal(applyBilling(s, 1300).filter((e) => e.type === "contract.billed").length, 2);
  // Drain the user and let a period pass: grace.
  const u = s.twins.get(userTwin)!;
  const drained = u.balance; u.balance = 0; s.twins.get(1)!.balance += drained; // keep supply whole
  assert.deepEqual(applyBilling(s, 1400).map((e) => e.type), ["contract.grace"]);
  assert.equal(c.state, "grace");
  assert.equal(c.graceSince, 1400);
  assert.deepEqual(applyBilling(s, 1500), [], "still short: stays in grace");
  s.twins.get(1)!.balance -= cost; u.balance += cost;
  assert.deepEqual(applyBilling(s, 1600).map((e) => e.type), ["contract.billed", "contract.resumed"]);
  assert.equal(c.state, "active");
  assert.equal(totalBalance(s), s.supply);
});

test("billing: grace that runs out deletes the contract (out of funds) and frees the node", () => {
  const { s, c } = setup(0);
  assert.deepEqual(applyBilling(s, 1100).map((e) => e.type), ["contract.grace"]);
  assert.deepEqual(applyBilling(s, 1300), []);
  const ev = applyBilling(s, 1400);
  assert.deepEqual(ev.map((e) => e.type), ["contract.deleted"]);
  assert.equal((ev[0] as { reason: string }).reason, "out of funds");
  assert.equal(c.state, "deleted");
  assert.deepEqual(s.nodes.get(1)!.reserved, { cru: 0, mru: 0, sru: 0, hru: 0 });
  assert.equal(s.billingDue, Infinity);
});

test("a snapshot round-trips the state exactly", () => {
  const { s } = setup(10 ** 6);
  applyBilling(s, 1100);
  const j = JSON.stringify(stateToJson(s));
  const back = stateFromJson(JSON.parse(j));
  assert.equal(JSON.stringify(stateToJson(back)), j);
  assert.equal(back.billingDue, s.billingDue);
});

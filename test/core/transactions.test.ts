import { test } from "node:test";
import assert from "node:assert/strict";
import {
  generateKeyPair, generateSealKeyPair, seal, signTx, parseTx, ValidationError, SignatureError, MAX_TX_BYTES,
  deploymentSchema, signDeployment, approvalStatus, deploymentCapacity, keyPairFromMnemonic, newMnemonic, GiB, reservationCost, parseSize,
} from "../../src/core/index.js";

const alice = generateKeyPair();

test("a signed transaction parses; tampering, a foreign signature and a bad payload are refused with reasons", () => {
  const tx = signTx({ type: "transfer", signer: alice.publicKey, nonce: 1, payload: { to: 2, amount: 10 } }, alice.privateKey);
  assert.deepEqual(parseTx(JSON.parse(JSON.stringify(tx))), tx);
  assert.throws(() => parseTx({ ...tx, payload: { to: 2, amount: 11 } }), SignatureError);
  const mallory = generateKeyPair();
  assert.throws(() => parseTx({ ...tx, signer: mallory.publicKey }), SignatureError);
  const badPayload = signTx({ type: "transfer", signer: alice.publicKey, nonce: 1, payload: { to: 2, amount: -1 } as never }, alice.privateKey);
  assert.throws(() => parseTx(badPayload), (e: unknown) => e instanceof ValidationError && /amount/.test(e.message));
  assert.throws(() => parseTx({ type: "nope" }), (e: unknown) => e instanceof ValidationError && /malformed/.test(e.message));
  assert.throws(() => parseTx("string"), ValidationError);
  const { signature: _s, ...unsigned } = tx;
  assert.throws(() => parseTx(unsigned), ValidationError);
});

test("an oversized transaction is refused before its signature is checked", () => {
  const big = signTx({ type: "farm.create", signer: alice.publicKey, nonce: 1, payload: { name: "f", pad: "x".repeat(MAX_TX_BYTES) } as never }, alice.privateKey);
  assert.throws(() => parseTx(big), (e: unknown) => e instanceof ValidationError && /limit/.test(e.message));
});

test("a deployment with a clear-text password or duplicate names fails its schema", () => {
  const base = { version: 0, twinId: 1, nodeId: 1, signatureRequirement: { requests: [{ twinId: 1, weight: 1 }], weightRequired: 1 } };
  const node = generateSealKeyPair();
  const zdb = { name: "db", type: "zdb", version: 0, data: { size: GiB, mode: "user", password: seal("pw", node.publicKey), public: false } };
  assert.ok(deploymentSchema.safeParse({ ...base, workloads: [zdb] }).success);
  assert.equal(deploymentSchema.safeParse({ ...base, workloads: [{ ...zdb, data: { ...zdb.data, password: "pw" } }] }).success, false);
  assert.equal(deploymentSchema.safeParse({ ...base, workloads: [zdb, zdb] }).success, false);
  assert.equal(deploymentSchema.safeParse({ ...base, signatureRequirement: { requests: [{ twinId: 1, weight: 1 }], weightRequired: 2 }, workloads: [] }).success, false);
});

test("multi-signature approval needs the weight and every required signer", () => {
  const bob = generateKeyPair();
  const carol = generateKeyPair();
  const keys: Record<number, string> = { 1: alice.publicKey, 2: bob.publicKey, 3: carol.publicKey };
  const d = deploymentSchema.parse({
    version: 0, twinId: 1, nodeId: 7,
    signatureRequirement: { requests: [{ twinId: 1, weight: 1 }, { twinId: 2, weight: 1, required: true }, { twinId: 3, weight: 1 }], weightRequired: 2 },
    workloads: [{ name: "v", type: "volume", version: 0, data: { size: 2 * GiB } }],
  });
  const pk = (t: number) => keys[t];
  const a = { twinId: 1, signature: signDeployment(d, alice.privateKey) };
  const b = { twinId: 2, signature: signDeployment(d, bob.privateKey) };
  const c = { twinId: 3, signature: signDeployment(d, carol.privateKey) };
  assert.equal(approvalStatus(d, [a], pk).approved, false);
  const ac = approvalStatus(d, [a, c], pk);
  assert.equal(ac.approved, false); assert.deepEqual(ac.missingRequired, [2]);
  assert.equal(approvalStatus(d, [a, b], pk).approved, true);
  // A signature by the wrong key, or of another version, does not count.
  const forged = { twinId: 2, signature: signDeployment(d, carol.privateKey) };
  assert.deepEqual(approvalStatus(d, [a, forged], pk).invalid, [2]);
  const v1 = { ...d, version: 1 };
  assert.equal(approvalStatus(v1, [a, b], pk).approved, false);
  assert.deepEqual(deploymentCapacity(d), { cru: 0, mru: 0, sru: 2 * GiB, hru: 0 });
});

test("a mnemonic gives the same key every time; a bad one is refused", () => {
  const m = newMnemonic();
  assert.equal(keyPairFromMnemonic(m).publicKey, keyPairFromMnemonic(`  ${m.replace(/ /g, "   ")} `).publicKey);
  assert.throws(() => keyPairFromMnemonic("abandon abandon"), ValidationError);
});

test("sizes parse and costs follow the unit formulas", () => {
  assert.equal(parseSize("10GiB"), 10 * GiB);
  assert.equal(parseSize("1G"), GiB);
  assert.equal(parseSize("1GB"), 1e9);
  assert.throws(() => parseSize("lots"));
  // 2 cores + 4 GiB = 1 CU; one hour at the default price.
  assert.equal(reservationCost({ cru: 2, mru: 4 * GiB, sru: 0, hru: 0 }, { publicIps: 0, names: 0 }, 3600), 10_000);
  assert.equal(reservationCost({ cru: 0, mru: 0, sru: 200 * GiB, hru: 0 }, { publicIps: 0, names: 0 }, 3600), 5_000);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  generateKeyPair, keyPairFromSeed, signObject, verifyObject, signingDigest, sha256Hex, canonicalJson, signBytes, verifyBytes,
} from "../../src/core/index.js";

test("a key pair from a seed is deterministic (RFC 8032 test vector 1)", () => {
  const kp = keyPairFromSeed("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  assert.equal(kp.publicKey, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const sig = signBytes(Buffer.alloc(0), kp.privateKey);
  assert.equal(sig, "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  assert.ok(verifyBytes(Buffer.alloc(0), sig, kp.publicKey));
});

test("signObject signs the canonical form without the signature field", () => {
  const kp = generateKeyPair();
  const tx = signObject({ type: "transfer", nonce: 1, payload: { to: 2, amount: 5 } }, kp.privateKey);
  assert.ok(verifyObject(tx, kp.publicKey));
  // Reordering keys does not change the signed bytes.
  const reordered = { signature: tx.signature, payload: { amount: 5, to: 2 }, nonce: 1, type: "transfer" };
  assert.ok(verifyObject(reordered, kp.publicKey));
  assert.equal(signingDigest(tx).toString("hex"), sha256Hex(canonicalJson({ type: "transfer", nonce: 1, payload: { to: 2, amount: 5 } })));
});

test("tampering, a wrong key or a malformed signature fail verification without throwing", () => {
  const kp = generateKeyPair();
  const other = generateKeyPair();
  const tx = signObject({ a: 1 }, kp.privateKey);
  assert.equal(verifyObject({ ...tx, a: 2 }, kp.publicKey), false);
  assert.equal(verifyObject(tx, other.publicKey), false);
  assert.equal(verifyObject({ ...tx, signature: "zz" }, kp.publicKey), false);
  assert.equal(verifyObject({ a: 1 }, kp.publicKey), false);
  assert.equal(verifyObject(tx, "not-a-key"), false);
  const flipped = tx.signature.slice(0, -1) + (tx.signature.endsWith("0") ? "1" : "0");
  assert.equal(verifyObject({ ...tx, signature: flipped }, kp.publicKey), false);
});

// Public keys that prove nothing: the small-order points (identity-like, [8]A = 0) and bytes that
// are no canonical point are not usable keys, and no signature "by" them verifies.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPair, isPublicKeyHex, isUsablePublicKey, signBytes, verifyBytes } from "../../src/core/index.js";

const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000", // identity
  "0000000000000000000000000000000000000000000000000000000000000000", // order 4
  "0000000000000000000000000000000000000000000000000000000000000080", // order 4, other sign
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = -1: order 2
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8, other sign
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8, other sign
];

test("small-order and non-canonical public keys are not usable; real ones are", () => {
  for (const k of SMALL_ORDER) {
    assert.equal(isPublicKeyHex(k), true, "well-formed hex");
    assert.equal(isUsablePublicKey(k), false, k);
  }
  // y ≥ p is a non-canonical encoding (here of the identity): refused too.
  assert.equal(isUsablePublicKey("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"), false);
  assert.equal(isUsablePublicKey("zz".repeat(32)), false);
  assert.equal(isUsablePublicKey(42), false);
  for (let i = 0; i < 20; i++) assert.equal(isUsablePublicKey(generateKeyPair().publicKey), true);
});

test("no signature verifies for a small-order key, not even the all-zero one that would for the identity", () => {
  const msg = Buffer.from("anything at all");
  for (const k of SMALL_ORDER) {
    // R = identity, S = 0 satisfies [S]B = R + [h]A whenever A has small order and 8 | h… a signature
    // that proves nothing; it must not verify.
    const forged = "01" + "00".repeat(31) + "00".repeat(32);
    assert.equal(verifyBytes(msg, forged, k), false, k);
  }
  const real = generateKeyPair();
  assert.equal(verifyBytes(msg, signBytes(msg, real.privateKey), real.publicKey), true);
});

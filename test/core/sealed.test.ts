import { test } from "node:test";
import assert from "node:assert/strict";
import { boxSharedKey, generateSealKeyPair, seal, unseal, ValidationError } from "../../src/core/index.js";

test("box key derivation matches NaCl's crypto_box_beforenm test vector", () => {
  const aliceSk = Buffer.from("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", "hex");
  const bobPk = Buffer.from("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "hex");
  assert.equal(Buffer.from(boxSharedKey(aliceSk, bobPk)).toString("hex"), "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
});

test("a sealed secret opens only with the recipient's key and hides the plaintext", () => {
  const node = generateSealKeyPair();
  const other = generateSealKeyPair();
  const s = seal("hunter2-password", node.publicKey);
  assert.ok(!Buffer.from(s.sealed, "base64").includes(Buffer.from("hunter2")));
  assert.equal(unseal(s, node), "hunter2-password");
  assert.throws(() => unseal(s, other), ValidationError);
  const raw = Buffer.from(s.sealed, "base64"); raw[raw.length - 1] ^= 1;
  assert.throws(() => unseal({ sealed: raw.toString("base64") }, node), ValidationError);
  assert.throws(() => unseal({ sealed: "AAAA" }, node), ValidationError);
  // Two seals of the same secret differ (fresh ephemeral key each time).
  assert.notEqual(seal("x", node.publicKey).sealed, seal("x", node.publicKey).sealed);
});

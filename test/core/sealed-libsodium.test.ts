// Interoperability of core/sealed.ts with libsodium's crypto_box_seal, through PyNaCl (Debian's
// python3-nacl, installed by scripts/setup.sh): what we seal, libsodium opens, and what libsodium
// seals, we open — so a node, or any NaCl tool, can read the grid's secrets with a stock library.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { generateSealKeyPair, seal, unsealBytes } from "../../src/core/index.js";

// Debian's interpreter, where python3-nacl installs (a PATH python3 may be another one without it).
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** Runs `code` with `input` as JSON on stdin and returns its JSON output. */
function py<T>(code: string, input: unknown): T {
  const r = spawnSync(PYTHON, ["-c", `import sys, json, base64\nfrom nacl.public import PrivateKey, PublicKey, SealedBox\n${code}`], { input: JSON.stringify(input), encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, `PyNaCl (${PYTHON}) failed — is python3-nacl installed? (./scripts/setup.sh installs it)\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const MESSAGES = [
  Buffer.alloc(0),
  Buffer.from("hunter2-password", "utf8"),
  Buffer.from("pässwörd ✓", "utf8"),
  Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31 + 7) & 255)),
];

test("the same X25519 key pair in both: our public key is libsodium's for the private key", () => {
  const k = generateSealKeyPair();
  const pub = py<string>("i = json.load(sys.stdin)\nprint(json.dumps(bytes(PrivateKey(bytes.fromhex(i)).public_key).hex()))", k.privateKey);
  assert.equal(pub, k.publicKey);
});

// A fixed vector: recipient secret key 01..20, the ephemeral key from a fixed byte sequence.
const VECTOR = {
  sk: "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20",
  pk: "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c",
  sealed: "wl6LhDeLIQcdYD384/lHsWK25xUkA0TbChjZklmm3iNxLPND44r8loxDvVgZxXLjbBCNZWCbVc1wDfYEpSNEAA==",
  message: "hunter2-password",
};

test("what core seals, libsodium's crypto_box_seal_open (PyNaCl SealedBox) opens", () => {
  let n = 0;
  const fixed = seal(VECTOR.message, VECTOR.pk, (len) => Uint8Array.from({ length: len }, () => (n++ * 13 + 5) & 255));
  assert.equal(fixed.sealed, VECTOR.sealed, "the fixed vector changed: the seal's layout or derivation moved");
  const k = generateSealKeyPair();
  const opened = py<{ fixed: string; random: string[] }>(
    "i = json.load(sys.stdin)\nopen_ = lambda sk, s: SealedBox(PrivateKey(bytes.fromhex(sk))).decrypt(base64.b64decode(s)).hex()\n" +
      "print(json.dumps({'fixed': open_(i['vsk'], i['vsealed']), 'random': [open_(i['sk'], s) for s in i['sealed']]}))",
    { vsk: VECTOR.sk, vsealed: VECTOR.sealed, sk: k.privateKey, sealed: MESSAGES.map((m) => seal(m, k.publicKey).sealed) },
  );
  assert.equal(Buffer.from(opened.fixed, "hex").toString("utf8"), VECTOR.message);
  assert.deepEqual(opened.random, MESSAGES.map((m) => m.toString("hex")));
});

test("what libsodium's crypto_box_seal (PyNaCl SealedBox) seals, core opens; altered, it does not", () => {
  const k = generateSealKeyPair();
  const sealed = py<string[]>(
    "i = json.load(sys.stdin)\nbox = SealedBox(PublicKey(bytes.fromhex(i['pk'])))\nprint(json.dumps([base64.b64encode(box.encrypt(bytes.fromhex(m))).decode() for m in i['messages']]))",
    { pk: k.publicKey, messages: MESSAGES.map((m) => m.toString("hex")) },
  );
  assert.equal(sealed.length, MESSAGES.length);
  for (const [i, s] of sealed.entries()) {
    assert.equal(Buffer.from(s, "base64").length, 32 + 16 + MESSAGES[i].length, "ephemeral key ‖ MAC ‖ ciphertext");
    assert.deepEqual(Buffer.from(unsealBytes({ sealed: s }, k)), MESSAGES[i]);
  }
  const raw = Buffer.from(sealed[1], "base64");
  raw[40] ^= 1;
  assert.throws(() => unsealBytes({ sealed: raw.toString("base64") }, k), /does not open/);
  assert.throws(() => unsealBytes({ sealed: sealed[1] }, generateSealKeyPair()), /does not open/);
});

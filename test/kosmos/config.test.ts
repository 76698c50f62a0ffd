import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigStore, encryptSecrets, decryptSecrets } from "../../src/kosmos/config/index.js";
import { ForbiddenError, ValidationError, newMnemonic } from "../../src/core/index.js";

const FAST = { N: 2 ** 10, r: 8, p: 1 };

function home(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "kosmos-config-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, "home");
}

test("secrets round-trip with the right passphrase and are refused with a wrong one", () => {
  const env = encryptSecrets({ mnemonic: "a b c" }, "right", { kdf: FAST });
  assert.deepEqual(decryptSecrets(env, "right"), { mnemonic: "a b c" });
  assert.throws(() => decryptSecrets(env, "wrong"), (e) => e instanceof ForbiddenError && /wrong passphrase/.test(e.message));
});

test("a tampered envelope does not decrypt", () => {
  const env = encryptSecrets({ mnemonic: "x" }, "p", { kdf: FAST });
  const ct = Buffer.from(env.ciphertext, "base64");
  ct[0] ^= 1;
  assert.throws(() => decryptSecrets({ ...env, ciphertext: ct.toString("base64") }, "p"), ForbiddenError);
  assert.throws(() => decryptSecrets({ nonsense: true }, "p"), ValidationError);
});

test("the identity is stored encrypted, 0600, with no clear-text mnemonic on disk", async (t) => {
  const h = home(t);
  const mnemonic = newMnemonic();
  const store = new ConfigStore(h, async () => "correct horse", FAST);
  const id = await store.setIdentity(mnemonic);
  assert.equal(id.mnemonic, mnemonic);
  assert.equal(statSync(store.secretsPath).mode & 0o777, 0o600);
  for (const f of readdirSync(h)) {
    const text = readFileSync(join(h, f), "utf8");
    assert.ok(!text.includes(mnemonic.split(" ")[0] + " " + mnemonic.split(" ")[1]), `${f} holds the mnemonic in clear text`);
    assert.ok(!text.includes(id.keys.privateKey), `${f} holds the private key in clear text`);
  }
  assert.equal(store.settings().publicKey, id.keys.publicKey);

  const again = new ConfigStore(h, async () => "correct horse", FAST);
  assert.equal((await again.identity()).keys.publicKey, id.keys.publicKey);
  const wrong = new ConfigStore(h, async () => "wrong horse", FAST);
  await assert.rejects(wrong.identity(), (e) => e instanceof ForbiddenError && /wrong passphrase/.test(e.message));
});

test("a bad mnemonic changes nothing", async (t) => {
  const h = home(t);
  const store = new ConfigStore(h, async () => "p", FAST);
  await assert.rejects(store.setIdentity("not a real mnemonic at all"), ValidationError);
  assert.equal(store.hasSecrets(), false);
  await assert.rejects(store.identity(), /no identity/);
});

test("settings are plain JSON beside the secrets and survive an identity change", async (t) => {
  const h = home(t);
  const store = new ConfigStore(h, async () => "p", FAST);
  store.updateSettings({ ledgerUrl: "http://127.0.0.1:1" });
  await store.setIdentity(newMnemonic());
  store.updateSettings({ twinId: 7 });
  assert.equal(store.settings().ledgerUrl, "http://127.0.0.1:1");
  assert.equal(store.settings().twinId, 7);
  await store.setIdentity(newMnemonic());
  assert.equal(store.settings().twinId, undefined, "a new key must not inherit the old twin id");
});

// Written by the pure-JS scrypt (@noble/hashes) this module used before it moved to Node's native
// scrypt: the same parameters must give the same key, so these still open.
const OLD_FAST = {"format":"kosmos-secrets-v1","kdf":{"name":"scrypt","N":1024,"r":8,"p":1,"salt":"CzBVep/E6Q4zWH2ix+wRNg=="},"cipher":"xchacha20poly1305","nonce":"W4Clyu8UOV6DqM3yFzxhhqvQ9Ro/ZImu","ciphertext":"gPi0Fojoger/bx+4N/CHQYgE+RVZSEUpt7zQhHk1a9chIF5MhDz2GHzlujVLJ7VgpMWn5MNYGd3lMUOS6SQdJtUpgZVRa1qtn3MRmZ3g1pIgcglwOoeKEAOoOScZBF6uWVE+9MnjZKUrZw=="};
const OLD_DEFAULT = {"format":"kosmos-secrets-v1","kdf":{"name":"scrypt","N":32768,"r":8,"p":1,"salt":"0/gdQmeMsdb7IEVqj7TZ/g=="},"cipher":"xchacha20poly1305","nonce":"I0htkrfcASZLcJW63wQpTnOYveIHLFF2","ciphertext":"BHlf1dCyIH8xcCJR9A4v6IlrjfLun/jWYi//3g6wWFg="};

test("secrets files written with the pure-JS scrypt still open (same parameters, same key)", () => {
  assert.deepEqual(decryptSecrets(OLD_FAST, "correct horse battery staple"), { mnemonic: "legal winner thank year wave sausage worth useful legal winner thank yellow" });
  // The default cost (2^15, r = 8: exactly Node's default memory cap) and a passphrase that NFKC changes (ﬁ → fi).
  assert.deepEqual(decryptSecrets(OLD_DEFAULT, "pässwörd ﬁ"), { mnemonic: "x" });
  assert.deepEqual(decryptSecrets(OLD_DEFAULT, "pässwörd fi"), { mnemonic: "x" }, "the passphrase is NFKC-normalised before hashing");
  assert.throws(() => decryptSecrets(OLD_DEFAULT, "passwort"), ForbiddenError);
});

test("scrypt parameters a damaged file could hold are refused, not obeyed", () => {
  const huge = { ...OLD_FAST, kdf: { ...OLD_FAST.kdf, N: 2 ** 24, r: 64 } };
  assert.throws(() => decryptSecrets(huge, "x"), (e) => e instanceof ValidationError && /bytes of memory/.test(e.message));
  const notPow2 = { ...OLD_FAST, kdf: { ...OLD_FAST.kdf, N: 1000 } };
  assert.throws(() => decryptSecrets(notPow2, "x"), (e) => e instanceof ValidationError && /power of two/.test(e.hint ?? ""));
});

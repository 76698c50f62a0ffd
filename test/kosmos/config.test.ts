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

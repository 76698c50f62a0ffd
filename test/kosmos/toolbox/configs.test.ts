// The config manager: typed instances sealed at rest under a key from the identity, with clear
// errors for another identity's files, damaged files and bundles; recovery from the mnemonic alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync, writeFileSync, copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigManager } from "../../../src/kosmos/configs/index.js";
import { ConflictError, DamagedError, ForbiddenError, NotFoundError, ValidationError, generateKeyPair, newMnemonic } from "../../../src/core/index.js";
import { runBin, tempDir } from "../helpers.js";

const SECRETS = {
  sshKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-very-secret-key-material-1234\n-----END OPENSSH PRIVATE KEY-----\n",
  zdbPassword: "zdb-pass-Secret-9f3a1c",
  s3Secret: "s3-SECRET-wJalrXUtnFEMI-K7MDENG",
};

/** Every regular file under `dir` (recursively), with its content. */
function filesUnder(dir: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else out.push({ path: p, text: readFileSync(p, "latin1") });
  }
  return out;
}

function assertNothingInClear(home: string, secrets: string[]): void {
  const files = filesUnder(home);
  assert.ok(files.length > 0);
  for (const f of files) for (const s of secrets) {
    // Any 12-character piece of a secret, not only the whole: a partial leak is a leak.
    for (let i = 0; i + 12 <= s.length; i += 6) assert.ok(!f.text.includes(s.slice(i, i + 12)), `${f.path} holds part of a secret in clear: ${s.slice(i, i + 12)}`);
    assert.ok(!f.text.includes(Buffer.from(s).toString("base64").slice(0, 16)), `${f.path} holds a secret in base64`);
  }
}

test("instances round-trip typed, with defaults, files 0600 in 0700 folders, no secret in clear", async (t) => {
  const home = tempDir(t, "kosmos-configs");
  const keys = generateKeyPair();
  const m = new ConfigManager(home, keys);
  const ssh = await m.set("ssh", "box", { host: "10.0.0.2", privateKey: SECRETS.sshKey });
  assert.deepEqual(ssh, { host: "10.0.0.2", port: 22, user: "root", privateKey: SECRETS.sshKey });
  await m.set("zdb", "logs", { host: "127.0.0.1", port: "9901", namespace: "app", password: SECRETS.zdbPassword });
  await m.set("s3", "backup", { endpoint: "http://127.0.0.1:9000", accessKeyId: "AKIAEXAMPLE", secretAccessKey: SECRETS.s3Secret });
  await m.set("ledger", "local", { url: "http://127.0.0.1:8080" });

  assert.deepEqual(m.list(), [
    { type: "ssh", name: "box" }, { type: "zdb", name: "logs" }, { type: "s3", name: "backup" }, { type: "ledger", name: "local" },
  ]);
  assert.deepEqual(m.list("zdb"), [{ type: "zdb", name: "logs" }]);
  const zdb = await new ConfigManager(home, keys).get("zdb", "logs");
  assert.deepEqual(zdb, { host: "127.0.0.1", port: 9901, namespace: "app", password: SECRETS.zdbPassword });

  for (const f of filesUnder(join(home, "configs"))) assert.equal(statSync(f.path).mode & 0o777, 0o600, f.path);
  assert.equal(statSync(join(home, "configs")).mode & 0o777, 0o700);
  assert.equal(statSync(join(home, "configs", "ssh")).mode & 0o777, 0o700);
  assertNothingInClear(home, [SECRETS.sshKey, SECRETS.zdbPassword, SECRETS.s3Secret, keys.privateKey]);

  // merge keeps the other fields; a bad value changes nothing
  assert.equal((await m.set("ssh", "box", { port: 2222 }, { merge: true })).privateKey, SECRETS.sshKey);
  await assert.rejects(m.set("ssh", "box", { port: 70000 }, { merge: true }), (e) => e instanceof ValidationError && /port/.test(e.message));
  await assert.rejects(m.set("zdb", "x", { nope: 1 } as never), ValidationError);
  await assert.rejects(m.set("wallet", "w", { mnemonic: "not a mnemonic" }), ValidationError);
  await assert.rejects(m.set("ssh", "../escape", { host: "h" }), ValidationError);
  await assert.rejects(m.get("nosuch" as never, "x"), (e) => e instanceof ValidationError && /unknown config type/.test(e.message));
  assert.equal((await m.get("ssh", "box")).port, 2222);
  assert.equal(m.has("zdb", "x"), false);

  await m.remove("ledger", "local");
  await assert.rejects(m.get("ledger", "local"), NotFoundError);
  await assert.rejects(m.remove("ledger", "local"), NotFoundError);
});

test("another identity's key, a damaged file and a swapped file each give a clear error", async (t) => {
  const home = tempDir(t, "kosmos-configs");
  const keys = generateKeyPair();
  const m = new ConfigManager(home, keys);
  await m.set("zdb", "a", { password: "pa" });
  await m.set("zdb", "b", { password: "pb" });

  const other = new ConfigManager(home, generateKeyPair());
  await assert.rejects(other.get("zdb", "a"), (e) => e instanceof ForbiddenError && /belongs to identity/.test(e.message) && /kosmos identity import/.test(e.hint ?? ""));

  const pa = join(home, "configs", "zdb", "a.json");
  const file = JSON.parse(readFileSync(pa, "utf8"));
  const ct = Buffer.from(file.ciphertext, "base64");
  ct[3] ^= 0x40;
  writeFileSync(pa, JSON.stringify({ ...file, ciphertext: ct.toString("base64") }));
  await assert.rejects(m.get("zdb", "a"), (e) => e instanceof DamagedError && /does not authenticate/.test(e.message) && e.message.includes(pa));

  writeFileSync(pa, readFileSync(pa, "utf8").slice(0, 40));
  await assert.rejects(m.get("zdb", "a"), (e) => e instanceof DamagedError && /not JSON/.test(e.message));

  // b's file copied over a: the name inside (and bound into the AEAD) says it is not a.
  copyFileSync(join(home, "configs", "zdb", "b.json"), pa);
  await assert.rejects(m.get("zdb", "a"), (e) => e instanceof DamagedError && /holds zdb\/b/.test(e.message));
  // …and relabelled to pass the name check, it still does not authenticate.
  writeFileSync(pa, JSON.stringify({ ...JSON.parse(readFileSync(pa, "utf8")), name: "a" }));
  await assert.rejects(m.get("zdb", "a"), (e) => e instanceof DamagedError && /does not authenticate/.test(e.message));
  assert.equal((await m.get("zdb", "b")).password, "pb", "the other instance is untouched");
});

test("export makes one sealed bundle; it imports in another home of the same identity only", async (t) => {
  const dir = tempDir(t, "kosmos-configs");
  const keys = generateKeyPair();
  const a = new ConfigManager(join(dir, "a"), keys);
  await a.set("ssh", "box", { host: "bundled-host.example", password: SECRETS.zdbPassword });
  await a.set("s3", "backup", { endpoint: "http://127.0.0.1:9000", accessKeyId: "AK", secretAccessKey: SECRETS.s3Secret });
  const bundle = await a.export();
  assert.ok(!bundle.includes(SECRETS.zdbPassword) && !bundle.includes(SECRETS.s3Secret) && !bundle.includes("bundled-host"), "the bundle is sealed, names and values alike");

  const b = new ConfigManager(join(dir, "b"), keys);
  assert.deepEqual((await b.import(bundle)).imported, [{ type: "ssh", name: "box" }, { type: "s3", name: "backup" }]);
  assert.deepEqual(await b.get("s3", "backup"), await a.get("s3", "backup"));
  await assert.rejects(b.import(bundle), (e) => e instanceof ConflictError && /ssh\/box/.test(e.message));
  await b.set("ssh", "box", { host: "changed" });
  await b.import(bundle, { overwrite: true });
  assert.equal((await b.get("ssh", "box")).host, "bundled-host.example");

  const stranger = new ConfigManager(join(dir, "c"), generateKeyPair());
  await assert.rejects(stranger.import(bundle), (e) => e instanceof ForbiddenError && /the bundle belongs to identity/.test(e.message));
  assert.deepEqual(stranger.list(), []);
  const j = JSON.parse(bundle);
  const ct = Buffer.from(j.ciphertext, "base64"); ct[0] ^= 1;
  await assert.rejects(b.import(JSON.stringify({ ...j, ciphertext: ct.toString("base64") })), (e) => e instanceof DamagedError && /bundle does not authenticate/.test(e.message));
  await assert.rejects(b.import(JSON.stringify({ ...j, count: 5 })), DamagedError, "the count is authenticated too");
  await assert.rejects(b.import("{}"), (e) => e instanceof ValidationError && /not a kosmos config bundle/.test(e.message));
});

test("CLI: set/get/ls/rm/export/import, exit codes, and recovery with the mnemonic alone after losing the passphrase", async (t) => {
  const dir = tempDir(t, "kosmos-configs-cli");
  const env = { KOSMOS_HOME: join(dir, "home"), KOSMOS_PASSPHRASE: "first passphrase" };
  const mnemonic = newMnemonic();
  assert.equal((await runBin("kosmos", ["identity", "import"], env, mnemonic + "\n")).code, 0);
  const keyFile = join(dir, "id_test");
  writeFileSync(keyFile, SECRETS.sshKey, { mode: 0o600 });

  const set = await runBin("kosmos", ["config", "set", "ssh", "box", "host=10.1.2.3", "port:=2200", `privateKey=@${keyFile}`, "--json"], env);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.json().value.privateKey, "***", "set echoes the instance with secrets masked");
  const z = await runBin("kosmos", ["config", "set", "zdb", "logs", "namespace=app", "password=@-"], env, SECRETS.zdbPassword + "\n");
  assert.equal(z.code, 0, z.stderr);

  const got = await runBin("kosmos", ["config", "get", "ssh", "box", "--json"], env);
  assert.deepEqual(got.json(), { host: "10.1.2.3", port: 2200, user: "root", privateKey: "***" });
  assert.equal((await runBin("kosmos", ["config", "get", "zdb", "logs", "--reveal", "--json"], env)).json().password, SECRETS.zdbPassword);
  assert.deepEqual((await runBin("kosmos", ["config", "ls", "--json"], env)).json(), [{ type: "ssh", name: "box" }, { type: "zdb", name: "logs" }]);
  assert.match((await runBin("kosmos", ["config", "ls"], env)).stdout, /ssh\s+box/);
  assertNothingInClear(env.KOSMOS_HOME, [SECRETS.sshKey, SECRETS.zdbPassword, mnemonic]);

  const bad = await runBin("kosmos", ["config", "set", "ssh", "other", "port=http"], env);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /invalid ssh config "other"/);
  assert.equal((await runBin("kosmos", ["config", "get", "ssh", "nope"], env)).code, 5);
  assert.equal((await runBin("kosmos", ["config", "get", "sssh", "box"], env)).code, 2);

  // export → import in a second home holding the same identity
  const bundleFile = join(dir, "bundle.json");
  assert.equal((await runBin("kosmos", ["config", "export", "-o", bundleFile], env)).code, 0);
  assert.equal(statSync(bundleFile).mode & 0o777, 0o600);
  const env2 = { KOSMOS_HOME: join(dir, "home2"), KOSMOS_PASSPHRASE: "another passphrase" };
  await runBin("kosmos", ["identity", "import"], env2, mnemonic + "\n");
  const imp = await runBin("kosmos", ["config", "import", bundleFile, "--json"], env2);
  assert.equal(imp.code, 0, imp.stderr);
  assert.equal(imp.json().imported.length, 2);
  assert.equal((await runBin("kosmos", ["config", "get", "zdb", "logs", "--reveal", "--json"], env2)).json().password, SECRETS.zdbPassword);
  // a bundle into a home of another identity: forbidden (exit 4), with the reason
  const env3 = { KOSMOS_HOME: join(dir, "home3"), KOSMOS_PASSPHRASE: "p3" };
  await runBin("kosmos", ["identity", "new"], env3);
  const other = await runBin("kosmos", ["config", "import", bundleFile], env3);
  assert.equal(other.code, 4);
  assert.match(other.stderr, /belongs to identity/);

  // the passphrase is lost: the old secrets file is useless, the mnemonic alone brings every instance back
  assert.equal((await runBin("kosmos", ["config", "get", "ssh", "box"], { ...env, KOSMOS_PASSPHRASE: "forgotten" })).code, 4);
  rmSync(join(env.KOSMOS_HOME, "secrets.enc"));
  assert.equal((await runBin("kosmos", ["identity", "import"], { ...env, KOSMOS_PASSPHRASE: "new passphrase" }, mnemonic + "\n")).code, 0);
  const back = await runBin("kosmos", ["config", "get", "ssh", "box", "--reveal", "--json"], { ...env, KOSMOS_PASSPHRASE: "new passphrase" });
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.json().privateKey, SECRETS.sshKey);

  assert.equal((await runBin("kosmos", ["config", "rm", "ssh", "box"], { ...env, KOSMOS_PASSPHRASE: "new passphrase" })).code, 0);
  assert.deepEqual((await runBin("kosmos", ["config", "ls", "ssh", "--json"], env)).json(), []);
});

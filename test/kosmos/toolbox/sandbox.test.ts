// `kosmos flist sandbox`: Debian's redis-server with its libraries, run chrooted in the tree, and
// published to a real hub (bin/zhub over bin/zdb) as an flist that holds it all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError, generateKeyPair } from "../../../src/core/index.js";
import { parseLdd, librariesOrFail, sandboxTree } from "../../../src/kosmos/builders/index.js";
import { fetchFlist } from "../../../src/flist/index.js";
import { startHub, startHubStore } from "../../flist/helpers.js";
import { freePort, waitFor } from "../../support.js";
import { runBin } from "../helpers.js";
import { Clients } from "../../../src/kosmos/clients/index.js";
import { ConfigManager } from "../../../src/kosmos/configs/index.js";

test("ldd's output: libraries by name and by path, the vdso skipped, missing ones named, static binaries", () => {
  const out = [
    "\tlinux-vdso.so.1 (0x00007ffd5b5f2000)",
    "\tlibssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x00007f9a75a87000)",
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f9a758a5000)",
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f9a7627d000)",
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f9a758a5000)",
  ].join("\n");
  assert.deepEqual(parseLdd(out), { libraries: ["/lib/x86_64-linux-gnu/libssl.so.3", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"], missing: [], static: false });
  assert.deepEqual(parseLdd("\tnot a dynamic executable\n"), { libraries: [], missing: [], static: true });
  assert.deepEqual(parseLdd(`${out}\n\tlibfoo.so.1 => not found\n`).missing, ["libfoo.so.1"]);
  assert.throws(() => librariesOrFail("/x", "\tlibfoo.so.1 => not found\n"), (e) => e instanceof NotFoundError && /needs libfoo\.so\.1/.test(e.message));
});

test("the sandbox of /usr/bin/redis-server runs chrooted: --version, and a server that answers PING", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kosmos-sandbox-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, "root");
  const r = await sandboxTree(["/usr/bin/redis-server"], root);
  assert.ok(r.files.includes("/lib64/ld-linux-x86-64.so.2"), "the loader is in");
  assert.ok(r.files.some((f) => /\/libc\.so\.6$/.test(f)), "libc is in");
  assert.equal(statSync(join(root, "usr/bin/redis-server")).mode & 0o111, 0o111, "still executable");
  assert.equal(statSync(join(root, "tmp")).mode & 0o7777, 0o1777);
  assert.match(execFileSync("chroot", [root, "/usr/bin/redis-server", "--version"], { encoding: "utf8" }), /^Redis server v=\d/);
  // Nothing else of the host is in there: no shell.
  assert.throws(() => execFileSync("chroot", [root, "/bin/sh", "-c", "true"], { stdio: "ignore" }));

  const port = await freePort();
  const server = spawn("chroot", [root, "/usr/bin/redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "/tmp"], { stdio: "ignore" });
  const exited = new Promise((res) => server.once("exit", res));
  t.after(async () => { if (server.exitCode === null) { server.kill("SIGKILL"); await exited; } });
  await waitFor("the chrooted redis-server to answer", () => {
    try { return execFileSync("redis-cli", ["-p", String(port), "PING"], { encoding: "utf8" }).trim() === "PONG"; } catch { return false; }
  }, { timeoutMs: 15_000 });
});

test("kosmos flist sandbox publishes the tree to a hub: the flist holds the binary and its libraries", { timeout: 120_000 }, async (t) => {
  const store = await startHubStore();
  t.after(() => store.stop());
  const hub = await startHub(store);
  t.after(() => hub.stop());
  const dir = mkdtempSync(join(tmpdir(), "kosmos-sandbox-cli-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { KOSMOS_HOME: join(dir, "home"), KOSMOS_PASSPHRASE: "sandbox pass", KOSMOS_HUB: hub.url };
  assert.equal((await runBin("kosmos", ["identity", "new"], env)).code, 0);

  const r = await runBin("kosmos", ["flist", "sandbox", "/usr/bin/redis-server", "--name", "redis-sandbox", "--json"], env, undefined, 110_000);
  assert.equal(r.code, 0, r.stderr);
  const out = r.json();
  assert.match(out.address, /\/flists\/[0-9a-f]{64}\/redis-sandbox#[0-9a-f]{64}$/);
  assert.ok(out.libraries.includes("/lib64/ld-linux-x86-64.so.2"));
  const { flist } = await fetchFlist(out.address);
  const byPath = new Map(flist.entries.map((e) => [e.path, e]));
  const bin = byPath.get("usr/bin/redis-server");
  assert.equal(bin?.type, "file");
  assert.equal((bin!.mode & 0o111), 0o111);
  for (const lib of out.libraries as string[]) assert.ok(byPath.has(lib.slice(1)), `${lib} is in the flist`);
  assert.ok(byPath.has("etc/passwd") && byPath.has("tmp"));
  // The SDK's hub client, from a `hub` config instance, lists it.
  const configs = new ConfigManager(join(dir, "sdk"), generateKeyPair());
  await configs.set("hub", "local", { url: hub.url });
  assert.ok((await (await new Clients(configs).hub("local")).list()).some((n) => n.name === "redis-sandbox"));

  const again = await runBin("kosmos", ["flist", "sandbox", "/usr/bin/redis-server", "--name", "redis-sandbox", "--json"], env, undefined, 110_000);
  assert.equal(again.json().uploadedChunks, 0, "a second publish uploads nothing the hub has");
  const missing = await runBin("kosmos", ["flist", "sandbox", "/usr/bin/no-such-binary", "--name", "x"], env);
  assert.equal(missing.code, 5);
  assert.match(missing.stderr, /no binary \/usr\/bin\/no-such-binary/);
  assert.equal((await runBin("kosmos", ["flist", "sandbox", "redis-server", "--name", "x"], env)).code, 2, "a relative name is refused");
});

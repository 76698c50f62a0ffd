// `kosmos flist build` against a real hub (bin/zhub over a real bin/zdb): a folder becomes an flist
// whose address pins its hash; a second build uploads nothing; bad input is a clear error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { HubClient, fetchFlist } from "../../src/flist/index.js";
import { daemon, runBin, tempDir } from "./helpers.js";

test("kosmos flist build: folder → hub, pinned address, nothing re-uploaded, clear errors", async (t) => {
  const dir = tempDir(t, "kosmos-flist-");
  const zdbPort = (await daemon(t, "zdb", ["--listen", "127.0.0.1", "--port", "0", "--data", join(dir, "zd"), "--index", join(dir, "zi")], /port (\d+)/))[1];
  const hub = JSON.parse((await daemon(t, "zhub", ["--port", "0", "--zdb", `127.0.0.1:${zdbPort}`], /^\{.*\}$/))[0]).url as string;
  const home = join(dir, "home");
  const env = { KOSMOS_HOME: home, KOSMOS_PASSPHRASE: "pass-for-test" };
  const id = await runBin("kosmos", ["identity", "new", "--json"], env);
  assert.equal(id.code, 0, id.stderr);
  const pk = id.json().publicKey as string;

  const root = join(dir, "app");
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "bin", "run"), "#!/bin/sh\necho hi\n");
  chmodSync(join(root, "bin", "run"), 0o755);
  writeFileSync(join(root, "big"), Buffer.alloc(3 * 1024 * 1024 + 5, 7));

  const noHub = await runBin("kosmos", ["flist", "build", root, "--name", "app"], env);
  assert.equal(noHub.code, 2, "invalid: no hub given");
  assert.match(noHub.stderr, /no flist hub[\s\S]*KOSMOS_HUB/);

  const b = await runBin("kosmos", ["flist", "build", root, "--name", "app", "--hub", hub, "--json"], env);
  assert.equal(b.code, 0, b.stderr);
  const r = b.json();
  assert.equal(r.address, `${hub}/flists/${pk}/app#${r.hash}`);
  assert.equal(r.files, 2);
  assert.equal(r.size, 3 * 1024 * 1024 + 5 + "#!/bin/sh\necho hi\n".length);
  assert.ok(r.uploadedChunks >= 2);
  assert.ok(b.stderr.length > 0, "progress on stderr");
  const f = await fetchFlist(r.address);
  assert.equal(f.hash, r.hash);
  assert.ok((await new HubClient(hub).list()).some((x) => x.owner === pk && x.name === "app"));

  // Again, the hub remembered (KOSMOS_HUB saved in the home): nothing uploaded, the same address.
  const again = await runBin("kosmos", ["flist", "build", root, "--name", "app", "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json().address, r.address);
  assert.equal(again.json().uploadedChunks, 0);
  const human = await runBin("kosmos", ["flist", "build", root, "--name", "app"], env);
  assert.equal(human.stdout.trim(), r.address, "people get the address alone on stdout");

  const bad = await runBin("kosmos", ["flist", "build", join(dir, "missing"), "--name", "app", "--hub", hub], env);
  assert.equal(bad.code, 2, `invalid source (flist says so): ${bad.stderr}`);
  assert.match(bad.stderr, /^kosmos: .*missing does not exist/m);
  const badName = await runBin("kosmos", ["flist", "build", root, "--name", "../x", "--hub", hub], env);
  assert.equal(badName.code, 2, `invalid name: ${badName.stderr}`);
});

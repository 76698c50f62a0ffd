// The read fast path (one shared read buffer set through Node's private socket fields) has a
// fallback, the ordinary 'data' events, used when those fields are missing. ZDB_PLAIN_READS=1
// forces the fallback, so CI runs the protocol and command tests over it too, and the server says
// at start which path it uses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { startZdbProc, tempDir, waitFor } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));

test("the server logs once which read path it uses; ZDB_PLAIN_READS=1 picks the fallback", async (t) => {
  const fast = await startZdbProc(t, tempDir(t, "zdb-plain-"), []);
  const plain = await startZdbProc(t, tempDir(t, "zdb-plain-"), [], { ZDB_PLAIN_READS: "1" });
  // The log line goes to stderr, which may arrive after the port on stdout.
  await waitFor("both servers' ready lines", () => /readPath/.test(fast.stderr()) && /readPath/.test(plain.stderr()));
  assert.match(fast.stderr(), /"readPath":"user-buffer"/);
  assert.match(plain.stderr(), /"readPath":"data"/);
  assert.equal(fast.stderr().match(/readPath/g)?.length, 1);
});

test("the protocol, command and bad-input tests pass over the fallback read path", () => {
  const files = ["commands.test.js", "badinput.test.js", "large-values.test.js", "conformance.test.js"].map((f) => path.join(here, f));
  const r = spawnSync(process.execPath, ["--test", "--test-reporter=tap", "--test-concurrency=1", ...files], {
    // Without NODE_TEST_CONTEXT (set by the runner around us) the child runs its files itself.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, ZDB_PLAIN_READS: "1" }, encoding: "utf8", timeout: 120_000,
  });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out.slice(-3000));
  assert.match(out, /# fail 0/);
  assert.match(out, /# pass [1-9]/);
});

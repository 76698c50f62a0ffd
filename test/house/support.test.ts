// test/support.ts's startLedger, the one way tests start a ledger: ready on the port it reports,
// answering through its client, stopped for good by stop(), and a bcdb that cannot start is an
// error that carries what it said.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { pidAlive } from "../../src/runtime/index.js";
import { startLedger, tempDir, type Ledger } from "../support.js";

test("startLedger: a real bcdb on the port it reports, stopped by stop() (twice is fine)", async (t) => {
  let ledger: Ledger | undefined;
  t.after(() => ledger?.stop());
  const dir = tempDir(t, "support-ledger");
  ledger = await startLedger(join(dir, "ledger"), { args: ["--faucet"] });
  assert.equal(new URL(ledger.url).port, String(ledger.port));
  assert.ok(ledger.port > 0);
  const status = await ledger.client.status();
  assert.equal(typeof status.height, "number");
  const pid = ledger.proc.pid!;
  await ledger.stop();
  assert.equal(pidAlive(pid), false);
  await ledger.stop();
});

test("startLedger: a bcdb that exits before it is ready rejects with its stderr", async (t) => {
  const dir = tempDir(t, "support-ledger");
  await assert.rejects(startLedger(join(dir, "ledger"), { args: ["--no-such-flag"] }), /bcdb exited .*before it was ready: [\s\S]*no-such-flag/);
});

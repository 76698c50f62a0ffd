// The ledger goes away and comes back: the explorer keeps answering from its mirror meanwhile, and
// its one subscription resumes where it stopped, so what happened after the restart shows up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { freePort, startLedger, tempDir, waitFor } from "../support.js";
import { startExplorer } from "../../src/explorer/index.js";
import { createContract, seed } from "./seed.js";

test("explorer: serves from its mirror while the ledger is down, and resumes its subscription after a restart", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "explorer-resume-ledger");
  const port = await freePort();
  const args = ["--faucet", "--block-interval", "100"];
  let ledger = await startLedger(dir, { args, port });
  t.after(() => ledger.stop());
  const grid = await seed(ledger.client, 2);
  const ex = await startExplorer({ ledger: ledger.url });
  t.after(() => ex.close());
  const overview = async () => (await (await fetch(`${ex.url}api/overview`)).json()) as { contracts: { active: number }; height: number };
  assert.equal((await overview()).contracts.active, 1);

  await ledger.stop();
  const down = await overview();
  assert.equal(down.contracts.active, 1, "the overview is served with the ledger down");
  assert.equal((await fetch(`${ex.url}api/nodes?limit=5`)).status, 200);

  ledger = await startLedger(dir, { args, port });
  const id = await createContract(grid.user, grid.nodes[1]);
  await waitFor("the contract made after the restart in the explorer", async () => (await overview()).contracts.active === 2, { timeoutMs: 15_000 });
  assert.ok(ex.mirror.contracts.has(id));
  assert.ok((await overview()).height > down.height);
});

// `grid up`'s explorer step and `grid down`/`grid status` around it, on a real ledger: the explorer
// starts as a daemon on the ledger's address, a second `up` finds it running (same URL), status
// shows it, down stops it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startLedger, tempDir, waitFor } from "../support.js";
import { gridDown, gridStatus } from "../../src/grid/index.js";
import { GridLayout, type GridState } from "../../src/grid/state.js";
import { upExplorer } from "../../src/grid/up/explorer.js";
import { pidAlive } from "../../src/runtime/index.js";

test("grid's explorer step: started beside the ledger, found again, shown by status, stopped by down", { timeout: 60_000 }, async (t) => {
  const ledger = await startLedger(tempDir(t, "explorer-grid-ledger"), { t });
  const dir = tempDir(t, "explorer-grid");
  const L = new GridLayout(dir);
  const state: GridState = { version: 1, mode: "local", net: null, ledger: { host: "127.0.0.1", port: ledger.port, url: ledger.url }, nodes: [] };
  L.save(state);
  const notes: string[] = [];
  const step = { L, state, note: (l: string) => notes.push(l), env: { ...process.env, NODE_NO_WARNINGS: "1" } };
  t.after(() => gridDown({ dir, note: () => undefined, graceMs: 2000 }).then(() => undefined, () => undefined));

  const url = await upExplorer(step);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(notes.join("\n"), /starting the explorer/);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /Grid explorer/);
  const overview = await waitFor("the explorer's overview", async () => { const r = await fetch(`${url}api/overview`); return r.ok ? r.json() as Promise<{ height: number }> : undefined; });
  assert.ok(overview.height >= 0);

  assert.equal(await upExplorer(step), url, "the same port again");
  assert.match(notes.at(-1)!, /already running/);
  assert.equal(L.load()!.explorer!.url, url, "kept in grid.json");

  const st = await gridStatus(dir);
  assert.equal(st.explorer?.alive, true);
  const pid = st.explorer!.pid!;
  assert.ok(pidAlive(pid));

  const down = await gridDown({ dir, note: (l) => notes.push(l), graceMs: 5000 });
  assert.ok(down.stopped.includes(pid) || !pidAlive(pid), "down stopped the explorer");
  assert.match(notes.join("\n"), /stopping the explorer/);
  assert.equal(pidAlive(pid), false);
  assert.equal((await gridStatus(dir)).explorer?.alive, false);
  assert.equal((await ledger.client.status()).height >= 0, true, "the ledger was not the explorer's to stop");
});

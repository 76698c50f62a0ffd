// The event stream: filters, block markers, and a subscriber that loses its connection (the ledger
// restarts) and resumes, seeing every event exactly once, in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { LedgerEvent } from "../../src/ledger/client/index.js";
import { startBcdb, tempDir, fundedTwin, waitFor } from "./helpers.js";

test("a subscriber that disconnects and resumes sees every event exactly once, in order", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  let b = await startBcdb(dir, ["--faucet", "--block-interval", "100"]);
  t.after(() => b.stop());
  const alice = await fundedTwin(b.client, 1_000_000);
  const bob = await fundedTwin(b.client, 0);

  const seen: LedgerEvent[] = [];
  const sub = b.client.subscribe({ from: 0 }, (e) => { seen.push(e); });
  t.after(() => sub.close());
  const filtered: LedgerEvent[] = [];
  const fsub = b.client.subscribe({ from: 0, twinId: bob.twinId }, (e) => { if (e.type !== "block") filtered.push(e); });
  t.after(() => fsub.close());

  for (let i = 0; i < 10; i++) await alice.signer.send("transfer", { to: bob.twinId, amount: 1 });
  const mid = await b.client.status();
  await waitFor("catch-up", () => seen.some((e) => e.type === "block" && e.height >= mid.height), { timeoutMs: 10_000 });

  // The ledger goes away and comes back on the same port with the same log; events keep flowing.
  const port = b.port;
  await b.stop("SIGKILL");
  for (let i = 0; i < 3; i++) {
    try { b = await startBcdb(dir, ["--faucet", "--block-interval", "100"], port); break; } catch (e) { if (i === 2) throw e; }
  }
  const bob2 = alice.signer; // the signer refetches its nonce after the connection was lost
  for (let i = 0; i < 10; i++) await bob2.send("transfer", { to: bob.twinId, amount: 1 });
  const end = await b.client.status();
  await waitFor("resume", () => seen.some((e) => e.type === "block" && e.height >= end.height), { timeoutMs: 15_000 });

  // Exactly once, in order: positions strictly increase, markers strictly increase, no gaps in heights.
  let prev = { h: -1, i: Number.MAX_SAFE_INTEGER };
  let markers = 0;
  for (const e of seen) {
    const i = e.type === "block" ? Number.MAX_SAFE_INTEGER : e.index;
    if (e.type === "block") { assert.equal(e.height, markers, "a marker for every height, once"); markers++; }
    assert.ok(e.height > prev.h || (e.height === prev.h && i > prev.i), `position (${e.height},${i}) after (${prev.h},${prev.i})`);
    prev = { h: e.height, i };
  }
  const transfers = seen.filter((e) => e.type === "transfer" && e.to === bob.twinId);
  assert.equal(transfers.length, 20);
  // Cross-check against the ledger's own count.
  assert.equal((await b.client.twin(bob.twinId)).balance, 20);

  // The filtered stream only carries bob's events, each once.
  await waitFor("filtered stream", () => filtered.filter((e) => e.type === "transfer").length >= 20, { timeoutMs: 10_000 });
  assert.ok(filtered.every((e) => e.type !== "block" && ("twinId" in e ? e.twinId === bob.twinId : (e as { to?: number; from?: number }).to === bob.twinId || (e as { from?: number }).from === bob.twinId)));
  assert.equal(filtered.filter((e) => e.type === "transfer").length, 20);
  const pos = sub.position();
  assert.ok(pos.height >= end.height);
});

test("a subscription without `from` starts at the current height; bad filters are refused", async (t) => {
  const b = await startBcdb(tempDir(t, "bcdb-test-"), ["--faucet", "--block-interval", "50"]);
  t.after(() => b.stop());
  const alice = await fundedTwin(b.client, 100);
  const start = (await b.client.status()).height;
  const seen: LedgerEvent[] = [];
  const sub = b.client.subscribe({}, (e) => { seen.push(e); });
  t.after(() => sub.close());
  await waitFor("first marker", () => seen.some((e) => e.type === "block"), { timeoutMs: 5000 });
  assert.ok(seen.every((e) => e.height > start));
  const r = await alice.signer.send("name.reserve", { name: "hello" });
  await waitFor("live event", () => seen.some((e) => e.type === "name.reserved" && e.height === r.height), { timeoutMs: 5000 });
  const res = await fetch(`${b.url}/events?from=-1`, { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } }).catch((e: unknown) => e);
  assert.ok(res instanceof Error || (res as Response).status === 400);
});

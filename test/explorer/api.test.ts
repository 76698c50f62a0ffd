// The explorer's HTTP API against a real ledger: every list is one bounded page, writes are
// refused, secrets are sealed, blocks link to their parents, search resolves hashes and keys, and
// the live stream resumes from Last-Event-ID with what changed meanwhile.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startLedger, tempDir, waitFor } from "../support.js";
import { startExplorer, type LiveUpdate } from "../../src/explorer/index.js";
import { createContract, seed } from "./seed.js";

/** Reads server-sent events from `url` until `until` returns true for one (bounded by `ms`). */
async function readLive(url: string, lastId: string | undefined, until: (u: LiveUpdate) => boolean, ms = 10_000): Promise<LiveUpdate[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  const got: LiveUpdate[] = [];
  try {
    const res = await fetch(url, { headers: lastId === undefined ? {} : { "last-event-id": lastId }, signal: ac.signal });
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    const reader = res.body!.getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += Buffer.from(value).toString();
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const frame = buf.slice(0, i); buf = buf.slice(i + 2);
        const data = frame.split("\n").find((l) => l.startsWith("data: "));
        if (!data) continue;
        const u = JSON.parse(data.slice(6)) as LiveUpdate;
        assert.match(frame, new RegExp(`^id: ${u.height}$`, "m"), "the event id is the height");
        got.push(u);
        if (until(u)) { ac.abort(); return got; }
      }
    }
  } catch (e) {
    if (!ac.signal.aborted) throw e;
  } finally { clearTimeout(timer); }
  throw new Error(`the live stream did not bring the awaited update in ${ms} ms (${got.length} updates)`);
}

test("explorer API: bounded pages, read-only, sealed secrets, hash links, search, live resume", { timeout: 60_000 }, async (t) => {
  const ledger = await startLedger(tempDir(t, "explorer-api-ledger"), { args: ["--faucet", "--block-interval", "100"], t });
  const grid = await seed(ledger.client, 3);
  const ex = await startExplorer({ ledger: ledger.url });
  t.after(() => ex.close());
  const followedFrom = ex.mirror.height;
  // biome-ignore lint/suspicious/noExplicitAny: the test reads JSON bodies loosely and asserts their fields
  const get = async (path: string) => { const r = await fetch(`${ex.url}api/${path}`); return { status: r.status, body: await r.json() as any }; };

  // Pages are bounded; filters are done by the explorer.
  assert.equal((await get("nodes?limit=101")).status, 400);
  assert.equal((await get("nodes?status=sideways")).body.error.code, "invalid");
  const nodes = (await get("nodes?limit=2&sort=id&desc=1")).body;
  assert.equal(nodes.total, 3);
  assert.deepEqual(nodes.items.map((n: { id: number }) => n.id), [grid.nodes[2].id, grid.nodes[1].id]);
  const gw = (await get("nodes?gateway=yes")).body;
  assert.deepEqual(gw.items.map((n: { id: number }) => n.id), [grid.nodes[2].id]);
  assert.equal((await get(`nodes/${grid.nodes[0].id}`)).body.node.contracts, 1);
  assert.equal((await get("nodes/99999")).status, 404);

  // Read-only.
  for (const method of ["POST", "PUT", "DELETE"]) {
    const r = await fetch(`${ex.url}api/overview`, { method, body: method === "DELETE" ? undefined : "{}" });
    assert.equal(r.status, 405, method);
  }

  // A contract: signatures requested/present, secrets sealed.
  const c = (await get(`contracts/${grid.contractIds[0]}`)).body;
  assert.deepEqual(c.signatures, [{ twinId: grid.user.twinId, weight: 1, required: true, present: true }]);
  const raw = await ledger.client.contract(grid.contractIds[0]);
  const box = (raw.deployment.workloads[1].data as { password: { sealed: string } }).password.sealed;
  assert.ok(!JSON.stringify(c).includes(box.slice(0, 20)));
  assert.match(c.workloads[1].data.password.sealed, /^\(sealed, \d+ bytes\)$/);

  // Blocks: newest first, each linked to its parent; a block by hash; search by hash and by key.
  const blocks = (await get("blocks?limit=5")).body;
  assert.equal(blocks.items.length, 5);
  for (let i = 0; i + 1 < blocks.items.length; i++) {
    assert.equal(blocks.items[i].height, blocks.items[i + 1].height + 1);
    assert.equal(blocks.items[i].prevHash, blocks.items[i + 1].hash);
  }
  const top = blocks.items[0];
  assert.equal((await get(`blocks/${top.hash}`)).body.height, top.height);
  assert.deepEqual((await get(`search?q=${top.hash}`)).body.hits.map((h: { href: string }) => h.href), [`#/blocks/${top.height}`]);
  // Every block the mirror followed can be found by hash, also those no live update named (merged).
  await waitFor("the mirror to follow 6 blocks", () => ex.mirror.height >= followedFrom + 6);
  for (let h = followedFrom + 1; h <= followedFrom + 6; h++) {
    const b = await ledger.client.block(h);
    assert.deepEqual((await get(`search?q=${b.hash}`)).body.hits.map((x: { href: string }) => x.href), [`#/blocks/${h}`], `block ${h} by hash`);
  }
  const userKey = (await ledger.client.twin(grid.user.twinId)).publicKey;
  assert.deepEqual((await get(`search?q=${userKey}`)).body.hits.map((h: { href: string }) => h.href), [`#/twins/${grid.user.twinId}`]);
  assert.ok((await get(`search?q=${grid.contractIds[0]}`)).body.hits.some((h: { href: string }) => h.href === `#/contracts/${grid.contractIds[0]}`));
  assert.deepEqual((await get("search?q=nothing")).body.hits, []);

  // Live: an update per block; a new contract is announced; a browser that comes back with
  // Last-Event-ID learns what changed while it was away; one too far behind is told to reload all.
  const start = ex.mirror.height;
  const made = createContract(grid.user, grid.nodes[1]);
  const seen = await readLive(`${ex.url}api/live`, String(start), (u) => u.changed.contracts.length > 0);
  const id = await made;
  assert.ok(seen.at(-1)!.changed.contracts.includes(id));
  assert.equal(seen.at(-1)!.overview.contracts.active, 2);
  await waitFor("a few more blocks", () => ex.mirror.height > seen.at(-1)!.height + 2);
  const resumed = await readLive(`${ex.url}api/live`, String(start), () => true);
  assert.equal(resumed[0].changed.all, false);
  assert.ok(resumed[0].changed.contracts.includes(id), "resume brings the contract made meanwhile");
  assert.ok(resumed[0].changed.nodes.includes(grid.nodes[1].id), "and its node, whose reservation changed");
  const fresh = await readLive(`${ex.url}api/live`, undefined, () => true);
  assert.equal(fresh[0].changed.all, true, "no Last-Event-ID: everything");
  await waitFor("closed streams to be forgotten", () => ex.live() === 0);
});

// A full disk under the ledger (a small tmpfs mounted by the test): a block that cannot be written
// whole is not acknowledged — its submitter gets `exhausted` (507) — the block log is left ending
// with its last whole record, the ledger keeps serving, and it takes transactions again once there
// is space. After a restart every receipted transaction is in the log and `bcdb verify` passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GridError, signTx, txHash, type Tx } from "../../src/core/index.js";
import type { Receipt } from "../../src/ledger/client/index.js";
import { BCDB, startBcdb, fundedTwin, type Bcdb } from "./helpers.js";

/** Writes zeros to `path` until the file system says ENOSPC; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(64 * 1024, 1);
  let n = 0;
  try {
    for (;;) n += writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, "ENOSPC");
  } finally { closeSync(fd); }
  return n;
}

test("full disk: a block that cannot be written is refused (exhausted, 507), nothing receipted is lost, service resumes", async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), "bcdb-full-"));
  let b: Bcdb | undefined;
  t.after(async () => { await b?.stop(); });
  t.after(() => { spawnSync("umount", ["-l", mnt]); rmSync(mnt, { recursive: true, force: true }); });
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], { encoding: "utf8" });
  assert.equal(m.status, 0, `mount tmpfs: ${m.stderr}`);
  const dir = join(mnt, "data");
  mkdirSync(dir);
  const args = ["--faucet", "--block-interval", "600000", "--snapshot-blocks", "3"];
  b = await startBcdb(dir, args);
  const a = await fundedTwin(b.client, 10 ** 9);
  const receipts: { hash: string; r: Receipt }[] = [];
  let nonce = (await b.client.account(a.keys.publicKey)).nonce + 1;
  const tx = (n: number): Tx => signTx({ type: "transfer", signer: a.keys.publicKey, nonce: n, payload: { to: 1, amount: 1 } }, a.keys.privateKey);
  for (let i = 0; i < 5; i++, nonce++) { const x = tx(nonce); receipts.push({ hash: txHash(x), r: await b.client.submit(x) }); }

  // The disk fills up. A block is ~0.6 KB and the file system hands out 4 KiB pages, so a few may
  // still fit in the last page of each log; a bounded number of sends reaches the wall.
  const filler = join(mnt, "filler");
  assert.ok(fill(filler) > 0);
  let refused: unknown;
  for (let i = 0; i < 100 && !refused; i++) {
    const x = tx(nonce);
    try { receipts.push({ hash: txHash(x), r: await b.client.submit(x) }); nonce++; } catch (e) { refused = e; }
  }
  assert.ok(refused instanceof GridError, `refused with a typed error, got ${String(refused)}`);
  assert.equal(refused.code, "exhausted", refused.message);
  // Over HTTP it is a 507 with the JSON error body; the ledger is alive and its head did not move.
  const before = await b.client.status();
  const res = await fetch(`${b.url}/tx`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(tx(nonce)) });
  assert.equal(res.status, 507);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, "exhausted");
  const after = await b.client.status();
  assert.equal(after.height, before.height);
  assert.equal(after.hash, before.hash);
  assert.equal((await b.client.account(a.keys.publicKey)).nonce, nonce - 1, "the refused transaction changed nothing");
  assert.equal(b.proc.exitCode, null, "the ledger is still running");
  assert.match(b.stderr.join(""), /cannot write a block/);
  // A bystander reading while the disk is full (and a writer keeps being refused beside it).
  const lat: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    assert.equal((await fetch(`${b.url}/status`)).status, 200);
    lat.push(performance.now() - t0);
    await fetch(`${b.url}/tx`, { method: "POST", body: JSON.stringify(tx(nonce)) });
  }
  lat.sort((x, y) => x - y);
  t.diagnostic(`bystander /status while the disk is full: p50 ${lat[10].toFixed(1)} ms, max ${lat[19].toFixed(1)} ms`);
  assert.ok(lat[19] < 1000);

  // Space comes back: the very same transaction is taken now.
  unlinkSync(filler);
  const again = tx(nonce);
  receipts.push({ hash: txHash(again), r: await b.client.submit(again) });
  nonce++;
  for (let i = 0; i < 3; i++, nonce++) { const x = tx(nonce); receipts.push({ hash: txHash(x), r: await b.client.submit(x) }); }

  // Restart: every receipted transaction is where its receipt says.
  await b.stop();
  b = await startBcdb(dir, args);
  for (const { hash, r } of receipts) {
    const blk = await b.client.block(r.height);
    assert.equal(txHash(blk.txs[r.index] as object), hash, `receipted tx at ${r.height}/${r.index}`);
  }
  assert.equal((await b.client.account(a.keys.publicKey)).nonce, nonce - 1);
  await b.stop();
  const v = spawnSync(process.execPath, [BCDB, "verify", dir, "--json"], { encoding: "utf8" });
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

test("full disk under heartbeats: empty blocks that cannot be written are dropped cheaply, the chain goes on when space is back", async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), "bcdb-full-"));
  let b: Bcdb | undefined;
  t.after(async () => { await b?.stop(); });
  t.after(() => { spawnSync("umount", ["-l", mnt]); rmSync(mnt, { recursive: true, force: true }); });
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mnt], { encoding: "utf8" });
  assert.equal(m.status, 0, `mount tmpfs: ${m.stderr}`);
  const dir = join(mnt, "data");
  mkdirSync(dir);
  b = await startBcdb(dir, ["--faucet", "--block-interval", "20"]);
  const a = await fundedTwin(b.client, 10 ** 6);
  const filler = join(mnt, "filler");
  fill(filler);
  // Heartbeats fill the last pages of the logs, then fail: the head stops moving.
  let last = -1, still = 0;
  for (let i = 0; i < 200 && still < 10; i++) {
    const h = (await b.client.status()).height;
    still = h === last ? still + 1 : 0;
    last = h;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(still >= 10, "the head stopped while the disk is full");
  assert.match(b.stderr.join(""), /cannot write a block/);
  const stuck = await b.client.status();
  assert.equal(b.proc.exitCode, null);
  unlinkSync(filler);
  await waitForHeight(b, stuck.height + 5);
  const r = await a.signer.send("transfer", { to: 1, amount: 1 });
  assert.ok(r.height > stuck.height);
  await b.stop();
  const v = spawnSync(process.execPath, [BCDB, "verify", dir, "--json"], { encoding: "utf8" });
  assert.equal(v.status, 0, v.stdout + v.stderr);
});

async function waitForHeight(b: Bcdb, h: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await b.client.status()).height >= h) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`height ${h} not reached`);
}

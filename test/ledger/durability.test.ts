// The block log on disk: kill -9 under load loses nothing acknowledged, a torn tail is cut off,
// snapshots give back the same state, and `bcdb verify` finds a tampered block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { ERROR_CATALOGUE, generateKeyPair, signTx, txHash } from "../../src/core/index.js";
import type { Receipt } from "../../src/ledger/client/index.js";
import { BCDB, startBcdb, tempDir, fundedTwin, waitFor } from "./helpers.js";

function verify(dir: string): { status: number; out: { ok: boolean; height: number; error?: { height: number; message: string } } } {
  const r = spawnSync(process.execPath, [BCDB, "verify", dir, "--json"], { encoding: "utf8" });
  return { status: r.status ?? -1, out: JSON.parse(r.stdout) };
}

test("kill -9 while writing blocks under load: the log recovers and every receipted tx is in it", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  let b = await startBcdb(dir, ["--faucet", "--block-interval", "50", "--snapshot-blocks", "7"]);
  t.after(() => b.stop());
  const funder = await fundedTwin(b.client, 10 ** 9);
  const senders = await Promise.all(Array.from({ length: 6 }, async () => {
    const keys = generateKeyPair();
    const s = b.client.signer(keys);
    const twinId = await s.ensureTwin();
    await funder.signer.send("transfer", { to: twinId, amount: 10 ** 6 });
    return { keys, twinId };
  }));
  const receipts: { hash: string; r: Receipt }[] = [];
  let stop = false;
  const loops = senders.map(async ({ keys }, i) => {
    for (let nonce = 2; !stop; nonce++) {
      const tx = signTx({ type: "transfer", signer: keys.publicKey, nonce, payload: { to: senders[(i + 1) % senders.length].twinId, amount: 1 } }, keys.privateKey);
      try { receipts.push({ hash: txHash(tx), r: await b.client.submit(tx) }); } catch { return; }
    }
  });
  await waitFor("load", () => receipts.length >= 150, { timeoutMs: 20_000 });
  await b.stop("SIGKILL");
  stop = true;
  await Promise.all(loops);
  assert.ok(receipts.length >= 150);

  b = await startBcdb(dir, ["--faucet", "--block-interval", "50", "--snapshot-blocks", "7"]);
  const st = await b.client.status();
  for (const { hash, r } of receipts) {
    assert.ok(r.height <= st.height, `receipted block ${r.height} survived (chain at ${st.height})`);
    const blk = await b.client.block(r.height);
    assert.equal(txHash(blk.txs[r.index] as object), hash, `tx ${hash.slice(0, 8)} is at ${r.height}/${r.index}`);
  }
  // The state after recovery is consistent with the log: nonces match the receipts.
  for (const s of senders) {
    const acc = await b.client.account(s.keys.publicKey);
    const mine = receipts.filter((x) => x.r.events?.some((e) => e.type === "transfer" && e.from === s.twinId)).length;
    assert.ok(acc.nonce >= mine + 1, "every receipted nonce was kept");
  }
  await b.stop();
  const v = verify(dir);
  assert.equal(v.status, 0, JSON.stringify(v.out));
  assert.equal(v.out.ok, true);
});

test("a torn last record is cut off at start; snapshots and replay give the same state", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  let b = await startBcdb(dir, ["--faucet", "--block-interval", "600000", "--snapshot-blocks", "4"]);
  t.after(() => b.stop());
  const a = await fundedTwin(b.client, 10 ** 6);
  for (let i = 0; i < 11; i++) await a.signer.send("transfer", { to: 1, amount: 1 + i });
  const before = await b.client.status();
  const acc = await b.client.account(a.keys.publicKey);
  await b.stop();
  // A crash in the middle of the next block's write: a header promising more bytes than follow.
  const torn = Buffer.alloc(20); torn.writeUInt32LE(5000, 0);
  appendFileSync(join(dir, "blocks.log"), torn);
  b = await startBcdb(dir, ["--block-interval", "600000"]);
  assert.deepEqual({ ...(await b.client.status()), pending: 0 }, { ...before, pending: 0 });
  assert.deepEqual(await b.client.account(a.keys.publicKey), acc);
  await b.stop();
  // A power cut can leave a zero-filled tail (the size grew, the data never came): also cut off.
  appendFileSync(join(dir, "blocks.log"), Buffer.alloc(64));
  appendFileSync(join(dir, "events.log"), Buffer.alloc(64));
  b = await startBcdb(dir, ["--block-interval", "600000"]);
  assert.equal((await b.client.status()).hash, before.hash);
  await b.stop();
  // Without the snapshot, replay from genesis reaches the same state.
  writeFileSync(join(dir, "snapshot.json"), "{ damaged");
  b = await startBcdb(dir, ["--block-interval", "600000"]);
  assert.deepEqual(await b.client.account(a.keys.publicKey), acc);
  assert.equal((await b.client.status()).hash, before.hash);
});

test("bcdb verify passes a clean log and names the height of a tampered block", async (t) => {
  const dir = tempDir(t, "bcdb-test-");
  const b = await startBcdb(dir, ["--faucet", "--block-interval", "600000"]);
  const a = await fundedTwin(b.client, 1000);
  const r = await a.signer.send("transfer", { to: 1, amount: 7 });
  for (let i = 0; i < 3; i++) await a.signer.send("transfer", { to: 1, amount: 1 });
  await b.stop();
  assert.equal(verify(dir).status, 0);
  const human = spawnSync(process.execPath, [BCDB, "verify", dir], { encoding: "utf8" });
  assert.match(human.stdout, /^ok: \d+ blocks/);

  // Change the amount in block r.height and fix up the record's checksum, as a careful forger would.
  const path = join(dir, "blocks.log");
  const log = readFileSync(path);
  let off = 0;
  for (let h = 0; h < r.height; h++) off += 8 + log.readUInt32LE(off);
  const len = log.readUInt32LE(off);
  const payload = log.subarray(off + 8, off + 8 + len).toString();
  const forged = Buffer.from(payload.replace('"amount":7', '"amount":9'));
  assert.notEqual(forged.toString(), payload);
  forged.copy(log, off + 8);
  log.writeUInt32LE(crc32(forged), off + 4);
  writeFileSync(path, log);
  const v = verify(dir);
  assert.equal(v.status, ERROR_CATALOGUE.damaged.exit);
  assert.equal(v.out.error!.height, r.height);
  assert.match(v.out.error!.message, /hash does not match/);
  const text = spawnSync(process.execPath, [BCDB, "verify", dir], { encoding: "utf8" });
  assert.equal(text.status, ERROR_CATALOGUE.damaged.exit);
  assert.match(text.stdout, new RegExp(`FAILED at height ${r.height}`));
});

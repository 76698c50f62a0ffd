// Damage in the block log is not a torn write: only a genuinely torn LAST record is cut at start;
// a damaged length byte, a bad checksum before the tail, or a bit flip in the last (fsynced) block
// stop the ledger with a DamagedError naming the file and offset, and `bcdb verify` exits with the
// `damaged` code. A snapshot that does not hash to its digest or the chain is ignored (replay).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DamagedError, ERROR_CATALOGUE } from "../../src/core/index.js";
import { RecordFile, frame } from "../../src/ledger/records.js";
import { BCDB, startBcdb, tempDir, fundedTwin } from "./helpers.js";

const DAMAGED_EXIT = ERROR_CATALOGUE.damaged.exit;

/** A record file of `n` JSON records; returns its path and each record's offset. */
function makeLog(dir: string, n: number): { path: string; offsets: number[]; bytes: Buffer } {
  const path = join(dir, "r.log");
  const recs: Buffer[] = [], offsets: number[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const rec = frame(Buffer.from(JSON.stringify({ i, pad: "x".repeat(20 + i) })));
    offsets.push(off); off += rec.length; recs.push(rec);
  }
  const bytes = Buffer.concat(recs);
  writeFileSync(path, bytes);
  return { path, offsets, bytes };
}

function opens(path: string): { count: number; torn: number } {
  const { file, torn } = RecordFile.open(path);
  const count = file.count;
  file.close();
  return { count, torn };
}

function damaged(path: string, offset: number): void {
  assert.throws(() => RecordFile.open(path), (e: unknown) => {
    assert.ok(e instanceof DamagedError, `a DamagedError, got ${String(e)}`);
    assert.ok(e.message.includes(path), `names the file: ${e.message}`);
    assert.ok(e.message.includes(`byte ${offset}`), `names offset ${offset}: ${e.message}`);
    return true;
  });
}

test("records: torn tails are cut (header only, partial payload, zero-filled, unwritten last payload)", (t) => {
  const dir = tempDir(t, "bcdb-rec-");
  for (const [what, tail] of [
    ["half a header", Buffer.from([7, 0, 0])],
    ["a header and part of its payload", Buffer.concat([frame(Buffer.from('{"i":99,"pad":"yyyy"}')).subarray(0, 15)])],
    ["zeros the file system never wrote", Buffer.alloc(4096)],
  ] as const) {
    const { path, offsets, bytes } = makeLog(dir, 5);
    appendFileSync(path, tail);
    assert.deepEqual(opens(path), { count: 5, torn: tail.length }, what);
    assert.equal(readFileSync(path).length, bytes.length, `${what}: cut back to the last whole record`);
    assert.equal(opens(path).count, offsets.length);
  }
  // The last record's size reached the disk but part of its payload did not (zeros): torn, cut.
  const { path, offsets } = makeLog(dir, 5);
  const b = readFileSync(path);
  b.fill(0, offsets[4] + 8 + 3);
  writeFileSync(path, b);
  assert.deepEqual(opens(path), { count: 4, torn: b.length - offsets[4] });
});

test("records: damage before the tail, or in the whole last record, is a DamagedError with file and offset", (t) => {
  const dir = tempDir(t, "bcdb-rec-");
  // A length byte in the middle grows: the old code took the rest of the file for a torn tail.
  let { path, offsets, bytes } = makeLog(dir, 8);
  let b = Buffer.from(bytes); b[offsets[3] + 1] ^= 0x40; writeFileSync(path, b);
  damaged(path, offsets[3]);
  // A length byte shrinks: the hop lands inside a record.
  b = Buffer.from(bytes); b[offsets[2]] -= 3; writeFileSync(path, b);
  assert.throws(() => RecordFile.open(path), DamagedError);
  // A zeroed length mid-log (a "hole") with whole records after it.
  b = Buffer.from(bytes); b.fill(0, offsets[5], offsets[5] + 4); writeFileSync(path, b);
  damaged(path, offsets[5]);
  // A flipped payload bit before the tail.
  b = Buffer.from(bytes); b[offsets[4] + 12] ^= 0x01; writeFileSync(path, b);
  damaged(path, offsets[4]);
  // The last record: a bit flip in its payload (no unwritten region) is damage, not a torn write.
  b = Buffer.from(bytes); b[offsets[7] + 14] ^= 0x02; writeFileSync(path, b);
  damaged(path, offsets[7]);
  // The last record's length byte flipped: its payload still matches its checksum — damage.
  b = Buffer.from(bytes); b[offsets[7] + 1] ^= 0x01; writeFileSync(path, b);
  damaged(path, offsets[7]);
  // Nothing was cut by any of these opens: the file is as it was left.
  assert.equal(readFileSync(path).length, bytes.length);
  // The event log is derived: there damage cuts the file at the damaged record instead.
  b = Buffer.from(bytes); b[offsets[4] + 12] ^= 0x01; writeFileSync(path, b);
  const ev = RecordFile.open(path, { derived: true });
  assert.equal(ev.file.count, 4);
  assert.ok(ev.damaged instanceof DamagedError);
  ev.file.close();
  ({ path, offsets, bytes } = makeLog(dir, 3));
  assert.deepEqual(opens(path), { count: 3, torn: 0 });
});

function bcdbStart(dir: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BCDB, "--data", dir, "--port", "0", "--log-level", "fatal"], { encoding: "utf8", timeout: 15_000 });
  return { status: r.status, stderr: r.stderr };
}

function verify(dir: string): { status: number | null; out: { ok: boolean; error?: { height: number; message: string; code: string } } } {
  const r = spawnSync(process.execPath, [BCDB, "verify", dir, "--json"], { encoding: "utf8", timeout: 15_000 });
  return { status: r.status, out: JSON.parse(r.stdout) };
}

async function chainOf(t: Parameters<typeof tempDir>[0], blocks: number, snapshotBlocks = 1_000_000): Promise<{ dir: string; offsets: number[]; log: Buffer; height: number }> {
  const dir = tempDir(t, "bcdb-dmg-");
  const b = await startBcdb(dir, ["--faucet", "--block-interval", "600000", "--snapshot-blocks", String(snapshotBlocks)]);
  const a = await fundedTwin(b.client, 10 ** 6);
  for (let i = 0; i < blocks; i++) await a.signer.send("transfer", { to: 1, amount: 1 });
  const height = (await b.client.status()).height;
  await b.stop();
  const log = readFileSync(join(dir, "blocks.log"));
  const offsets: number[] = [];
  for (let off = 0; off < log.length; off += 8 + log.readUInt32LE(off)) offsets.push(off);
  assert.equal(offsets.length, height + 1);
  return { dir, offsets, log, height };
}

test("bcdb: a damaged length byte mid-log stops the start (damaged, file and offset) and verify exits non-zero", async (t) => {
  const { dir, offsets, log, height } = await chainOf(t, 12);
  const b = Buffer.from(log);
  const h = Math.floor(height / 2);
  b[offsets[h] + 2] ^= 0x10; // the length grows past the end of the file
  writeFileSync(join(dir, "blocks.log"), b);
  const s = bcdbStart(dir);
  assert.equal(s.status, DAMAGED_EXIT, s.stderr);
  assert.match(s.stderr, new RegExp(`blocks\\.log: record ${h} at byte ${offsets[h]}`));
  // Nothing was cut: every block is still in the file for whoever restores it.
  assert.equal(readFileSync(join(dir, "blocks.log")).length, log.length);
  const v = verify(dir);
  assert.equal(v.status, DAMAGED_EXIT);
  assert.equal(v.out.ok, false);
  assert.equal(v.out.error!.code, "damaged");
  assert.match(v.out.error!.message, new RegExp(`byte ${offsets[h]}`));
});

test("bcdb: a bad checksum mid-log (a payload bit flip) stops the start too, even below the snapshot", async (t) => {
  const { dir, offsets, log } = await chainOf(t, 6, 3);
  // The snapshot is past block 2: replay would never read it; the check at open does.
  assert.ok(Number(/"height":(\d+)/.exec(readFileSync(join(dir, "snapshot.json"), "utf8").slice(65))![1]) > 2);
  const b = Buffer.from(log);
  b[offsets[2] + 30] ^= 0x08;
  writeFileSync(join(dir, "blocks.log"), b);
  const s = bcdbStart(dir);
  assert.equal(s.status, DAMAGED_EXIT, s.stderr);
  assert.match(s.stderr, new RegExp(`record 2 at byte ${offsets[2]} fails its checksum`));
  assert.equal(verify(dir).status, DAMAGED_EXIT);
});

test("bcdb: a bit flip in the last, acknowledged block is reported (damaged), not dropped", async (t) => {
  const { dir, offsets, log, height } = await chainOf(t, 3);
  const b = Buffer.from(log);
  b[offsets[height] + 40] ^= 0x04;
  writeFileSync(join(dir, "blocks.log"), b);
  const s = bcdbStart(dir);
  assert.equal(s.status, DAMAGED_EXIT, s.stderr);
  assert.match(s.stderr, /not a torn write/);
  assert.equal(verify(dir).status, DAMAGED_EXIT);
  // A genuinely torn tail after the same chain is still cut and the ledger starts.
  writeFileSync(join(dir, "blocks.log"), Buffer.concat([log, Buffer.from([0x20, 0, 0, 0, 1, 2])]));
  const r = await startBcdb(dir, ["--block-interval", "600000"]);
  t.after(() => r.stop());
  assert.equal((await r.client.status()).height, height);
});

test("bcdb: a snapshot that does not hash to its digest, or to the chain, is ignored (replay), never served", async (t) => {
  const dir = tempDir(t, "bcdb-dmg-");
  let b = await startBcdb(dir, ["--faucet", "--block-interval", "600000", "--snapshot-blocks", "2"]);
  t.after(() => b.stop());
  const a = await fundedTwin(b.client, 10 ** 6);
  for (let i = 0; i < 5; i++) await a.signer.send("transfer", { to: 1, amount: 1 });
  const acc = await b.client.account(a.keys.publicKey);
  await b.stop();
  const snapPath = join(dir, "snapshot.json");
  const snap = readFileSync(snapPath, "utf8");
  assert.match(snap, /^[0-9a-f]{64}\n\{/);
  // Give the twin a fortune in the snapshot (the body no longer hashes to its digest).
  const mine = new RegExp(`"balance":(\\d+)(,"createdAt":\\d+,"id":${a.twinId},)`);
  assert.match(snap, mine);
  const forged = snap.replace(mine, (_m, bal: string, rest: string) => `"balance":${Number(bal) + 10 ** 9}${rest}`);
  assert.notEqual(forged, snap);
  writeFileSync(snapPath, forged);
  b = await startBcdb(dir, ["--block-interval", "600000"]);
  assert.deepEqual(await b.client.account(a.keys.publicKey), acc);
  assert.ok(b.stderr.join("").includes("does not hash to its digest"), b.stderr.join(""));
  await b.stop();
  // A forger who fixes the digest too still has a snapshot whose hash is not the chain's block.
  const body = JSON.parse(forged.slice(65)) as { hash: string; state: { hash: string } };
  body.hash = body.state.hash = "ab".repeat(32);
  const { canonicalJson, sha256Hex } = await import("../../src/core/index.js");
  const text = canonicalJson(body);
  writeFileSync(snapPath, `${sha256Hex(text)}\n${text}`);
  b = await startBcdb(dir, ["--block-interval", "600000"]);
  assert.deepEqual(await b.client.account(a.keys.publicKey), acc);
  assert.ok(b.stderr.join("").includes("does not match the block log"), b.stderr.join(""));
});

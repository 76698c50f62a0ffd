import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Redis } from "ioredis";
import { startZdbServer } from "../../src/zdb/index.js";
import { makeLogger } from "../../src/zdb/log.js";
import { startZdbProc, tempDir, waitFor } from "./helpers.js";

const logger = makeLogger({ silent: true });

test("kill -9 under a write load with --sync: every acknowledged key reads back", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  const z = await startZdbProc(t, dir, ["--sync", "--datasize", "65536"]);
  const acked = new Map<string, string>();
  const writers: Redis[] = [];
  let stop = false;
  const loops = Array.from({ length: 8 }, async (_, w) => {
    const r = new Redis({ port: z.port, host: "127.0.0.1", maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    r.on("error", () => {});
    writers.push(r);
    await new Promise((res) => r.once("ready", res));
    for (let i = 0; !stop; i++) {
      const k = `w${w}-${i}`, v = `value-${w}-${i}-${"x".repeat(i % 50)}`;
      try { await r.call("SET", k, v); acked.set(k, v); } catch { return; }
    }
  });
  await waitFor("writes to be acknowledged", () => acked.size > 1500);
  await z.kill9();
  stop = true;
  await Promise.all(loops);
  for (const r of writers) r.disconnect();

  const z2 = await startZdbProc(t, dir, ["--sync", "--datasize", "65536"]);
  const r = new Redis({ port: z2.port, host: "127.0.0.1" });
  t.after(() => r.disconnect());
  const keys = [...acked.keys()];
  const values = await r.pipeline(keys.map((k) => ["get", k])).exec();
  let missing = 0;
  keys.forEach((k, i) => { if (values![i][1] !== acked.get(k)) missing++; });
  assert.equal(missing, 0, `all ${keys.length} acknowledged keys read back`);
  assert.ok(fs.readdirSync(path.join(dir, "data", "default")).length > 1, "data files rotated at --datasize");
  await z2.stop();
});

async function withServer(dir: string, fn: (r: Redis) => Promise<void>): Promise<void> {
  const srv = await startZdbServer({ data: path.join(dir, "data"), index: path.join(dir, "index"), logger });
  const r = new Redis({ port: srv.port, host: "127.0.0.1" });
  try { await fn(r); } finally { r.disconnect(); await srv.close(); }
}

test("a data file truncated mid-entry: the torn entry is cut off, the rest survives", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  await withServer(dir, async (r) => { for (let i = 0; i < 50; i++) await r.call("SET", `k${i}`, `v${i}`.repeat(20)); });
  const dfile = path.join(dir, "data", "default", "zdb-data-00000");
  const size = fs.statSync(dfile).size;
  fs.truncateSync(dfile, size - 7); // tears the last entry
  fs.rmSync(path.join(dir, "index", "default", "zdb-index-00000")); // and the index must be rebuilt from data
  await withServer(dir, async (r) => {
    assert.equal(await r.get("k48"), "v48".repeat(20));
    assert.equal(await r.get("k49"), null, "torn entry dropped");
    assert.equal(await r.call("DBSIZE"), 49);
    assert.equal(await r.call("SET", "k49", "again"), "k49", "appending continues after the cut");
  });
  await withServer(dir, async (r) => {
    assert.equal(await r.get("k49"), "again");
    assert.equal(await r.call("CHECK", "k10"), 1);
  });
});

test("a truncated data file whose index still points past it is repaired", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  await withServer(dir, async (r) => { for (let i = 0; i < 20; i++) await r.call("SET", `k${i}`, "v".repeat(100)); });
  const dfile = path.join(dir, "data", "default", "zdb-data-00000");
  fs.truncateSync(dfile, fs.statSync(dfile).size - 50);
  await withServer(dir, async (r) => {
    assert.equal(await r.get("k18"), "v".repeat(100));
    assert.equal(await r.get("k19"), null);
    assert.equal(await r.call("DBSIZE"), 19);
  });
});

test("an index file deleted or corrupted is rebuilt from the data files", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  await withServer(dir, async (r) => {
    for (let i = 0; i < 100; i++) await r.call("SET", `k${i}`, `v${i}`);
    await r.call("SET", "k1", "changed");
    await r.call("DEL", "k2");
  });
  const ifile = path.join(dir, "index", "default", "zdb-index-00000");
  const check = async (r: Redis) => {
    assert.equal(await r.get("k1"), "changed");
    assert.equal(await r.get("k2"), null);
    assert.equal(await r.get("k99"), "v99");
    assert.equal(await r.call("DBSIZE"), 99);
    // after a restart the values are on disk only: unchanged is then judged by crc
    assert.equal(await r.call("SET", "k99", "v99"), null, "unchanged value not rewritten");
    const h = await r.callBuffer("HISTORY", "k1") as [Buffer, Buffer, Buffer];
    assert.equal((await r.callBuffer("HISTORY", "k1", h[0]) as Buffer[])[2].toString(), "v1");
  };
  fs.rmSync(ifile);
  await withServer(dir, check);
  const b = fs.readFileSync(ifile);
  b[Math.floor(b.length / 2)] ^= 0xff;
  fs.writeFileSync(ifile, b);
  await withServer(dir, check);
  fs.writeFileSync(ifile, Buffer.alloc(10, 0x55)); // garbage header
  await withServer(dir, check);
});

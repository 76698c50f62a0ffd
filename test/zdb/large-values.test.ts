import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startZdbProc, tempDir } from "./helpers.js";

// Regression: a value over 1 MiB grew the write buffer; when another connection's large value
// completed in the same event-loop turn, a flush shrank the buffer back and the entry overflowed it
// (the server died with a RangeError). The flist hub's concurrent 1 MiB chunks hit this.
test("large values written concurrently by several clients are all stored and read back", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  const z = await startZdbProc(t, dir);
  const clients = Array.from({ length: 6 }, () => new Redis({ port: z.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 }));
  t.after(() => { for (const c of clients) c.disconnect(); });
  await Promise.all(clients.map((c) => c.connect()));
  const value = (round: number, i: number) => Buffer.alloc(1_100_000 + i * 70_000, (round * 7 + i) % 251);
  for (let round = 0; round < 4; round++) {
    const acks = await Promise.all(clients.map((c, i) => c.set(`k-${round}-${i}`, value(round, i))));
    assert.deepEqual(acks, clients.map((_, i) => `k-${round}-${i}`), "every SET acknowledged with its key");
  }
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < clients.length; i++) {
      const got = await clients[0].getBuffer(`k-${round}-${i}`);
      assert.ok(got && got.equals(value(round, i)), `k-${round}-${i} reads back intact`);
    }
  }
  assert.equal(z.proc.exitCode, null, `server still running: ${z.stderr()}`);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startZdbProc, tmpDir } from "./helpers.js";

// Regression: values near 1 MiB arriving together grew the write buffer past its size, a flush then
// shrank it back, and the next entry overflowed it (the server died with a RangeError).
test("pipelined values of about 1 MiB are all stored and read back", async (t) => {
  const dir = tmpDir(t);
  const z = await startZdbProc(t, dir);
  const r = new Redis({ port: z.port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0 });
  t.after(() => r.disconnect());
  await r.connect();
  const values = Array.from({ length: 12 }, (_, i) => Buffer.alloc(900_000 + i * 20_000, i + 1));
  const pipe = r.pipeline();
  values.forEach((v, i) => pipe.set(`chunk-${i}`, v));
  const replies = await pipe.exec();
  assert.ok(replies!.every(([err]) => err === null), "every SET acknowledged");
  for (let i = 0; i < values.length; i++) {
    const got = await r.getBuffer(`chunk-${i}`);
    assert.ok(got && got.equals(values[i]), `chunk-${i} reads back intact`);
  }
  assert.equal(z.proc.exitCode, null, `server still running: ${z.stderr()}`);
});

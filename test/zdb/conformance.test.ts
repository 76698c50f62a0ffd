// Issue 9, "0-db as its own test suite expects": empty and oversized requests answered (never
// silence), RELOAD, and 8-byte little-endian sequential ids (4-byte ids of older data still read).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { Redis } from "ioredis";
import { startZdbServer } from "../../src/zdb/index.js";
import { makeLogger } from "../../src/zdb/log.js";
import { Namespace } from "../../src/zdb/namespace.js";
import { encodeCommand } from "../../src/zdb/resp.js";
import { rawExchange, tempDir } from "./helpers.js";

const logger = makeLogger({ silent: true });

test("*0 gets -Missing arguments, *1025 gets -Too many arguments at once; 1024 arguments are fine", async (t) => {
  const dir = tempDir(t, "zdb-conf-");
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), logger });
  t.after(() => srv.close());
  let r = await rawExchange(srv.port, "*0\r\nPING\r\n", (b) => b.includes("+PONG"));
  assert.equal(r.data.toString(), "-Missing arguments\r\n+PONG\r\n", "answered, and the connection goes on");
  r = await rawExchange(srv.port, "*-1\r\n\r\nPING\r\n", (b) => b.includes("+PONG"));
  assert.equal(r.data.toString(), "-Missing arguments\r\n-Missing arguments\r\n+PONG\r\n");
  // Only the count is sent: the answer must not wait for the arguments.
  const t0 = Date.now();
  r = await rawExchange(srv.port, "*1025\r\n", (b) => b.includes("\r\n"), 3000);
  assert.equal(r.data.toString(), "-Too many arguments\r\n");
  assert.ok(Date.now() - t0 < 2000);
  r = await rawExchange(srv.port, "*99999999\r\n$3\r\nSET\r\n");
  assert.equal(r.data.toString(), "-Too many arguments\r\n");
  assert.ok(r.closed, "the rest of such a request cannot be followed: connection closed");
  const many = encodeCommand(["PING", ...Array.from({ length: 1023 }, () => "x")]);
  r = await rawExchange(srv.port, many, (b) => b.includes("\r\n"));
  assert.match(r.data.toString(), /^[-+]/, "a 1024-argument request is parsed and answered");
  // Every malformed request is answered or closed — never left hanging.
  for (const bad of ["*1\r\n:3\r\n", "*1\r\n$-5\r\n", "*x\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nab\r\n"]) {
    r = await rawExchange(srv.port, bad, (b) => b.includes("\r\n"), 3000);
    assert.ok(r.data.toString().startsWith("-") || r.closed, `answered: ${JSON.stringify(bad)}`);
  }
});

test("RELOAD ns re-reads the namespace from disk; admin only", async (t) => {
  const dir = tempDir(t, "zdb-conf-");
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), admin: "adm", logger });
  const r = new Redis({ port: srv.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  t.after(async () => { r.disconnect(); await srv.close(); });
  await assert.rejects(r.call("RELOAD", "default"), /Permission denied/);
  await r.call("AUTH", "adm");
  await r.call("NSNEW", "rl", "PASSWORD", "pw");
  await r.call("SELECT", "rl", "pw");
  for (let i = 0; i < 100; i++) await r.call("SET", `k${i}`, `v${i}`);
  assert.equal(await r.call("RELOAD", "rl"), "OK");
  await assert.rejects(r.call("RELOAD", "nope"), /Namespace not found/);
  assert.equal(await r.call("DBSIZE"), 100, "the session follows the reloaded namespace");
  assert.equal(await r.get("k42"), "v42");
  assert.equal(await r.call("SET", "k100", "v"), "k100");
});

test("seq ids: 8 bytes little-endian; a namespace written with 4-byte ids still reads and grows", async (t) => {
  const dir = tempDir(t, "zdb-conf-");
  const data = path.join(dir, "d"), index = path.join(dir, "i");
  // An older namespace on disk: ids 0..2 stored as 4-byte keys.
  const old = Namespace.open({ dataRoot: data, indexRoot: index, datasize: 1 << 20, now: () => 1700000000, log: logger }, "old",
    { password: null, public: true, maxsize: 0, worm: false, mode: "seq" });
  for (let i = 0; i < 3; i++) { const k = Buffer.alloc(4); k.writeUInt32LE(i); old.append(k, Buffer.from(`old${i}`), 0, 1700000000); }
  old.close();
  const srv = await startZdbServer({ data, index, logger });
  const r = new Redis({ port: srv.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  t.after(async () => { r.disconnect(); await srv.close(); });
  await r.call("SELECT", "old");
  const id = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
  assert.equal((await r.getBuffer(id(1)))!.toString(), "old1", "an 8-byte id finds the old 4-byte one");
  const next = await r.callBuffer("SET", "", "new") as Buffer;
  assert.ok(next.equals(id(3)), `next id after the old ones: ${next.toString("hex")}`);
  // Updating an old id through its 8-byte form replaces it (no second live entry).
  assert.ok((await r.callBuffer("SET", id(0), "upd") as Buffer).length > 0);
  assert.equal((await r.getBuffer(id(0)))!.toString(), "upd");
  assert.equal(await r.call("DBSIZE"), 4);
});

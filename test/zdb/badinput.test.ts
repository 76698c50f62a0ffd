import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { Redis } from "ioredis";
import { startZdbServer } from "../../src/zdb/index.js";
import { makeLogger } from "../../src/zdb/log.js";
import { encodeCommand } from "../../src/zdb/resp.js";
import { rawExchange, tempDir } from "./helpers.js";

const logger = makeLogger({ silent: true });
const endsLine = (b: Buffer) => b.includes("\r\n");

test("bad input gets error replies and the server keeps serving others", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), admin: "adm", logger });
  const bystander = new Redis({ port: srv.port, host: "127.0.0.1" });
  t.after(async () => { bystander.disconnect(); await srv.close(); });
  await bystander.call("SET", "alive", "yes");

  // unknown command and wrong arity: error, connection stays usable
  let r = await rawExchange(srv.port, "*1\r\n$5\r\nBOGUS\r\n*1\r\n$3\r\nGET\r\n*4\r\n$3\r\nGET\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\nPING\r\n", (b) => b.includes("+PONG"));
  assert.equal(r.data.toString(), "-Command not supported\r\n-Unexpected arguments\r\n-Unexpected arguments\r\n+PONG\r\n");

  // malformed frame: protocol error then the connection is closed
  r = await rawExchange(srv.port, "*2\r\n$3\r\nGET\r\n:oops\r\n");
  assert.match(r.data.toString(), /^-Protocol error/);
  assert.ok(r.closed);

  // huge bulk length: refused before reading it, connection closed
  r = await rawExchange(srv.port, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99999999999\r\n");
  assert.match(r.data.toString(), /^-Protocol error: invalid bulk length/);
  assert.ok(r.closed);

  // binary key is data, not an error: round-trips exactly; too long a key is refused
  const bkey = Buffer.from([0, 0xff, 0x0d, 0x0a, 0x24, 0x2a]);
  r = await rawExchange(srv.port, Buffer.concat([encodeCommand(["SET", bkey, "bin"]), encodeCommand(["GET", bkey])]), (b) => b.includes("bin\r\n"));
  assert.ok(r.data.equals(Buffer.concat([Buffer.from("$6\r\n"), bkey, Buffer.from("\r\n$3\r\nbin\r\n")])));
  r = await rawExchange(srv.port, encodeCommand(["SET", "k".repeat(256), "v"]), endsLine);
  assert.equal(r.data.toString(), "-Key too large\r\n");

  // oversized value: framed, so an error reply and the connection lives on
  r = await rawExchange(srv.port, Buffer.concat([encodeCommand(["SET", "big", Buffer.alloc(8 * 1024 * 1024 + 1)]), Buffer.from("PING\r\n")]), (b) => b.includes("+PONG"), 10000);
  assert.equal(r.data.toString(), "-Payload too large\r\n+PONG\r\n");

  // wrong passwords
  r = await rawExchange(srv.port, encodeCommand(["AUTH", "nope"]), endsLine);
  assert.equal(r.data.toString(), "-Access denied\r\n");

  // full namespace
  const admin = new Redis({ port: srv.port, host: "127.0.0.1" });
  t.after(() => admin.disconnect());
  await admin.call("AUTH", "adm");
  await admin.call("NSNEW", "small");
  await admin.call("NSSET", "small", "maxsize", "1000");
  await admin.call("SELECT", "small");
  await admin.call("SET", "a", Buffer.alloc(600));
  await assert.rejects(admin.call("SET", "b", Buffer.alloc(600)), /No space left on this namespace/);
  assert.equal(await admin.call("SET", "a", Buffer.alloc(900, 1)), "a", "replacing a value counts only the difference");
  assert.equal(await admin.call("DBSIZE"), 1);

  assert.equal(await bystander.get("alive"), "yes", "other clients were served throughout");
});

test("a protocol error after writes: their replies still come, then the connection closes", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), logger });
  t.after(() => srv.close());
  const r = await rawExchange(srv.port, Buffer.concat([encodeCommand(["SET", "w1", "a"]), encodeCommand(["SET", "w2", "b"]), Buffer.from("*1\r\n:bad\r\n")]));
  assert.equal(r.data.toString().replace(/-Protocol error.*\r\n$/, "-ERR\r\n"), "$2\r\nw1\r\n$2\r\nw2\r\n-ERR\r\n");
  assert.ok(r.closed);
});

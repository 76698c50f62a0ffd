// Running out of descriptors is an error to wait out, never a crash: this file's process (the test
// runner gives each file its own) lowers its own open-file limit, then a server in it is flooded
// with connections past that limit. Accepts fail with EMFILE (libuv closes what it cannot accept;
// an error that reaches Node is logged by guardServer): the server keeps serving the client
// connected before, and accepts again once descriptors are free.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { Redis } from "ioredis";
import { openFileLimit } from "../../src/runtime/index.js";
import { startZdbServer } from "../../src/zdb/index.js";
import { tempDir, waitFor } from "./helpers.js";

test("EMFILE on accept: waited out; the bystander is served; accepts resume", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "zdb-emfile-");
  const warnings: string[] = [];
  const log = { info() {}, debug() {}, error() {}, warn(o: object, m?: string) { warnings.push(`${m} ${JSON.stringify(o)}`); } };
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), logger: log as never, maxConnections: 10_000 });
  const by = new Redis({ port: srv.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  const flood: net.Socket[] = [];
  const limits = openFileLimit();
  const restore = () => execFileSync("prlimit", [`--pid=${process.pid}`, `--nofile=${limits.soft}:${limits.hard}`]);
  t.after(async () => {
    // Descriptors first (restoring the limit spawns a process, which needs some), then the rest.
    for (const s of flood) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    try { restore(); } finally { by.disconnect(); await srv.close(); }
  });
  await by.ping();
  // Room for ~30 more descriptors: each flood connection costs two here (client and accepted side).
  const open = readdirSync("/proc/self/fd").length;
  execFileSync("prlimit", [`--pid=${process.pid}`, `--nofile=${open + 30}:${limits.hard}`]);
  for (let i = 0; i < 40; i++) {
    const s = net.connect({ port: srv.port, host: "127.0.0.1" });
    s.on("error", () => {});
    flood.push(s);
  }
  // Past the limit a connection fails on one side or the other: libuv accepts and closes what it
  // cannot keep (or Node reports EMFILE, which guardServer logs); either way the server lives on.
  await waitFor("the descriptors to run out", () => flood.filter((s) => s.destroyed || s.readableEnded).length >= 10, { timeoutMs: 5000 });
  assert.equal(await by.ping(), "PONG", "the server is up and serves the client it had");
  assert.equal(await by.call("SET", "k", "v"), "k", "and writes its files");
  for (const s of flood) s.destroy();
  flood.length = 0;
  await new Promise((r) => setTimeout(r, 50));
  restore();
  const again = new Redis({ port: srv.port, host: "127.0.0.1", maxRetriesPerRequest: 0 });
  t.after(() => again.disconnect());
  assert.equal(await again.get("k"), "v", "new connections are accepted again");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as path from "node:path";
import { Redis } from "ioredis";
import { startZdbServer, type ZdbServerHandle } from "../../src/zdb/index.js";
import { makeLogger } from "../../src/zdb/log.js";
import { redisCli, tempDir, waitFor } from "./helpers.js";

const logger = makeLogger({ silent: true });

async function setup(t: Parameters<typeof tempDir>[0] & { after: (fn: () => Promise<void> | void) => void }, extra: Record<string, unknown> = {}) {
  const dir = tempDir(t, "zdb-test-");
  const srv: ZdbServerHandle = await startZdbServer({ data: path.join(dir, "data"), index: path.join(dir, "index"), logger, ...extra });
  const clients: Redis[] = [];
  const client = () => { const r = new Redis({ port: srv.port, host: "127.0.0.1", lazyConnect: false, maxRetriesPerRequest: 0 }); clients.push(r); return r; };
  t.after(async () => { for (const c of clients) c.disconnect(); await srv.close(); });
  return { srv, client, dir };
}

const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

test("data commands: SET/GET/DEL/EXISTS/CHECK/LENGTH/KEYTIME/DBSIZE/PING/TIME via ioredis", async (t) => {
  const { client } = await setup(t);
  const r = client();
  assert.equal(await r.ping(), "PONG");
  assert.equal(await r.call("SET", "foo", "bar"), "foo");
  assert.equal(await r.get("foo"), "bar");
  assert.equal(await r.call("SET", "foo", "bar"), null, "unchanged value is not rewritten");
  assert.equal(await r.call("SET", "foo", "baz"), "foo", "same length, other bytes: written");
  assert.equal(await r.get("foo"), "baz");
  assert.equal(await r.call("EXISTS", "foo"), 1);
  assert.equal(await r.call("CHECK", "foo"), 1);
  assert.equal(await r.call("LENGTH", "foo"), 3);
  const kt = await r.call("KEYTIME", "foo") as number;
  assert.ok(Math.abs(kt - Date.now() / 1000) < 5);
  assert.equal(await r.call("DBSIZE"), 1);
  assert.equal(await r.call("DEL", "foo"), "OK");
  assert.equal(await r.get("foo"), null);
  assert.equal(await r.call("EXISTS", "foo"), 0);
  await assert.rejects(r.call("DEL", "foo"), /Key not found/);
  assert.equal(await r.call("DBSIZE"), 0);
  const tm = await r.call("TIME") as string[];
  assert.equal(tm.length, 2);
  const bin = Buffer.from([0, 255, 13, 10, 7]);
  assert.ok((await r.callBuffer("SET", bin, Buffer.from([1, 2, 3])) as Buffer).equals(bin));
  assert.ok((await r.getBuffer(bin))!.equals(Buffer.from([1, 2, 3])), "binary keys and values round-trip");
  const big = Buffer.alloc(1024 * 1024, 7);
  await r.call("SET", "big", big);
  assert.ok((await r.getBuffer("big"))!.equals(big));
  assert.match(await r.call("INFO") as string, /server_name: 0-db/);
  assert.deepEqual(await r.call("COMMAND"), []);
});

test("redis-cli works unchanged", async (t) => {
  const { srv } = await setup(t);
  assert.equal(await redisCli(srv.port, ["PING"]), "PONG");
  assert.equal(await redisCli(srv.port, ["SET", "k", "v"]), "k");
  assert.equal(await redisCli(srv.port, ["GET", "k"]), "v");
  assert.equal(await redisCli(srv.port, ["NSLIST"]), "default");
});

test("HISTORY walks back through versions; SCAN/RSCAN/KEYCUR/KSCAN", async (t) => {
  const { client } = await setup(t);
  const r = client();
  for (const v of ["v1", "v2", "v3"]) await r.call("SET", "h", v);
  let h = await r.callBuffer("HISTORY", "h") as [Buffer | null, Buffer, Buffer];
  assert.equal(h[2].toString(), "v3");
  const seen = [h[2].toString()];
  while (h[0]) { h = await r.callBuffer("HISTORY", "h", h[0]) as [Buffer | null, Buffer, Buffer]; seen.push(h[2].toString()); }
  assert.deepEqual(seen, ["v3", "v2", "v1"]);
  await assert.rejects(r.callBuffer("HISTORY", "other", Buffer.alloc(8, 1)), /Invalid arguments/);
  await assert.rejects(r.call("HISTORY", "nokey"), /Key not found/);

  for (let i = 0; i < 300; i++) await r.call("SET", `s${i}`, `x${i}`);
  await r.call("DEL", "s5");
  const keys: string[] = [];
  let res = await r.callBuffer("SCAN") as [Buffer, Array<[Buffer, number, number]>];
  for (;;) {
    for (const [k, len] of res[1]) { keys.push(k.toString()); assert.ok(len > 0); }
    try { res = await r.callBuffer("SCAN", res[0]) as typeof res; } catch (e) { assert.match(String(e), /No more data/); break; }
  }
  assert.equal(keys.length, 300, "h + 299 live s-keys");
  assert.ok(!keys.includes("s5"));
  assert.equal(new Set(keys).size, keys.length, "every key once");
  const rs = await r.callBuffer("RSCAN") as [Buffer, Array<[Buffer, number, number]>];
  assert.equal(rs[1][0][0].toString(), "s299", "RSCAN starts from the newest");
  const cur = await r.callBuffer("KEYCUR", "s100") as Buffer;
  assert.equal(cur.length, 8);
  const after = await r.callBuffer("SCAN", cur) as [Buffer, Array<[Buffer, number, number]>];
  assert.equal(after[1][0][0].toString(), "s101");
  await assert.rejects(r.call("SCAN", "bogus"), /Invalid key format/);
  const ks = await r.call("KSCAN", "s29") as [string, string[]];
  assert.deepEqual(ks[1].sort(), ["s29", "s290", "s291", "s292", "s293", "s294", "s295", "s296", "s297", "s298", "s299"]);
  await assert.rejects(r.call("KSCAN", "zzz"), /No keys match/);
});

test("namespaces: NSNEW/NSSET/NSINFO/NSLIST/SELECT/NSDEL/FLUSH, admin and passwords", async (t) => {
  const { client } = await setup(t, { admin: "adm" });
  const a = client(), u = client();
  await assert.rejects(a.call("NSNEW", "ns1"), /Permission denied/);
  await assert.rejects(a.call("AUTH", "wrong"), /Access denied/);
  assert.equal(await a.call("AUTH", "adm"), "OK");
  assert.equal(await a.call("NSNEW", "ns1"), "OK");
  await assert.rejects(a.call("NSNEW", "ns1"), /This namespace is not available/);
  await assert.rejects(a.call("NSNEW", "a/b"), /This name is not allowed/);
  assert.deepEqual(await a.call("NSLIST"), ["default", "ns1"]);
  assert.equal(await a.call("NSSET", "ns1", "password", "pw"), "OK");
  assert.equal(await a.call("NSSET", "ns1", "maxsize", "100"), "OK");
  await assert.rejects(a.call("NSSET", "ns1", "color", "red"), /Invalid property/);
  await assert.rejects(a.call("NSSET", "default", "public", "0"), /Cannot update default namespace/);
  const info = await a.call("NSINFO", "ns1") as string;
  assert.match(info, /name: ns1/); assert.match(info, /password: yes/); assert.match(info, /data_limits_bytes: 100/); assert.match(info, /public: yes/);
  await assert.rejects(a.call("NSINFO", "nope"), /Namespace not found/);

  // public + password: read-only without it, writable with it
  assert.equal(await u.call("SELECT", "ns1"), "OK");
  await assert.rejects(u.call("SET", "k", "v"), /Namespace is in read-only mode/);
  await assert.rejects(u.call("SELECT", "ns1", "bad"), /Access denied/);
  assert.equal(await u.call("SELECT", "ns1", "pw"), "OK");
  assert.equal(await u.call("SET", "k", "v"), "k");
  await assert.rejects(u.call("SET", "k2", "x".repeat(200)), /No space left on this namespace/);
  assert.equal(await u.call("DBSIZE"), 1);
  // private: refused without password
  await a.call("NSSET", "ns1", "public", "0");
  const v = client();
  await assert.rejects(v.call("SELECT", "ns1"), /Namespace protected and private/);
  // SECURE challenge forms
  const nonce = await v.call("AUTH", "SECURE", "CHALLENGE") as string;
  assert.match(nonce, /^[0-9a-f]{16}$/);
  assert.equal(await v.call("SELECT", "ns1", "SECURE", sha1(`${nonce}:pw`)), "OK");
  assert.equal(await v.get("k"), "v");
  const n2 = await v.call("AUTH", "SECURE", "CHALLENGE") as string;
  assert.equal(await v.call("AUTH", "SECURE", sha1(`${n2}:adm`)), "OK");
  await assert.rejects(v.call("AUTH", "SECURE", sha1("x")), /No CHALLENGE requested/);
  // worm
  await a.call("NSSET", "ns1", "worm", "1");
  await assert.rejects(u.call("DEL", "k"), /worm mode/);
  await a.call("NSSET", "ns1", "worm", "0");
  // FLUSH needs a private password-protected namespace
  await assert.rejects(a.call("FLUSH"), /Flushing public namespace denied/);
  assert.equal(await u.call("FLUSH"), "OK");
  assert.equal(await u.call("DBSIZE"), 0);
  // NSDEL
  await assert.rejects(u.call("NSDEL", "ns1"), /Permission denied/);
  await assert.rejects(a.call("NSDEL", "default"), /Cannot remove default namespace/);
  assert.equal(await a.call("NSDEL", "ns1"), "OK");
  // A session in a deleted namespace is disconnected: it cannot write anywhere without knowing.
  await assert.rejects(u.call("GET", "k"));
  await assert.rejects(a.call("SELECT", "ns1"), /Namespace not found/);
});

test("seq mode: SET with an empty key returns a little-endian 8-byte id (as 0-db 2.0.7)", async (t) => {
  const { client } = await setup(t, { mode: "seq" });
  const r = client();
  const id0 = await r.callBuffer("SET", "", "first") as Buffer;
  const id1 = await r.callBuffer("SET", "", "second") as Buffer;
  assert.deepEqual([...id0], [0, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...id1], [1, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(await r.get(id1 as unknown as string), "second");
  assert.ok((await r.callBuffer("SET", id0, "updated") as Buffer).equals(id0));
  assert.equal((await r.getBuffer(id0))!.toString(), "updated");
  await assert.rejects(r.call("SET", Buffer.from([9, 9, 9, 9, 0, 0, 0, 0]), "x"), /Invalid key, only update authorized/);
});

test("NSSET mode switches a fresh namespace to seq", async (t) => {
  const { client } = await setup(t, { admin: "a" });
  const r = client();
  await r.call("AUTH", "a");
  await r.call("NSNEW", "q");
  assert.equal(await r.call("NSSET", "q", "mode", "seq"), "OK");
  await r.call("SELECT", "q");
  const id = await r.callBuffer("SET", "", "v") as Buffer;
  assert.equal(id.length, 8);
  await assert.rejects(r.call("NSSET", "q", "mode", "user"), /Cannot change mode of used namespace/);
  assert.match(await r.call("NSINFO", "q") as string, /mode: sequential/);
});

test("protect mode: default namespace read-only without the admin password", async (t) => {
  const { client } = await setup(t, { admin: "adm", protect: true });
  const r = client();
  assert.equal(await r.get("x"), null);
  await assert.rejects(r.call("SET", "x", "1"), /read-only/);
  await assert.rejects(r.call("SELECT", "default", "nope"), /Access denied/);
  assert.equal(await r.call("SELECT", "default", "adm"), "OK");
  assert.equal(await r.call("SET", "x", "1"), "x");
});

test("WAIT wakes on another client's command; times out otherwise", async (t) => {
  const { client } = await setup(t);
  const w = client(), s = client();
  const waiting = w.call("WAIT", "SET", "5000");
  await new Promise((r) => setTimeout(r, 50));
  await s.call("SET", "a", "1");
  assert.equal(await waiting, "SET");
  await assert.rejects(w.call("WAIT", "DEL", "100"), /Timeout/);
  await assert.rejects(w.call("WAIT", "NOPE"), /Unknown command to watch/);
  assert.equal(await w.ping(), "PONG");
});

test("STOP (admin) stops the server; MASTER and MIRROR need admin", async (t) => {
  const { client } = await setup(t, { admin: "adm" });
  const r = client();
  await assert.rejects(r.call("MASTER"), /Permission denied/);
  await assert.rejects(r.call("MIRROR"), /Permission denied/);
  await assert.rejects(r.call("STOP"), /Unauthorized/);
  await r.call("AUTH", "adm");
  assert.equal(await r.call("MASTER"), "Hello, master");
  await r.call("NSNEW", "p"); await r.call("NSSET", "p", "password", "sec");
  assert.match(await r.call("NSINFO", "p") as string, /password_raw: sec/);
  assert.equal(await r.call("STOP"), "Stopping");
  await waitFor("server to stop", async () => { try { await r.ping(); return false; } catch { return true; } });
});

test("unix socket (--socket): the same read and reply path", async (t) => {
  const dir = tempDir(t, "zdb-test-");
  const sock = path.join(dir, "zdb.sock");
  const srv = await startZdbServer({ data: path.join(dir, "data"), index: path.join(dir, "index"), socket: sock, logger });
  t.after(() => srv.close());
  const r = new Redis({ path: sock, maxRetriesPerRequest: 0 });
  t.after(() => r.disconnect());
  const big = Buffer.alloc(200 * 1024, 7); // several reads to assemble, a reply bigger than one write
  assert.equal(await r.call("SET", "big", big), "big");
  assert.ok((await r.getBuffer("big"))!.equals(big));
  const pipe = r.pipeline();
  for (let i = 0; i < 500; i++) pipe.call("SET", `k${i}`, `v${i}`);
  for (let i = 0; i < 500; i++) pipe.get(`k${i}`);
  const res = await pipe.exec();
  assert.deepEqual(res!.slice(500).map((x) => x[1]), Array.from({ length: 500 }, (_, i) => `v${i}`));
});

test("idle timeout: a silent client is closed, a client in WAIT is not", async (t) => {
  const { client } = await setup(t, { idleMs: 300 });
  const w = client(), s = client();
  const waiting = w.call("WAIT", "SET", "2000");
  await new Promise((r) => setTimeout(r, 800)); // well past the idle timeout
  await s.call("SET", "a", "1").catch(() => s.call("SET", "a", "1"));
  assert.equal(await waiting, "SET");
  const quiet = new Redis({ port: (s.options.port as number), host: "127.0.0.1", maxRetriesPerRequest: 0, retryStrategy: () => null });
  quiet.on("error", () => {});
  t.after(() => quiet.disconnect());
  await quiet.ping();
  await waitFor("a silent connection to be closed", () => quiet.status === "end" || quiet.status === "close", { timeoutMs: 3000 });
});

// Issue 9 item 1: a namespace is never reachable with weaker settings than its owner asked for,
// and a change of its password or privacy holds the sessions already in it to the new settings.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as path from "node:path";
import { Redis } from "ioredis";
import { startZdbServer } from "../../src/zdb/index.js";
import { makeLogger } from "../../src/zdb/log.js";
import { tempDir, waitFor } from "./helpers.js";

const logger = makeLogger({ silent: true });

async function setup(t: { after: (fn: () => Promise<void> | void) => void }) {
  const dir = tempDir(t, "zdb-takeover-");
  const srv = await startZdbServer({ data: path.join(dir, "d"), index: path.join(dir, "i"), admin: "adm", logger });
  const clients: Redis[] = [];
  const client = () => {
    const r = new Redis({ port: srv.port, host: "127.0.0.1", maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on("error", () => {});
    clients.push(r);
    return r;
  };
  t.after(async () => { for (const c of clients) c.disconnect(); await srv.close(); });
  const admin = client();
  await admin.call("AUTH", "adm");
  return { client, admin };
}

const closed = (r: Redis) => waitFor("the session to be closed", () => r.status === "end" || r.status === "close");

test("NSNEW with PASSWORD/PUBLIC/MAXSIZE/MODE: born private, no window for a stranger", async (t) => {
  const { client, admin } = await setup(t);
  const stranger = client();
  assert.equal(await admin.call("NSNEW", "ws1", "PASSWORD", "pw", "PUBLIC", "0", "MAXSIZE", "1000", "MODE", "seq"), "OK");
  // The very first SELECT a stranger can make already meets the password.
  await assert.rejects(stranger.call("SELECT", "ws1"), /Namespace protected and private/);
  const info = await admin.call("NSINFO", "ws1") as string;
  assert.match(info, /public: no/); assert.match(info, /password: yes/);
  assert.match(info, /data_limits_bytes: 1000/); assert.match(info, /mode: sequential/);
  const owner = client();
  assert.equal(await owner.call("SELECT", "ws1", "pw"), "OK");
  assert.equal((await owner.callBuffer("SET", "", "v") as Buffer).length, 8);
  // Plain NSNEW stays the real 0-db's (public, no password); bad options are refused whole.
  assert.equal(await admin.call("NSNEW", "plain"), "OK");
  assert.match(await admin.call("NSINFO", "plain") as string, /public: yes\n.*password: no/s);
  await assert.rejects(admin.call("NSNEW", "bad", "COLOUR", "red"), /Invalid property/);
  await assert.rejects(admin.call("NSNEW", "bad", "PASSWORD"), /Unexpected arguments/);
  await assert.rejects(admin.call("NSINFO", "bad"), /Namespace not found/);
});

test("NSSET password/public: sessions SELECTed before the change are re-checked", async (t) => {
  const { client, admin } = await setup(t);
  await admin.call("NSNEW", "ws2"); // the old racy way: public, no password, then configured
  const early = client(), reader = client();
  assert.equal(await early.call("SELECT", "ws2"), "OK");
  assert.equal(await reader.call("SELECT", "ws2"), "OK");
  assert.equal(await early.call("SET", "before", "1"), "before");

  // A password on a public namespace: the early session is now only what a password-less SELECT
  // gives there, read-only.
  await admin.call("NSSET", "ws2", "password", "pw");
  await assert.rejects(early.call("SET", "after", "1"), /read-only/);
  assert.equal(await early.get("before"), "1");
  // Private too: a session without the password is disconnected, its next write never happens.
  await admin.call("NSSET", "ws2", "public", "0");
  await closed(early);
  await closed(reader);
  await assert.rejects(early.call("SET", "after", "2"));

  // The owner with the right password keeps writing; a password swap (the node's grace period)
  // ends the owner's session too, and the old password no longer opens it.
  const owner = client();
  assert.equal(await owner.call("SELECT", "ws2", "pw"), "OK");
  assert.equal(await owner.call("SET", "k", "v"), "k");
  await admin.call("NSSET", "ws2", "maxsize", "100000"); // not an access change: session stays
  assert.equal(await owner.call("SET", "k2", "v"), "k2");
  await admin.call("NSSET", "ws2", "password", "swapped");
  await closed(owner);
  const again = client();
  await assert.rejects(again.call("SELECT", "ws2", "pw"), /Access denied/);
  assert.equal(await again.call("SELECT", "ws2", "swapped"), "OK");
  assert.equal(await again.get("after"), null, "no write got through after the change");
  assert.equal(await again.call("DBSIZE"), 3);
});

test("NSDEL: sessions in the namespace are disconnected, none writes into another one", async (t) => {
  const { client, admin } = await setup(t);
  await admin.call("NSNEW", "ws3", "PASSWORD", "pw", "PUBLIC", "0");
  const s = client();
  assert.equal(await s.call("SELECT", "ws3", "pw"), "OK");
  await admin.call("NSDEL", "ws3");
  await closed(s);
  await assert.rejects(s.call("SET", "x", "1"));
  assert.equal(await admin.call("DBSIZE"), 0, "nothing landed in the default namespace");
});

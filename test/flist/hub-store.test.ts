// The hub's store as an attacker on the bridge sees it (issue 9 item 7): without the password it
// cannot write; with it (or against an open store) it can write records, but the hub serves only
// what the owner signed and content that hashes to its address. zhub does not start against a
// store that refuses its password.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { canonicalJson, generateKeyPair, sha256Hex } from "../../src/core/index.js";
import { buildAndPublish, fetchFlist, flistHash, HubClient, signPublish, type Flist } from "../../src/flist/index.js";
import { ROOT, startHub, startHubStore, waitFor, type HubProc } from "./helpers.js";

const exec = promisify(execFile);
let store: Awaited<ReturnType<typeof startHubStore>>, hub: HubProc, work: string;
const owner = generateKeyPair();

before(async () => {
  store = await startHubStore();
  hub = await startHub(store);
  work = await mkdtemp(join(tmpdir(), "hub-store-test-"));
});
after(async () => {
  await hub?.stop();
  await store?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** redis-cli against the store, as an attacker would type it (SELECT first when given a password). */
async function cli(port: number, password: string | null, ...cmd: string[]): Promise<string> {
  const lines = [...(password ? [`SELECT default ${password}`] : []), cmd.map((c) => JSON.stringify(c)).join(" ")].join("\n");
  const { stdout } = await exec("sh", ["-c", `printf '%s\\n' "$0" | redis-cli -h 127.0.0.1 -p ${port}`, lines]);
  return stdout;
}

async function publishFolder(name: string, content: string): Promise<{ hash: string; flist: Flist; address: string }> {
  const src = join(work, name);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, "f.txt"), content);
  return buildAndPublish(src, { hub: hub.url, keys: owner, name });
}

test("without the password nobody writes the hub's store; zhub refuses a wrong or missing password", async () => {
  const refused = await cli(store.port, null, "SET", `n:${owner.publicKey}/x`, "{}");
  assert.match(refused, /read-only/, "an anonymous SET is refused");
  assert.match(await cli(store.port, null, "GET", `n:${owner.publicKey}/x`), /^\s*$/, "and wrote nothing");

  for (const [pw, re] of [["wrong-password", /refused the hub's password.*Access denied/], ["", /does not let the hub write.*read-only/]] as const) {
    const child = spawn(process.execPath, [resolve(ROOT, "bin/zhub"), "--port", "0", "--zdb", store.url], { env: { ...process.env, ZHUB_ZDB_PASSWORD: pw }, stdio: ["ignore", "pipe", "pipe"] });
    let err = "", out = "";
    child.stderr.on("data", (d) => { err += d; });
    child.stdout.on("data", (d) => { out += d; });
    const code = await new Promise<number | null>((res) => child.once("exit", res));
    assert.equal(code, 4, `zhub exits with the forbidden code (${err})`);
    assert.match(err, re);
    assert.match(err, /ZHUB_ZDB_PASSWORD/, "the message says what to set");
    assert.equal(out, "", "it never printed a ready line");
  }
  // A password on the command line is not even an option any more (ps would show it).
  const flag = await exec(process.execPath, [resolve(ROOT, "bin/zhub"), "--zdb", store.url, "--zdb-password", "x"]).catch((e) => e as { code: number; stderr: string });
  assert.equal((flag as { code: number }).code, 2);
});

test("forged name records written straight into the store are refused and logged, never served", async () => {
  const good = await publishFolder("app", "the owner's content\n");
  const evil = await publishFolder("evil-src", "the attacker's content\n"); // chunks + document in the store
  const db = new Redis({ host: "127.0.0.1", port: store.port, lazyConnect: true });
  await db.connect();
  await db.call("SELECT", "default", store.password);
  try {
    const key = `n:${owner.publicKey}/app`;
    const genuine = JSON.parse((await db.get(key))!) as Record<string, unknown>;
    const attacker = generateKeyPair();
    const forgeries: Array<[string, Record<string, unknown>]> = [
      ["the owner's request, another hash", { ...genuine, hash: evil.hash }],
      ["no signed request at all", (({ request: _r, ...rest }) => ({ ...rest, hash: evil.hash }))(genuine)],
      ["request signed by another key", { ...genuine, hash: evil.hash, request: { ...signPublish(attacker, "app", evil.hash), owner: owner.publicKey } }],
      ["request and hash consistent, wrong signer", { ...genuine, hash: evil.hash, timestamp: Date.now(), request: signPublish(attacker, "app", evil.hash) }],
    ];
    for (const [what, rec] of forgeries) {
      await db.set(key, JSON.stringify(rec));
      const r = await fetch(`${hub.url}/flists/${owner.publicKey}/app`);
      const text = await r.text();
      assert.notEqual(r.status, 200, `${what}: not served`);
      assert.equal(r.headers.get("x-flist-hash"), null);
      assert.ok(!text.includes(evil.hash) || r.status >= 400, what);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, "bad_signature", what);
      const listed = await new HubClient(hub.url).list();
      assert.ok(!listed.some((x) => x.name === "app"), `${what}: not listed either`);
    }
    await waitFor("the refusal in the hub's log", () => /forged or damaged name record/.test(hub.log()));

    // A new name the owner never published, written with a record copied from another name.
    const other = JSON.parse((await db.get(`n:${owner.publicKey}/evil-src`))!) as Record<string, unknown>;
    await db.set(`n:${owner.publicKey}/never`, JSON.stringify({ ...other, name: "never" }));
    await db.set("index", JSON.stringify([...(JSON.parse((await db.get("index"))!) as string[]), `${owner.publicKey}/never`]));
    assert.equal((await fetch(`${hub.url}/flists/${owner.publicKey}/never`)).status, 401);
    assert.ok(!(await new HubClient(hub.url).list()).some((x) => x.name === "never"));

    // A forged record with a far-future timestamp does not lock the owner out of the name.
    await db.set(key, JSON.stringify({ ...genuine, timestamp: Date.now() + 1e9 }));
    const again = await new HubClient(hub.url).publish(owner, "app", good.flist);
    assert.equal(again.hash, good.hash);
    const served = await fetch(`${hub.url}/flists/${owner.publicKey}/app`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get("x-flist-hash"), good.hash);

    // The document the record names, rewritten in the store: refused by name and by hash.
    const doc: Flist = { ...good.flist, config: { ...good.flist.config, entrypoint: ["/bin/evil"] } };
    await db.set(`f:${good.hash}`, canonicalJson(doc));
    assert.notEqual(flistHash(doc), good.hash);
    for (const path of [`/flists/${owner.publicKey}/app`, `/flists/sha256/${good.hash}`]) {
      const r = await fetch(`${hub.url}${path}`);
      assert.equal(r.status, 500, path);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, "damaged");
    }
    await waitFor("the refusal in the hub's log", () => /does not match its address/.test(hub.log()));
    assert.equal((await fetch(`${hub.url}/flists/sha256/${sha256Hex("x").slice(0, 10)}`)).status, 400, "a malformed hash is 400");
    assert.equal((await fetch(`${hub.url}/flists/%E0%A4%A`)).status, 400, "a malformed URL path is 400, not 500");
    const deep = await fetch(`${hub.url}/chunks/missing`, { method: "POST", body: `{"hashes":${"[".repeat(100_000)}${"]".repeat(100_000)}}` });
    assert.equal(deep.status, 400, "deeply nested JSON is 400, not 500");
    const deepPut = await fetch(`${hub.url}/flists/${owner.publicKey}/deep`, { method: "PUT", body: `{"flist":${"{\"a\":".repeat(50_000)}1${"}".repeat(50_000)}}` });
    assert.equal(deepPut.status, 400);
  } finally { db.disconnect(); }
});

test("a node fetching by name checks the owner's signature itself: a hub that lies is refused", async (t) => {
  const good = await publishFolder("signed", "signed content\n");
  const evil = await publishFolder("evil2", "evil content\n");
  const ok = await fetchFlist(`${hub.url}/flists/${owner.publicKey}/signed`);
  assert.equal(ok.hash, good.hash, "the real hub's answer verifies");
  const genuine = await fetch(`${hub.url}/flists/${owner.publicKey}/signed`);
  const header = genuine.headers.get("x-flist-publish")!;
  assert.ok(header, "the hub serves the owner's signed request with the document");
  // A hub under an attacker's control: the owner's genuine signature, someone else's document.
  let mode: "swap" | "strip" = "swap";
  const liar = createServer((_req, res) => {
    const headers: Record<string, string> = { "content-type": "application/json", "x-flist-hash": evil.hash };
    if (mode === "swap") headers["x-flist-publish"] = header;
    res.writeHead(200, headers);
    res.end(canonicalJson(evil.flist));
  });
  await new Promise<void>((r) => liar.listen(0, "127.0.0.1", r));
  t.after(() => { liar.close(); });
  const url = `http://127.0.0.1:${(liar.address() as AddressInfo).port}/flists/${owner.publicKey}/signed`;
  await assert.rejects(fetchFlist(url), (e: Error & { code?: string }) => e.code === "bad_signature" && /not what its owner published/.test(e.message));
  mode = "strip";
  await assert.rejects(fetchFlist(url), (e: Error & { code?: string }) => e.code === "bad_signature" && /without its owner's signed publish request/.test(e.message));
});

test("after its store restarts, the hub re-selects with its password before any command: it serves and publishes again", async () => {
  const before = await publishFolder("across-restart", "before the restart\n");
  await store.restart();
  // Until the connection is back, requests fail as `unavailable` (503), never as someone else's data.
  await waitFor("the hub to serve again after its store restarted", async () => (await fetch(`${hub.url}/flists/${owner.publicKey}/across-restart`)).headers.get("x-flist-hash") === before.hash, { timeoutMs: 15_000 });
  const after = await publishFolder("after-restart", "after the restart\n");
  const r = await fetch(`${hub.url}/flists/${owner.publicKey}/after-restart`);
  assert.equal(r.headers.get("x-flist-hash"), after.hash, "a publish after the restart is written (so the session is writable again) and served");
  assert.equal(hub.child.exitCode, null);
});

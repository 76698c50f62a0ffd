// The hub under a connection flood (issue 9 item 2, for zhub): one peer (127.0.0.2) opens far more
// connections than it may, each sending half a request and then nothing (slowloris). Its excess is
// closed at once, the rest when their header deadline passes, the hub stays up, and a bystander
// (127.0.0.1) fetching an flist document keeps its latency — measured before and during.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { mkdtemp, mkdir, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateKeyPair, sha256Hex } from "../../src/core/index.js";
import { buildAndPublish } from "../../src/flist/index.js";
import { startHub, startHubStore, waitFor, type HubProc, type StoreProc } from "./helpers.js";

const FLOOD = 1500;
const PER_ADDRESS = 200;
const HEADERS_MS = 2000;
let store: StoreProc, hub: HubProc, work: string;

before(async () => {
  store = await startHubStore();
  hub = await startHub(store, { args: ["--max-per-address", String(PER_ADDRESS), "--headers-timeout", String(HEADERS_MS)] });
  work = await mkdtemp(join(tmpdir(), "hub-flood-"));
});
after(async () => {
  await hub?.stop();
  await store?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function latencies(url: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await fetch(url);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))];

test("a slowloris flood from one address: its excess closed at once, the rest at the header deadline; a bystander keeps its latency", { timeout: 60_000 }, async (t) => {
  const keys = generateKeyPair();
  const src = join(work, "src");
  await mkdir(src);
  await writeFile(join(src, "f.txt"), "bystander's flist\n");
  const pub = await buildAndPublish(src, { hub: hub.url, keys, name: "bystander" });
  const url = pub.address.split("#")[0];
  await latencies(url, 20); // warm up
  const quiet = await latencies(url, 200);

  const sockets: Socket[] = [];
  let refusedAtDoor = 0, timedOut = 0, closed = 0;
  t.after(() => { for (const s of sockets) s.destroy(); });
  await Promise.all(Array.from({ length: FLOOD }, () => new Promise<void>((res) => {
    const s = connect({ host: "127.0.0.1", port: hub.port, localAddress: "127.0.0.2" }, () => { s.write("GET /flists HTTP/1.1\r\nHost: hub\r\nX-Slow: "); res(); });
    let reply = "";
    s.on("data", (d: Buffer) => { reply += d.toString("latin1"); }); // reading lets 'close' come
    s.on("error", () => res());
    s.on("close", () => { closed++; if (reply.startsWith("HTTP/1.1 408")) timedOut++; else if (!reply) refusedAtDoor++; res(); });
    sockets.push(s);
  })));
  const during = await latencies(url, 200);
  const stillOpenDuring = FLOOD - closed;
  await waitFor(`the hub to close every flood connection at the header deadline`, () => closed === FLOOD, { timeoutMs: HEADERS_MS + 5000 }).catch((e) => { throw new Error(`${(e as Error).message}; closed ${closed} of ${FLOOD}`); });
  const p = (xs: number[]) => `p50 ${pct(xs, 0.5).toFixed(2)} ms, p99 ${pct(xs, 0.99).toFixed(2)} ms`;
  t.diagnostic(`${FLOOD} slowloris connections from one address: ${refusedAtDoor} closed at the door, ${timedOut} answered 408 at the header deadline; bystander quiet ${p(quiet)}, during ${p(during)}`);
  assert.equal(refusedAtDoor, FLOOD - PER_ADDRESS, `the excess over ${PER_ADDRESS} per address is closed at the door`);
  assert.equal(timedOut, PER_ADDRESS, "the rest get 408 when their headers are late");
  assert.ok(stillOpenDuring <= PER_ADDRESS);
  assert.ok(pct(during, 0.99) < Math.max(50, 10 * pct(quiet, 0.99)), `bystander p99 stays flat: ${p(during)} vs ${p(quiet)}`);
  assert.equal(hub.child.exitCode, null, "the hub is still running");
  assert.equal((await fetch(`${hub.url}/health`)).status, 200);
});

test("uploads over the hub's body budget are refused before they are read (507), and it recovers", { timeout: 30_000 }, async (t) => {
  const BUDGET = 4 * 1024 * 1024;
  const small = await startHub(store, { args: ["--max-upload-bytes", String(BUDGET)] });
  t.after(() => small.stop());
  const chunk = (seed: number) => Buffer.alloc(2 * 1024 * 1024, seed);
  // Two uploads that declare 2 MiB each and send half: together they hold the whole budget.
  const held = [chunk(1), chunk(2)].map((data) => {
    const s = connect({ host: "127.0.0.1", port: small.port });
    let reply = "";
    s.on("data", (d: Buffer) => { reply += d.toString("latin1"); });
    s.write(`PUT /chunks/${sha256Hex(data)} HTTP/1.1\r\nHost: hub\r\nContent-Length: ${data.length}\r\nConnection: close\r\n\r\n`);
    s.write(data.subarray(0, data.length / 2));
    return { s, data, reply: () => reply };
  });
  t.after(() => { for (const h of held) h.s.destroy(); });
  await waitFor("both uploads to be held by the hub", async () => {
    const r = await fetch(`${small.url}/chunks/${sha256Hex(chunk(3))}`, { method: "PUT", body: chunk(3) });
    return r.status === 507 && ((await r.json()) as { error: { code: string } }).error.code === "exhausted";
  });
  assert.equal((await fetch(`${small.url}/health`)).status, 200, "everything else is served meanwhile");
  // The held uploads complete; their share comes back, and the refused one now goes through.
  for (const h of held) h.s.write(h.data.subarray(h.data.length / 2));
  await waitFor("the held uploads to be stored", () => held.every((h) => h.reply().startsWith("HTTP/1.1 201")));
  assert.equal((await fetch(`${small.url}/chunks/${sha256Hex(chunk(3))}`, { method: "PUT", body: chunk(3) })).status, 201);
  assert.equal((await fetch(`${small.url}/chunks/missing`, { method: "POST", body: JSON.stringify({ hashes: Array.from({ length: 4097 }, () => sha256Hex("x")) }) })).status, 400, "at most 4096 hashes a request");
});

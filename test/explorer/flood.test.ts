// The explorer under abuse, bounded and on 127.0.0.1 only: 300 live streams opened and never read,
// 200 slowloris connections, 120 malformed requests. The explorer stays up, the ledger still sees
// ONE event subscriber (the explorer's), and a bystander's page reads stay fast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { startLedger, tempDir, waitFor } from "../support.js";
import { startExplorer } from "../../src/explorer/index.js";
import { seed } from "./seed.js";

function sock(port: number, send: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => { s.write(send); resolve(s); });
    s.on("error", reject);
  });
}

async function bystander(url: string, n: number): Promise<{ p50: number; p99: number }> {
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await fetch(`${url}api/${i % 2 ? "overview" : "nodes?sort=freeMru&desc=1&limit=25"}`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    lat.push(performance.now() - t);
  }
  lat.sort((a, b) => a - b);
  return { p50: lat[Math.floor(n / 2)], p99: lat[Math.floor(n * 0.99)] };
}

async function subscribers(ledgerUrl: string): Promise<number> {
  const text = await (await fetch(`${ledgerUrl}/metrics`)).text();
  return Number(/^ledger_event_subscribers (\d+)/m.exec(text)?.[1] ?? NaN);
}

test("explorer flood: unread live streams, slowloris, malformed requests — the ledger sees one reader, a bystander keeps being served", { timeout: 90_000 }, async (t) => {
  const ledger = await startLedger(tempDir(t, "explorer-flood-ledger"), { args: ["--faucet", "--block-interval", "100"], t });
  await seed(ledger.client, 3);
  const ex = await startExplorer({ ledger: ledger.url, limits: { headersMs: 1000, requestMs: 2000 } });
  t.after(() => ex.close());
  const port = Number(new URL(ex.url).port);
  const sockets: Socket[] = [];
  t.after(() => { for (const s of sockets) s.destroy(); });
  const quiet = await bystander(ex.url, 100);

  // 1. 300 pages that open the live stream and never read it.
  for (let i = 0; i < 300; i++) {
    const s = await sock(port, "GET /api/live HTTP/1.1\r\nHost: x\r\n\r\n");
    s.pause();
    sockets.push(s);
  }
  await waitFor("300 live streams", () => ex.live() >= 300, { timeoutMs: 15_000 });
  assert.equal(await subscribers(ledger.url), 1, "the ledger has one event subscriber whatever the number of pages");

  // 2. 200 slowloris connections: half a request line each, then silence.
  const slow: Promise<string>[] = [];
  for (let i = 0; i < 200; i++) {
    const s = await sock(port, "GET /api/overview HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    let said = "";
    s.on("data", (d: Buffer) => { said += d.toString(); }); // read what the server says, so its close is seen
    sockets.push(s);
    slow.push(new Promise((r) => s.once("close", () => r(said))));
  }

  // 3. Malformed requests: each answered 4xx, never 5xx.
  const bad = ["search?q=" + "9".repeat(5000), "nodes?limit=100000", "nodes?sort=constructor", "nodes?offset=-5", "nodes/abc", "contracts/1e9", "blocks/zz", `blocks/${"f".repeat(64)}`, "twins/%E0%A4%A", "nope", "nodes?status=<script>", "farms/99999"];
  for (let i = 0; i < 120; i++) {
    const r = await fetch(`${ex.url}api/${bad[i % bad.length]}`);
    assert.ok(r.status >= 400 && r.status < 500, `${bad[i % bad.length]} → ${r.status}`);
    await r.arrayBuffer();
  }

  const during = await bystander(ex.url, 100);
  t.diagnostic(`bystander p50/p99: quiet ${quiet.p50.toFixed(1)}/${quiet.p99.toFixed(1)} ms, during ${during.p50.toFixed(1)}/${during.p99.toFixed(1)} ms (${ex.live()} unread live streams)`);
  assert.ok(during.p99 < 500, `bystander p99 ${during.p99} ms`);
  // Slowloris connections are cut at the header deadline.
  const answers = await Promise.race([Promise.all(slow), new Promise<never>((_, rej) => setTimeout(() => rej(new Error("slowloris connections still open after 10 s")), 10_000))]);
  assert.equal(answers.filter((a) => a.startsWith("HTTP/1.1 408")).length, 200, "each cut at the header deadline with 408");
  assert.equal(await subscribers(ledger.url), 1);
  // Blocks kept flowing to the mirror all along.
  const h = ex.mirror.height;
  await waitFor("the mirror to follow new blocks", () => ex.mirror.height > h + 2);
});

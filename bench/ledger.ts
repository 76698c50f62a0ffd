// Ledger benchmark (`node dist/bench/ledger.js [--seconds N] [--replay-txs N]`).
//  1. The anchors: ed25519 verifications per second on one core, and on every core the ledger uses
//     (its main thread and its signature threads: one thread per core), measured here and now.
//  2. Throughput: 8 concurrent HTTP clients submit signed transfers to a real bcdb process;
//     included tx/s and submit-to-inclusion latency (p50/p99) as the clients see it.
//     With `--replicas N`: N bcdb replicas ordered through a real etcd (started here), the clients
//     spread over them; the start-up part is skipped.
//     BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes node flags to the bcdb processes (profiles).
//  3. Start-up: a block log of ~1,000,000 signed transactions; bcdb's start with snapshots
//     (as the running ledger leaves them) and, for reference, a full replay without any.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { spawn } from "node:child_process";
import { Agent, request } from "node:http";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { freePort } from "../test/support.js";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { availableParallelism, loadavg } from "node:os";
import { createInterface } from "node:readline";
import {
  InternalError, UnavailableError, canonicalJson, generateKeyPair, keyPairFromSeed, sha256, signTx, signingDigest, signBytes, verifyBytes,
  type KeyPair, type Tx,
} from "../src/core/index.js";
import { LedgerClient } from "../src/ledger/client/index.js";
import { encodeBlock, ZERO_HASH } from "../src/ledger/block.js";
import { RecordFile } from "../src/ledger/records.js";
import { Chain } from "../src/ledger/chain.js";
import type { Genesis } from "../src/ledger/types.js";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);
const BCDB = join(ROOT, "bin", "bcdb");
const args = process.argv.slice(2);
const arg = (name: string, def: number) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };

// ---- workers: sign a slice of the replay log's transfers, or count verifications ----
interface SignJob { accounts: number; from: number; to: number }
interface VerifyJob { verifyMs: number }
function seedKey(i: number): KeyPair { return keyPairFromSeed(sha256(`bench-account-${i}`)); }
if (!isMainThread && "verifyMs" in (workerData as object)) {
  parentPort!.postMessage(verifyCeiling((workerData as VerifyJob).verifyMs));
} else if (!isMainThread) {
  const job = workerData as SignJob;
  const keys = Array.from({ length: job.accounts }, (_, i) => seedKey(i));
  const out: string[] = [];
  // Round n holds every account's transfer with nonce n + 2 (twin.create used nonce 1).
  for (let n = job.from; n < job.to; n++) {
    for (let a = 0; a < job.accounts; a++) {
      const tx = signTx({ type: "transfer", signer: keys[a].publicKey, nonce: n + 2, payload: { to: ((a + 1) % job.accounts) + 2, amount: 1 } }, keys[a].privateKey);
      out.push(canonicalJson(tx));
    }
  }
  parentPort!.postMessage(out);
}

function verifyCeiling(ms = 1500): number {
  const k = generateKeyPair();
  const tx = { type: "transfer", signer: k.publicKey, nonce: 1, payload: { to: 2, amount: 1 } };
  const sig = signBytes(signingDigest(tx), k.privateKey);
  const digest = signingDigest(tx);
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) { for (let i = 0; i < 100; i++) verifyBytes(digest, sig, k.publicKey); n += 100; }
  return n / (ms / 1000);
}

/** Verifications per second over `threads` threads at once (the all-cores anchor). */
async function verifyCeilingThreads(threads: number, ms = 1500): Promise<number> {
  const each = await Promise.all(Array.from({ length: threads }, () => new Promise<number>((res, rej) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { verifyMs: ms } satisfies VerifyJob });
    w.once("message", res); w.once("error", rej);
  })));
  return each.reduce((a, b) => a + b, 0);
}

/** A one-member etcd on loopback with its data in `dir`. */
async function startEtcd(dir: string): Promise<{ url: string; stop(): Promise<void> }> {
  const [client, peer] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`, peerUrl = `http://127.0.0.1:${peer}`;
  const proc = spawn("etcd", ["--name", "b", "--data-dir", dir, "--listen-client-urls", url, "--advertise-client-urls", url,
    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", `b=${peerUrl}`, "--log-level", "error"], { stdio: "ignore" });
  const end = Date.now() + 15_000;
  for (;;) {
    try { if (((await (await fetch(`${url}/health`)).json()) as { health: string }).health === "true") break; } catch { /* not yet */ }
    if (Date.now() > end || proc.exitCode !== null) throw new UnavailableError("etcd did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, stop: () => new Promise<void>((r) => { proc.once("exit", () => r()); proc.kill("SIGTERM"); }) };
}

async function startBcdb(dir: string, extra: string[] = []): Promise<{ url: string; stop(): Promise<void>; readyMs: number }> {
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []), BCDB, "--data", dir, "--port", "0", "--log-level", "warn", ...extra], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: proc.stdout! }).once("line", res);
    proc.once("exit", (c) => rej(new UnavailableError(`bcdb exited ${c}`)));
  });
  const readyMs = performance.now() - t0;
  return {
    url: (JSON.parse(line) as { url: string }).url, readyMs,
    stop: () => new Promise<void>((r) => { proc.once("exit", () => r()); proc.kill("SIGTERM"); }),
  };
}

function post(agent: Agent, url: URL, body: string): Promise<number> {
  return new Promise((res, rej) => {
    const req = request({ host: url.hostname, port: url.port, path: "/tx", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (r) => {
      r.resume();
      r.on("end", () => res(r.statusCode ?? 0));
    });
    req.on("error", rej);
    req.end(body);
  });
}

function pct(sorted: number[], p: number): number { return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]; }

async function throughput(seconds: number, replicas: number) {
  const dir = mkdtempSync(join(tmpdir(), "bcdb-bench-"));
  const etcd = replicas > 1 ? await startEtcd(join(dir, "etcd")) : undefined;
  const leds: Awaited<ReturnType<typeof startBcdb>>[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      const d = join(dir, `replica-${i}`);
      if (i > 0) { mkdirSync(d); copyFileSync(join(dir, "replica-0", "genesis.key"), join(d, "genesis.key")); }
      leds.push(await startBcdb(d, ["--faucet", ...(etcd ? ["--etcd", etcd.url, "--etcd-prefix", "/bench"] : [])]));
    }
    const clients = leds.map((l) => new LedgerClient(l.url));
    const client = clients[0];
    const CLIENTS = 8, PER_CLIENT = 24;
    // Each client drives PER_CLIENT accounts, one transfer in flight per account (nonces in order),
    // on replica `client % replicas`.
    const accounts = await Promise.all(Array.from({ length: CLIENTS * PER_CLIENT }, async (_, i) => {
      const keys = generateKeyPair();
      const c = clients[Math.floor(i / PER_CLIENT) % replicas];
      const twinId = await c.signer(keys).ensureTwin();
      await c.faucet(twinId, 10 ** 9);
      return { keys, twinId };
    }));
    // The accounts' twins must be known everywhere before the clock starts.
    const h = (await client.status()).height;
    for (const c of clients) while ((await c.status()).height < h) await new Promise((r) => setTimeout(r, 20));
    const latencies: number[] = [];
    let included = 0, failed = 0;
    // Pre-sign enough transfers so signing is not measured.
    const perAccount = Math.ceil((seconds * 12_000) / accounts.length);
    const signed = accounts.map((a, i) => Array.from({ length: perAccount }, (_, n) => JSON.stringify(
      signTx({ type: "transfer", signer: a.keys.publicKey, nonce: n + 2, payload: { to: accounts[(i + 1) % accounts.length].twinId, amount: 1 } }, a.keys.privateKey) as Tx)));
    const h0 = (await client.status()).height;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
      const agent = new Agent({ keepAlive: true, maxSockets: PER_CLIENT });
      const url = new URL(leds[c % replicas].url);
      await Promise.all(Array.from({ length: PER_CLIENT }, async (_, k) => {
        const mine = signed[c * PER_CLIENT + k];
        for (let n = 0; n < mine.length && performance.now() < deadline; n++) {
          const s = performance.now();
          const status = await post(agent, url, mine[n]);
          if (status === 200) { included++; latencies.push(performance.now() - s); } else { failed++; break; }
        }
      }));
      agent.destroy();
    }));
    const elapsed = (performance.now() - t0) / 1000;
    const h1 = (await client.status()).height;
    latencies.sort((a, b) => a - b);
    return { txPerSec: included / elapsed, p50: pct(latencies, 50), p99: pct(latencies, 99), included, failed, blocks: h1 - h0, clients: CLIENTS, inFlight: CLIENTS * PER_CLIENT, replicas };
  } finally {
    for (const l of leds) await l.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function buildLog(dir: string, accounts: number, rounds: number): Promise<number> {
  const gk = generateKeyPair();
  writeFileSync(join(dir, "genesis.key"), JSON.stringify(gk), { mode: 0o600 });
  const keys = Array.from({ length: accounts }, (_, i) => seedKey(i));
  const log = RecordFile.open(join(dir, "blocks.log")).file;
  const genesis: Genesis = { publicKey: gk.publicKey, supply: 10 ** 14, billingPeriod: 3600, gracePeriod: 7200, reportInterval: 60 };
  let prev = ZERO_HASH, height = 0, time = 1_700_000_000, txCount = 0;
  const append = (txs: string[], g?: Genesis) => {
    const { block, bytes } = encodeBlock({ height, prevHash: prev, time, ...(g ? { genesis: g } : {}) }, txs.map((t) => JSON.parse(t)), txs);
    log.append(bytes, false);
    prev = block.hash; height++; time++; txCount += txs.length;
  };
  append([], genesis);
  append(keys.map((k) => canonicalJson(signTx({ type: "twin.create", signer: k.publicKey, nonce: 1, payload: {} }, k.privateKey))));
  append(keys.map((k, i) => canonicalJson(signTx({ type: "transfer", signer: gk.publicKey, nonce: i + 1, payload: { to: i + 2, amount: 10 ** 6 } }, gk.privateKey))));
  // Sign the transfers in two workers (one per core), a few rounds at a time, in order.
  const CHUNK = 50;
  for (let r = 0; r < rounds; r += 2 * CHUNK) {
    const jobs = [r, r + CHUNK].filter((f) => f < rounds).map((from) => new Promise<string[]>((res, rej) => {
      const w = new Worker(new URL(import.meta.url), { workerData: { accounts, from, to: Math.min(rounds, from + CHUNK) } satisfies SignJob });
      w.once("message", res); w.once("error", rej);
    }));
    for (const txs of await Promise.all(jobs)) for (let i = 0; i < txs.length; i += accounts) append(txs.slice(i, i + accounts));
    process.stderr.write(`\rbuilding the replay log: ${txCount} transactions `);
  }
  process.stderr.write("\n");
  log.close();
  return txCount;
}

async function replay(totalTxs: number) {
  const dir = mkdtempSync(join(tmpdir(), "bcdb-replay-"));
  try {
    const accounts = 1000;
    const txs = await buildLog(dir, accounts, Math.max(1, Math.round((totalTxs - 2 * accounts) / accounts)));
    // First start: replays everything from genesis. It leaves its snapshot 100,000 transactions
    // behind the head: the longest tail the default policy (a snapshot every 100,000) can leave.
    let t0 = performance.now();
    const c = await Chain.open({ dir, billingPeriod: 3600, gracePeriod: 7200, reportInterval: 60, snapshotBlocks: 1e9, snapshotTxs: txs - 100_000 });
    const fullMs = performance.now() - t0;
    const height = c.height;
    await c.close();
    // Second start, the one that counts: snapshot + the 100,000-tx tail (in-process: the ledger's own time).
    t0 = performance.now();
    const c2 = await Chain.open({ dir, billingPeriod: 3600, gracePeriod: 7200, reportInterval: 60, snapshotBlocks: 1e9, snapshotTxs: 1e12 });
    const snapMs = performance.now() - t0;
    if (c2.height !== height) throw new InternalError("replayed chain differs from the log");
    await c2.close();
    // And as a bcdb process, from spawn to its "ready" line.
    const led = await startBcdb(dir);
    const status = await new LedgerClient(led.url).status();
    await led.stop();
    if (status.height !== height) throw new InternalError("replayed chain differs from the log");
    return { txs, blocks: height + 1, fullMs, snapMs, processMs: led.readyMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const seconds = arg("--seconds", 5);
  const replicas = arg("--replicas", 1);
  const replayTxs = replicas > 1 ? 0 : arg("--replay-txs", 1_000_000);
  // The ledger uses every core: its main thread applies and orders, the signature threads (one
  // per spare core) verify. So the fair ceiling is verify/s on all of them at once.
  const cores = availableParallelism();
  process.stderr.write(`measuring ed25519 verify/s on one core and on ${cores} threads…\n`);
  const ceiling = verifyCeiling();
  const allCores = await verifyCeilingThreads(cores);
  process.stderr.write(`throughput: 8 HTTP clients for ${seconds} s${replicas > 1 ? ` over ${replicas} replicas ordered by etcd` : ""}…\n`);
  const tp = await throughput(seconds, replicas);
  const ceiling2 = verifyCeiling();
  const allCores2 = await verifyCeilingThreads(cores);
  const verifyPerSec = (ceiling + ceiling2) / 2;
  const verifyAllCores = (allCores + allCores2) / 2;
  if (replayTxs > 0) process.stderr.write(`replay: a log of ${replayTxs} transactions…\n`);
  const rp = replayTxs > 0 ? await replay(replayTxs) : undefined;
  const rows: [string, string, string][] = [
    ["ed25519 verify/s, one core (anchor)", verifyPerSec.toFixed(0), "measured in this run"],
    [`ed25519 verify/s, ${cores} cores (anchor)`, verifyAllCores.toFixed(0), `${cores} threads at once, measured in this run`],
    [`included tx/s (8 HTTP clients${replicas > 1 ? `, ${replicas} replicas + etcd` : ""})`, tp.txPerSec.toFixed(0), `${tp.inFlight} in flight, ${tp.included} txs in ${tp.blocks} blocks, ${tp.failed} refused`],
    ["ratio included / one-core verify", `${((100 * tp.txPerSec) / verifyPerSec).toFixed(1)} %`, "bar ≥ 40 %"],
    [`ratio included / ${cores}-core verify`, `${((100 * tp.txPerSec) / verifyAllCores).toFixed(1)} %`, "the fair ratio: the ledger uses these cores"],
    ["submit→inclusion p50", `${tp.p50.toFixed(1)} ms`, "bar < 50 ms"],
    ["submit→inclusion p99", `${tp.p99.toFixed(1)} ms`, ""],
    ...(rp ? [
      [`start-up, ${rp.txs} txs, snapshot + 100k-tx tail`, `${(rp.snapMs / 1000).toFixed(2)} s`, `bar < 5 s; bcdb process spawn to "ready": ${(rp.processMs / 1000).toFixed(2)} s`],
      [`full replay from genesis, no snapshot`, `${(rp.fullMs / 1000).toFixed(2)} s`, `${rp.blocks} blocks (reference)`],
    ] as [string, string, string][] : []),
    ["machine", `${availableParallelism()} cores`, `load average ${loadavg().map((x) => x.toFixed(2)).join(" ")} at the end (other work skews every figure)`],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length)), w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`${"figure".padEnd(w0)}  ${"value".padStart(w1)}  note`);
  for (const r of rows) console.log(`${r[0].padEnd(w0)}  ${r[1].padStart(w1)}  ${r[2]}`);
  if (args.includes("--json")) console.log(JSON.stringify({ verifyPerSec, verifyAllCores, cores, ...tp, replay: rp }));
}

if (isMainThread) await main();

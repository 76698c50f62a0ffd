// Explorer benchmark (`node dist/bench/explorer.js [--nodes 1000] [--contracts 10000] [--explorers 50] [--seconds 8] [--rounds 5]`).
//  1. A real bcdb filled through its client with N nodes (one owner twin each) and M contracts.
//  2. bin/explorer started against it: time until its mirror is loaded and /api answers.
//  3. First paint of the overview in Debian's chromium (cold context each run): first-contentful-paint
//     and the time until the overview's figures are drawn; median of 5.
//  4. The nodes table: a filtered, sorted page served by the explorer (p50/p99 over 200 requests),
//     its size against the ledger's whole GET /nodes.
//  5. The ledger's inclusion rate (signed transfers from 64 signers, submit-and-wait) without any
//     explorer, then with the explorer and E simulated browsers (each holds /api/live open and reads
//     the overview and a nodes page every 2 s, as an open page does), then without again.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { chromium } from "playwright-core";
import { GiB, generateKeyPair, generateSealKeyPair, signDeployment, signTx, type Deployment, type KeyPair } from "../src/core/index.js";
import type { LedgerClient, Signer } from "../src/ledger/client/index.js";
import { REPO_ROOT, startLedger } from "../test/support.js";

const args = process.argv.slice(2);
const arg = (name: string, def: number) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : def; };
const NODES = arg("--nodes", 1000), CONTRACTS = arg("--contracts", 10_000), EXPLORERS = arg("--explorers", 50), SECONDS = arg("--seconds", 8), ROUNDS = arg("--rounds", 5), POLL_MS = arg("--poll-ms", 0);
// The open pages stand for browsers on other machines: here they share the ledger's 2 cores, so they
// run at the lowest priority (--nice-pages 0 to not); --nice-explorer runs the explorer server niced.
const NICE_PAGES = arg("--nice-pages", 19), NICE_EXPLORER = arg("--nice-explorer", 0);
const niced = (n: number, cmd: string[]) => (n > 0 ? ["nice", ["-n", String(n), ...cmd]] as const : [cmd[0], cmd.slice(1)] as const);

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, async () => { while (next < n) { const i = next++; out[i] = await fn(i); } }));
  return out;
}

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function fill(client: LedgerClient): Promise<void> {
  const t0 = performance.now();
  const farmer = client.signer(generateKeyPair());
  await farmer.ensureTwin();
  const fr = await farmer.send("farm.create", { name: "bench-farm" });
  const farmId = (fr.events!.find((e) => e.type === "farm.created") as { farmId: number }).farmId;
  const nodeIds = await pool(NODES, 64, async (i) => {
    const owner = client.signer(generateKeyPair());
    await owner.ensureTwin();
    const r = await owner.send("node.register", {
      farmId, capacity: { cru: 16, mru: 64 * GiB, sru: 4000 * GiB, hru: 8000 * GiB }, sealKey: generateSealKeyPair().publicKey, underlay: `10.${i >> 8}.${i & 255}.1`,
      ...(i % 10 === 0 ? { publicConfig: { domain: `gw${i}.example.org` } } : {}),
    });
    return (r.events!.find((e) => e.type === "node.registered") as { nodeId: number }).nodeId;
  });
  process.stderr.write(`  ${NODES} nodes in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  const USERS = 100;
  const users = await pool(USERS, 32, async () => {
    const keys = generateKeyPair();
    const signer = client.signer(keys);
    const twinId = await signer.ensureTwin();
    await client.faucet(twinId, 10 ** 12);
    return { signer, twinId, privateKey: keys.privateKey };
  });
  await pool(USERS, USERS, async (u) => {
    const { signer, twinId, privateKey } = users[u] as { signer: Signer; twinId: number; privateKey: string };
    for (let k = u; k < CONTRACTS; k += USERS) {
      const d: Deployment = {
        version: 0, twinId, nodeId: nodeIds[k % NODES], metadata: "", description: "",
        signatureRequirement: { requests: [{ twinId, weight: 1, required: true }], weightRequired: 1 },
        workloads: [{ name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } }],
      };
      await signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, privateKey) });
    }
  });
  process.stderr.write(`  filled: ${NODES} nodes, ${CONTRACTS} contracts in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

async function startExplorerProc(ledger: string): Promise<{ url: string; proc: ChildProcess; readyMs: number; stop(): Promise<void> }> {
  const t0 = performance.now();
  const [cmd, argv] = niced(NICE_EXPLORER, [process.execPath, join(REPO_ROOT, "bin", "explorer"), "--ledger", ledger, "--port", "0", "--log-level", "warn"]);
  const proc = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((res) => createInterface({ input: proc.stdout! }).once("line", res));
  const url = (JSON.parse(line) as { url: string }).url;
  for (;;) { const r = await fetch(`${url}api/overview`).catch(() => undefined); if (r?.ok) break; await new Promise((r) => setTimeout(r, 20)); }
  const readyMs = performance.now() - t0;
  return { url, proc, readyMs, stop: async () => { const e = new Promise((r) => proc.once("exit", r)); proc.kill("SIGTERM"); await e; } };
}

/** A load-generating account: its key and the next nonce it will use. */
interface Sender { keys: KeyPair; next: number }

/** Included transfers per second from `senders` submit-and-wait loops over `seconds`. The transfers
 *  are signed before the clock starts, so this process's signing (~1 ms each) does not compete with
 *  the ledger for the 2 cores: what is measured is how fast the ledger includes them. */
async function inclusionRate(client: LedgerClient, senders: Sender[], to: number, seconds: number, perSender = 200): Promise<{ rate: number; p50: number; p99: number; ranOut: number }> {
  const signed = senders.map((s) => Array.from({ length: perSender }, (_, i) =>
    signTx({ type: "transfer", signer: s.keys.publicKey, nonce: s.next + i, payload: { to, amount: 1 } }, s.keys.privateKey)));
  const end = performance.now() + seconds * 1000;
  const lat: number[] = [];
  let ranOut = 0;
  await Promise.all(senders.map(async (s, k) => {
    for (const tx of signed[k]) {
      if (performance.now() >= end) return;
      const t = performance.now();
      await client.submit(tx);
      s.next++;
      lat.push(performance.now() - t);
    }
    ranOut++;
  }));
  return { rate: lat.length / seconds, p50: pct(lat, 0.5), p99: pct(lat, 0.99), ranOut };
}

/** E simulated open pages in a child process (so they do not slow this process's load generator):
 *  each holds the live stream, and reads the overview and a nodes page every 2 s — more than an open
 *  page does (it redraws the overview from the stream and re-reads a table only when it changed). */
function simulatedBrowsersProc(url: string, n: number): { pid: number; stop(): Promise<{ requests: number; updates: number }> } {
  const [cmd, argv] = niced(NICE_PAGES, [process.execPath, new URL(import.meta.url).pathname, "--simulate", url, String(n), String(POLL_MS)]);
  const proc = spawn(cmd, argv, { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => { out += d.toString(); });
  return {
    pid: proc.pid!,
    async stop() {
      const e = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await e;
      return JSON.parse(out.trim().split("\n").pop() || '{"requests":0,"updates":0}') as { requests: number; updates: number };
    },
  };
}

function simulatedBrowsers(url: string, n: number, pollMs: number): { stop(): void; requests(): number; updates(): number } {
  const ac = new AbortController();
  let requests = 0, updates = 0;
  const read = async (path: string) => { await (await fetch(`${url}api/${path}`, { signal: ac.signal })).arrayBuffer(); requests++; };
  for (let i = 0; i < n; i++) {
    // One page in five shows the nodes table (re-read when nodes or contracts changed), the others
    // the overview (drawn from the stream itself), as the browser code does.
    const table = i % 5 === 0;
    const nodesPage = `nodes?sort=freeMru&desc=1&limit=25&offset=${(i * 25) % 500}`;
    void (async () => {
      await read(table ? nodesPage : "overview");
      const res = await fetch(`${url}api/live`, { signal: ac.signal });
      const reader = res.body!.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = Buffer.from(value).toString();
        updates += (text.match(/^event: update$/gm) ?? []).length;
        if (table && /"nodes":\[\d|"contracts":\[\d|"all":true/.test(text)) await read(nodesPage);
      }
    })().catch(() => undefined);
    if (pollMs > 0) {
      void (async () => {
        while (!ac.signal.aborted) {
          await Promise.all([read("overview"), read(nodesPage)]);
          await new Promise((r) => setTimeout(r, pollMs));
        }
      })().catch(() => undefined);
    }
  }
  return { stop: () => ac.abort(), requests: () => requests, updates: () => updates };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bench-explorer-"));
  const ledger = await startLedger(join(dir, "ledger"), { args: ["--faucet", "--block-interval", "200"] });
  try {
    process.stderr.write(`filling the ledger (${NODES} nodes, ${CONTRACTS} contracts)…\n`);
    await fill(ledger.client);
    const ledgerNodesBytes = (await (await fetch(`${ledger.url}/nodes`)).arrayBuffer()).byteLength;
    const ledgerContractsBytes = (await (await fetch(`${ledger.url}/contracts`)).arrayBuffer()).byteLength;

    // 2. Explorer start.
    const ex = await startExplorerProc(ledger.url);
    console.log(`explorer ready (mirror of ${NODES} nodes, ${CONTRACTS} contracts loaded): ${ms(ex.readyMs)}`);

    // 3. First paint.
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox"] });
    const fcp: number[] = [], drawn: number[] = [];
    for (let i = 0; i < 5; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const t0 = performance.now();
      await page.goto(ex.url);
      await page.waitForFunction(() => /\d+ \/ \d+/.test(document.getElementById("nodes-up")?.textContent ?? ""));
      drawn.push(performance.now() - t0);
      fcp.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1));
      await ctx.close();
    }
    await browser.close();
    console.log(`overview first-contentful-paint: median ${ms(pct(fcp, 0.5))}; figures drawn: median ${ms(pct(drawn, 0.5))}, max ${ms(Math.max(...drawn))}`);

    // 4. The nodes table, paged and filtered by the explorer.
    const lat: number[] = [];
    let pageBytes = 0;
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      const r = await fetch(`${ex.url}api/nodes?minCru=4&minSru=${100 * GiB}&gateway=${i % 2 ? "yes" : "no"}&sort=freeMru&desc=1&limit=25&offset=${(i % 4) * 25}`);
      pageBytes = (await r.arrayBuffer()).byteLength;
      lat.push(performance.now() - t);
    }
    console.log(`nodes table page (filter+sort+page of ${NODES} on the explorer): p50 ${ms(pct(lat, 0.5))}, p99 ${ms(pct(lat, 0.99))}; ${pageBytes} bytes vs the ledger's whole GET /nodes ${ledgerNodesBytes} bytes (GET /contracts: ${ledgerContractsBytes} bytes)`);
    await ex.stop();

    // 5. Inclusion rate without / with the explorer and E open pages / without.
    const senders: Sender[] = await pool(64, 16, async () => {
      const keys = generateKeyPair();
      const s = ledger.client.signer(keys);
      await ledger.client.faucet(await s.ensureTwin(), 10 ** 9);
      return { keys, next: (await ledger.client.account(keys.publicKey)).nonce + 1 };
    });
    const sink = await ledger.client.signer(generateKeyPair()).ensureTwin();
    await inclusionRate(ledger.client, senders, sink, 3); // warm-up: the first seconds run colder code on both sides
    // Alternating rounds, so the machine's drift (2 shared cores) falls on both sides alike.
    const without: number[] = [], withEx: number[] = [], cpuNotes: string[] = [];
    const fmt = (r: { rate: number; p50: number; p99: number; ranOut: number }) => `${r.rate.toFixed(0)} tx/s (p50 ${ms(r.p50)}, p99 ${ms(r.p99)}${r.ranOut ? `, ${r.ranOut} senders ran out of signed transfers` : ""})`;
    let served = 0, updates = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const a = await inclusionRate(ledger.client, senders, sink, SECONDS);
      without.push(a.rate);
      const ex2 = await startExplorerProc(ledger.url);
      const sim = simulatedBrowsersProc(ex2.url, EXPLORERS);
      await new Promise((r) => setTimeout(r, 1000)); // the pages open
      const cpu0 = [cpuSeconds(ex2.proc.pid!), cpuSeconds(sim.pid), cpuSeconds(ledger.proc.pid!)];
      const b = await inclusionRate(ledger.client, senders, sink, SECONDS);
      const cpu = [cpuSeconds(ex2.proc.pid!) - cpu0[0], cpuSeconds(sim.pid) - cpu0[1], cpuSeconds(ledger.proc.pid!) - cpu0[2]].map((c) => `${Math.round((100 * c) / SECONDS)}%`);
      cpuNotes.push(`explorer ${cpu[0]}, the ${EXPLORERS} pages ${cpu[1]}, the ledger ${cpu[2]}`);
      withEx.push(b.rate);
      const simmed = await sim.stop(); served += simmed.requests; updates += simmed.updates;
      await ex2.stop();
      console.log(`round ${round + 1}: inclusion without explorer ${fmt(a)}; with the explorer and ${EXPLORERS} open pages ${fmt(b)}; CPU of one core meanwhile: ${cpuNotes.at(-1)}`);
    }
    const med = (xs: number[]) => pct(xs, 0.5);
    const ratios = without.map((w, i) => withEx[i] / w);
    // Each round's two sides ran back to back: their ratio is the figure (the machine drifts between rounds).
    console.log(`inclusion rate with/without, per round: ${ratios.map((r) => r.toFixed(2)).join(", ")}; median ${pct(ratios, 0.5).toFixed(2)}`);
    console.log(`(sides' own medians over ${ROUNDS} rounds: without ${med(without).toFixed(0)} tx/s, with ${med(withEx).toFixed(0)} tx/s: ${served} page requests and ${updates} live updates served meanwhile)`);
  } finally {
    await ledger.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (args[0] === "--simulate") {
  const sim = simulatedBrowsers(args[1], Number(args[2]), Number(args[3]));
  process.on("SIGTERM", () => { sim.stop(); process.stdout.write(`${JSON.stringify({ requests: sim.requests(), updates: sim.updates() })}\n`); process.exit(0); });
} else await main();

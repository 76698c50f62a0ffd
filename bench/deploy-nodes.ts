// Simulated grid, node side (node dist/bench/deploy-nodes.js [--nodes 1000] [--seconds 30] [--rate 5]):
// N real node daemons (startNode with --simulate: identity, registration, the watcher's event
// subscription, verification, the engine, results, uptime reports every 10 s — everything but
// touching the machine) run in this one process against one bcdb, while a user keeps deploying 0-db
// namespaces to random nodes. Prints deploy-to-ok p50/p99 beside the bar (500 ms) and how
// many nodes the ledger sees up.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import pino from "pino";
import { generateKeyPair, seal, signDeployment, GiB, MiB, type Deployment } from "../src/core/index.js";
import { LedgerClient } from "../src/ledger/client/index.js";
import { startNode, type RunningNode } from "../src/node/index.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : NaN; };
const say = (s: string) => process.stderr.write(s + "\n");

const N = arg("nodes", 1000), SECONDS = arg("seconds", 30), RATE = arg("rate", 5);
const dir = mkdtempSync(join(tmpdir(), "bench-nodes-"));
const bcdb = spawn(process.execPath, [join(process.cwd(), "bin", "bcdb"), "--data", join(dir, "ledger"), "--port", "0", "--faucet", "--report-interval", "10", "--log-level", "error"], { stdio: ["ignore", "pipe", "inherit"] });
const url = (JSON.parse(await new Promise<string>((r) => createInterface({ input: bcdb.stdout! }).once("line", r))) as { url: string }).url;
const client = new LedgerClient(url);
const nodes: RunningNode[] = [];
try {
  const farmer = client.signer(generateKeyPair());
  await farmer.ensureTwin();
  const farmEv = (await farmer.send("farm.create", { name: "bench" })).events?.find((e) => e.type === "farm.created");
  const farmId = farmEv && farmEv.type === "farm.created" ? farmEv.farmId : 1;
  const log = pino({ level: "silent" });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, N - i) }, (_, j) => startNode({
      ledger: client, signerFor: (k) => client.signer(k), dataDir: join(dir, `n${i + j}`), farmId, underlay: `10.${(i + j) >> 8}.${(i + j) & 255}.1`,
      capacity: { cru: 8, mru: 32 * GiB, sru: 512 * GiB, hru: 4096 * GiB }, metricsPort: 0, reportIntervalMs: 10_000, simulate: true, log,
    })));
    nodes.push(...batch);
    say(`  ${nodes.length}/${N} nodes started`);
  }
  say(`${N} simulated nodes up in ${((performance.now() - t0) / 1000).toFixed(1)} s; deploying ${RATE}/s for ${SECONDS} s`);

  const userKeys = generateKeyPair();
  const user = client.signer(userKeys);
  const twinId = await user.ensureTwin();
  await client.faucet(twinId, 1e15);
  const sealKeys = new Map<number, string>();
  const times: number[] = [];
  let failed = 0;
  const deployOne = async () => {
    const n = nodes[Math.floor(Math.random() * nodes.length)];
    let sk = sealKeys.get(n.nodeId);
    if (!sk) { sk = (await client.node(n.nodeId)).sealKey; sealKeys.set(n.nodeId, sk); }
    const d: Deployment = {
      version: 0, twinId, nodeId: n.nodeId, metadata: "", description: "",
      signatureRequirement: { requests: [{ twinId, weight: 1, required: false }], weightRequired: 1 },
      workloads: [{ name: "db", type: "zdb", version: 0, description: "", data: { size: 64 * MiB, mode: "user", password: seal("bench", sk), public: false } }],
    };
    const start = performance.now();
    const ev = (await user.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, userKeys.privateKey) })).events?.find((e) => e.type === "contract.created");
    const id = ev && ev.type === "contract.created" ? ev.contractId : 0;
    for (const end = start + 30_000; performance.now() < end;) {
      if ((await client.contract(id)).results.db?.state === "ok") { times.push(performance.now() - start); return; }
      await new Promise((r) => setTimeout(r, 10));
    }
    failed++;
  };
  const inflight: Promise<void>[] = [];
  const until = performance.now() + SECONDS * 1000;
  while (performance.now() < until) {
    inflight.push(deployOne().catch(() => { failed++; }));
    await new Promise((r) => setTimeout(r, 1000 / RATE));
  }
  await Promise.all(inflight);
  const up = (await client.nodes({ status: "up" })).length;
  const rss = process.memoryUsage().rss / MiB;
  console.log("| nodes | up (ledger) | deployments | failed | deploy→ok p50 | p99 | bar | RSS of the node process |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  console.log(`| ${N} | ${up} | ${times.length} | ${failed} | ${pct(times, 50).toFixed(0)} ms | ${pct(times, 99).toFixed(0)} ms | 500 ms (ratio ${(pct(times, 50) / 500).toFixed(2)}) | ${rss.toFixed(0)} MiB |`);
} finally {
  await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
  bcdb.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}

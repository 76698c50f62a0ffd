// Kosmos/grid benchmark (node dist/bench/deploy.js [--deployments 50] [--nodes 1000]):
// 1. deploy-to-ok: on a local grid (real bcdb, zos and 0-db), time from Kosmos.deploy() of one
//    0-db namespace to its `ok` result; median and p99 over 50 deployments, beside the issue's bar
//    (500 ms) and TFChain's block time (6 s).
// 2. simulated nodes: how many nodes one ledger serves while each reports every 10 s and
//    deployments go on. Each simulated node is a twin with its own key that registers and sends
//    signed node.report transactions — the ledger's share of a node's work — from this process.
import { mkdtempSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { gridUp, gridDown } from "../src/grid/index.js";
import { Kosmos, parseDeploymentText, ConfigStore } from "../src/kosmos/index.js";
import { LedgerClient } from "../src/ledger/client/index.js";
import { generateKeyPair, generateSealKeyPair, GiB, seal, signDeployment, deploymentSchema } from "../src/core/index.js";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
const log = (s: string) => process.stderr.write(s + "\n");

async function deployToOk(count: number): Promise<{ median: number; p99: number; n: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-grid-"));
  try {
    await gridUp({ dir, nodes: 1, example: join(process.cwd(), "examples", "hello.yaml"), note: (l) => log(`  grid: ${l}`) });
    const store = new ConfigStore(join(dir, "user"), async () => readFileSync(join(dir, "user", ".passphrase"), "utf8").trim());
    const { keys } = await store.identity();
    const url = (store.settings().ledgerUrl)!;
    const k = new Kosmos({ ledgerUrl: url, keys });
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const spec = parseDeploymentText(`name: b${i}\nzdbs: [{name: db, size: 64MiB, password: bench-${i}}]\n`);
      const t0 = performance.now();
      await k.deploy(spec, { timeoutMs: 30_000 });
      times.push(performance.now() - t0);
    }
    return { median: pct(times, 50), p99: pct(times, 99), n: times.length };
  } finally {
    await gridDown({ dir, note: () => {} });
    rmSync(dir, { recursive: true, force: true });
  }
}

async function startLedger(dir: string): Promise<{ url: string; stop: () => void }> {
  const p = spawn(process.execPath, [join(process.cwd(), "bin", "bcdb"), "--data", dir, "--port", "0", "--faucet", "--report-interval", "10"], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise<string>((r) => createInterface({ input: p.stdout! }).once("line", r));
  return { url: (JSON.parse(line) as { url: string }).url, stop: () => p.kill("SIGTERM") };
}

async function simulatedNodes(target: number): Promise<Array<{ nodes: number; up: number; reportP50: number; reportP99: number; deployP50: number; deployP99: number; deploys: number }>> {
  const dir = mkdtempSync(join(tmpdir(), "bench-sim-"));
  const ledger = await startLedger(dir);
  const client = new LedgerClient(ledger.url);
  const out = [];
  try {
    const farmer = client.signer(generateKeyPair());
    await farmer.ensureTwin();
    await farmer.send("farm.create", { name: "sim" });
    const farmId = (await client.farms())[0].id;
    const userKeys = generateKeyPair();
    const user = client.signer(userKeys);
    const userTwin = await user.ensureTwin();
    await client.faucet(userTwin, 1_000_000_000);
    const nodes: Array<{ id: number; signer: ReturnType<LedgerClient["signer"]>; sealKey: string }> = [];
    const steps = [Math.min(250, target), Math.min(500, target), target].filter((v, i, a) => a.indexOf(v) === i);
    for (const step of steps) {
      // Register up to `step` nodes, 50 at a time.
      while (nodes.length < step) {
        const batch = Array.from({ length: Math.min(50, step - nodes.length) }, async () => {
          const s = client.signer(generateKeyPair());
          await s.ensureTwin();
          const sk = generateSealKeyPair().publicKey;
          await s.send("node.register", { farmId, capacity: { cru: 8, mru: 32 * GiB, sru: 1000 * GiB, hru: 4000 * GiB }, sealKey: sk, underlay: `10.99.${nodes.length >> 8}.${nodes.length & 255}` });
          const a = await client.account(s.publicKey);
          return { twin: a.twinId!, signer: s, sealKey: sk };
        });
        for (const b of await Promise.all(batch)) {
          const all = await client.nodes({ farmId });
          const n = all.find((x) => x.twinId === b.twin)!;
          nodes.push({ id: n.id, signer: b.signer, sealKey: b.sealKey });
        }
      }
      log(`  ${nodes.length} simulated nodes registered; 30 s of reports every 10 s with deployments going on`);
      const reportLat: number[] = [], deployLat: number[] = [];
      const end = Date.now() + 30_000;
      let stop = false;
      const reporters = nodes.map(async (n, i) => {
        await new Promise((r) => setTimeout(r, (i * 10_000) / nodes.length)); // spread over the interval
        while (!stop && Date.now() < end) {
          const t0 = performance.now();
          await n.signer.send("node.report", { nodeId: n.id, uptime: 1, used: { cru: 0, mru: 0, sru: 0, hru: 0 } }).catch(() => {});
          reportLat.push(performance.now() - t0);
          await new Promise((r) => setTimeout(r, 10_000 - (performance.now() - t0)));
        }
      });
      let d = 0;
      const deployer = (async () => {
        while (Date.now() < end) {
          const n = nodes[d % nodes.length];
          const dep = deploymentSchema.parse({
            version: 0, twinId: userTwin, nodeId: n.id, metadata: JSON.stringify({ name: `s${step}-${d}` }),
            signatureRequirement: { requests: [{ twinId: userTwin, weight: 1 }], weightRequired: 1 },
            workloads: [{ name: "db", type: "zdb", version: 0, data: { size: GiB, password: seal("pw", n.sealKey) } }],
          });
          const t0 = performance.now();
          await user.send("contract.create", { deployment: dep, deploymentSignature: signDeployment(dep, userKeys.privateKey) });
          deployLat.push(performance.now() - t0);
          d++;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await Promise.all([...reporters, deployer]);
      stop = true;
      const up = (await client.nodes({ status: "up" })).length;
      out.push({ nodes: nodes.length, up, reportP50: pct(reportLat, 50), reportP99: pct(reportLat, 99), deployP50: pct(deployLat, 50), deployP99: pct(deployLat, 99), deploys: deployLat.length });
    }
  } finally {
    ledger.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

const count = arg("deployments", 50);
const target = arg("nodes", 1000);
if (count > 0) {
  log(`deploy-to-ok over ${count} deployments on a local grid...`);
  const d = await deployToOk(count);
  console.log(`deploy → ok (one 0-db namespace, ${d.n} deployments): median ${d.median.toFixed(0)} ms, p99 ${d.p99.toFixed(0)} ms`);
  console.log(`  bar 500 ms: median/bar = ${(d.median / 500).toFixed(2)}; TFChain's 6 s block time alone: median/6000 ms = ${(d.median / 6000).toFixed(3)}`);
}
if (target <= 0) process.exit(0);
log(`simulated nodes up to ${target}...`);
const rows = await simulatedNodes(target);
console.log("nodes  up     report p50/p99 ms   contract.create p50/p99 ms   deployments in 30 s");
for (const r of rows) {
  console.log(`${String(r.nodes).padEnd(6)} ${String(r.up).padEnd(6)} ${`${r.reportP50.toFixed(0)}/${r.reportP99.toFixed(0)}`.padEnd(19)} ${`${r.deployP50.toFixed(0)}/${r.deployP99.toFixed(0)}`.padEnd(28)} ${r.deploys}`);
}
console.log(`  bar: 1,000 nodes each reporting every 10 s, all up (${rows.at(-1)!.up}/${rows.at(-1)!.nodes})`);

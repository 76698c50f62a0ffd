// Benchmark: our 0-db beside Redis (no persistence) under the same redis-benchmark runs, plus memory
// for 1,000,000 keys and the index load time. Run: node dist/bench/zdb.js [--quick]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = path.join(ROOT, "bin", "zdb");
const quick = process.argv.includes("--quick");
const N = quick ? 50000 : 200000;
const KEYS = quick ? 100000 : 1000000;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

async function waitPort(port: number): Promise<void> {
  const deadline = Date.now() + 60000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => { const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); }); s.on("error", () => r(false)); });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Proc { port: number; child: ChildProcess; stderr: () => string; stop: () => Promise<void>; }

async function startZdb(dir: string, extra: string[] = []): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, "--listen", "127.0.0.1", "--port", String(port), "--data", path.join(dir, "data"), "--index", path.join(dir, "index"), ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => { err += d; });
  await waitPort(port);
  return { port, child, stderr: () => err, stop: () => stop(child) };
}

async function startRedis(): Promise<Proc> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  await waitPort(port);
  return { port, child, stderr: () => "", stop: () => stop(child) };
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => { if (child.exitCode !== null) return r(); child.once("exit", () => r()); child.kill("SIGTERM"); });
}

function bench(port: number, d: number, P: number): { set: number; get: number } {
  process.stderr.write(`  redis-benchmark -p ${port} -d ${d} -P ${P}\n`);
  const r = spawnSync("redis-benchmark", ["-p", String(port), "-t", "set,get", "-n", String(N), "-c", "50", "-d", String(d), "-P", String(P), "--csv"], { encoding: "utf8" });
  const rps = (name: string) => {
    const m = new RegExp(`"${name}","([0-9.]+)"`).exec(r.stdout);
    return m ? Number(m[1]) : NaN;
  };
  return { set: rps("SET"), get: rps("GET") };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Loads KEYS keys of 16 bytes with 64-byte values over one pipelined connection. */
async function load(port: number, linesPerReply: number): Promise<number> {
  const t0 = Date.now();
  await new Promise<void>((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1");
    const value = Buffer.alloc(64, 120);
    let replies = 0, sent = 0, lines = 0;
    const batch = () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < 5000 && sent < KEYS; i++, sent++) {
        const key = `k${String(sent).padStart(15, "0")}`;
        parts.push(Buffer.from(`*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$64\r\n`), value, Buffer.from("\r\n"));
      }
      s.write(Buffer.concat(parts));
    };
    s.on("connect", batch);
    s.on("data", (d: Buffer) => {
      for (let i = 0; i < d.length; i++) if (d[i] === 10) lines++; // 0-db answers SET with the key, Redis with +OK
      replies = Math.floor(lines / linesPerReply);
      if (replies >= KEYS) { s.end(); resolve(); } else if (sent - replies < 10000 && sent < KEYS) batch();
    });
    s.on("error", reject);
  });
  return Date.now() - t0;
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "n/a");

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "zdb-bench-"));
  const rows: string[][] = [];
  try {
    const redis = await startRedis();
    const runs: Array<[string, number, number]> = [["-d 64 -P 1", 64, 1], ["-d 64 -P 32", 64, 32], ["-d 4096 -P 1", 4096, 1]];
    const anchor = new Map<string, { set: number; get: number }>();
    for (const [label, d, P] of runs) anchor.set(label, bench(redis.port, d, P));
    await redis.stop();
    for (const [variant, flags] of [["sync off", []], ["--synctime 1", ["--synctime", "1"]]] as Array<[string, string[]]>) {
      const dir = fs.mkdtempSync(path.join(tmp, "z-"));
      const z = await startZdb(dir, flags);
      for (const [label, d, P] of runs) {
        const ours = bench(z.port, d, P);
        const theirs = anchor.get(label)!;
        for (const op of ["set", "get"] as const) {
          rows.push([`${op.toUpperCase()} ${label}`, variant, fmt(ours[op]), fmt(theirs[op]), (ours[op] / theirs[op]).toFixed(2)]);
        }
      }
      await z.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }

    const dir = fs.mkdtempSync(path.join(tmp, "mem-"));
    let z = await startZdb(dir);
    const rssBefore = rssMb(z.child.pid!);
    const loadMs = await load(z.port, 2);
    const rss = rssMb(z.child.pid!);
    await z.stop();
    const t0 = Date.now();
    z = await startZdb(dir);
    const startMs = Date.now() - t0;
    const m = /"loadMs":(\d+)/.exec(z.stderr());
    const rssAfterRestart = rssMb(z.child.pid!);
    await z.stop();
    const redis2 = await startRedis();
    await load(redis2.port, 1);
    const redisRss = rssMb(redis2.child.pid!);
    await redis2.stop();

    const w = [24, 14, 14, 14, 8];
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join(" | ");
    console.log(`\n0-db vs Redis, redis-benchmark -t set,get -n ${N} -c 50 (req/s)\n`);
    console.log(line(["test", "0-db variant", "0-db", "redis", "ratio"]));
    console.log(w.map((x) => "-".repeat(x)).join("-|-"));
    for (const r of rows) console.log(line(r));
    console.log(`\nmemory, ${fmt(KEYS)} keys of 16 bytes with 64-byte values:`);
    console.log(`  0-db RSS: ${rss.toFixed(0)} MB (empty: ${rssBefore.toFixed(0)} MB; after restart: ${rssAfterRestart.toFixed(0)} MB)   redis RSS: ${redisRss.toFixed(0)} MB   ratio ${(rss / redisRss).toFixed(2)}`);
    console.log(`  load of the keys: ${loadMs} ms; index load at start-up: ${m ? m[1] : "?"} ms (process start to port open: ${startMs} ms)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

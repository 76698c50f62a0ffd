// Benchmark: our 0-db beside Redis (no persistence) under the same redis-benchmark runs, plus memory
// for 1,000,000 keys and the index load time. Run: node dist/bench/zdb.js [--quick] [--rounds N] [--only sync-off] [--bin PATH]
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { UnavailableError } from "../src/core/index.js";
import { freePort } from "../test/support.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const argVal = (name: string) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : undefined; };
const BIN = argVal("--bin") ?? path.join(ROOT, "bin", "zdb"); // --bin: another build, for before/after figures
const quick = process.argv.includes("--quick");
const N = quick ? 50000 : 200000;
const KEYS = quick ? 100000 : 1000000;
const ROUNDS = Number(argVal("--rounds") ?? (quick ? 1 : 5));
const only = argVal("--only"); // "sync-off": the sync-off throughput table only (no --synctime, no memory)

async function waitPort(port: number): Promise<void> {
  const deadline = Date.now() + 60000;
  for (;;) {
    const ok = await new Promise<boolean>((r) => { const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); }); s.on("error", () => r(false)); });
    if (ok) return;
    if (Date.now() > deadline) throw new UnavailableError(`port ${port} never opened`);
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

const CLK_TCK = 100; // Linux USER_HZ: /proc/PID/stat counts CPU time in 1/100 s

/** CPU seconds a process (all its threads) has used so far: the nanosecond run times of
 *  /proc/PID/task/TID/schedstat when there (user + system; a -P 32 run uses only ~0.1 s, too
 *  little for stat's 10 ms ticks), else utime + stime from /proc/PID/stat. */
function cpuSeconds(pid: number): number {
  try {
    let ns = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try { ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]); } catch { /* thread ended */ }
    }
    if (ns > 0) return ns / 1e9;
  } catch { /* no schedstat */ }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields after "(comm)"; utime/stime are fields 14/15
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

interface Run { rps: number; cpuUs: number; } // requests per second; server CPU microseconds per request

/** One redis-benchmark run of a single command; the server's CPU is read from /proc before and after. */
function bench(p: Proc, op: "set" | "get", d: number, P: number, extra: string[] = []): Run {
  const pid = p.child.pid!;
  const c0 = cpuSeconds(pid);
  const r = spawnSync("redis-benchmark", ["-p", String(p.port), "-t", op, "-n", String(N), "-c", "50", "-d", String(d), "-P", String(P), ...extra, "--csv"], { encoding: "utf8" });
  const cpu = cpuSeconds(pid) - c0;
  const m = new RegExp(`"${op.toUpperCase()}","([0-9.]+)"`).exec(r.stdout);
  return { rps: m ? Number(m[1]) : NaN, cpuUs: (cpu * 1e6) / N };
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function loadavg(): string { return os.loadavg().map((x) => x.toFixed(2)).join(" "); }

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
  const loadStart = loadavg();
  try {
    // redis-benchmark SETs one key to the same value again and again; 0-db does not rewrite an
    // unchanged value, so those rows measure the request path. The `-r` rows use random keys:
    // (nearly) every SET there is a new append.
    type Test = [label: string, d: number, P: number, extra: string[], ops: Array<"set" | "get">];
    const both: Array<"set" | "get"> = ["set", "get"];
    const tests: Test[] = [["-d 64 -P 1", 64, 1, [], both], ["-d 64 -P 32", 64, 32, [], both], ["-d 4096 -P 1", 4096, 1, [], both],
      ["-d 64 -P 1 -r 1M", 64, 1, ["-r", "1000000"], ["set"]], ["-d 64 -P 32 -r 1M", 64, 32, ["-r", "1000000"], ["set"]]];
    const variants: Array<[string, string[]]> = [["sync off", []], ["--synctime 1", ["--synctime", "1"]]];
    for (const [variant, flags] of only === "sync-off" ? variants.slice(0, 1) : variants) {
      // Both servers run side by side and the runs alternate (ours, redis, ours, redis, ...), so
      // both see the same background load; the median of the rounds is reported.
      const dir = fs.mkdtempSync(path.join(tmp, "z-"));
      const z = await startZdb(dir, flags);
      const redis = await startRedis();
      for (const [label, d, P, extra, ops] of tests) {
        for (const op of ops) {
          const ours: Run[] = [], theirs: Run[] = [];
          for (let i = 0; i < ROUNDS; i++) { ours.push(bench(z, op, d, P, extra)); theirs.push(bench(redis, op, d, P, extra)); }
          const o = { rps: median(ours.map((r) => r.rps)), cpu: median(ours.map((r) => r.cpuUs)) };
          const t = { rps: median(theirs.map((r) => r.rps)), cpu: median(theirs.map((r) => r.cpuUs)) };
          const row = [`${op.toUpperCase()} ${label}`, variant, fmt(o.rps), fmt(t.rps), (o.rps / t.rps).toFixed(2),
            o.cpu.toFixed(2), t.cpu.toFixed(2), (t.cpu / o.cpu).toFixed(2)];
          process.stderr.write(`  ${row.join(" | ")}  (rounds: ${ours.map((r) => fmt(r.rps)).join(", ")} vs ${theirs.map((r) => fmt(r.rps)).join(", ")}; load ${loadavg()})\n`);
          rows.push(row);
        }
      }
      await z.stop();
      await redis.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const loadEnd = loadavg();
    const w = [22, 13, 11, 11, 6, 11, 12, 9];
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join(" | ");
    console.log(`\n0-db vs Redis, redis-benchmark -n ${N} -c 50, one command per run, median of ${ROUNDS} interleaved rounds`);
    console.log(`${os.cpus().length} cores; load average (1/5/15 min) at start ${loadStart}, at end ${loadEnd}\n`);
    console.log(line(["test", "0-db variant", "0-db req/s", "redis req/s", "ratio", "0-db µs/req", "redis µs/req", "cpu ratio"]));
    console.log(w.map((x) => "-".repeat(x)).join("-|-"));
    for (const r of rows) console.log(line(r));
    console.log("\nratio = 0-db/redis throughput (higher is better); µs/req = server CPU (user+sys, all threads) per request;");
    console.log("cpu ratio = redis µs/req ÷ 0-db µs/req (1.00 = as cheap as Redis; far less sensitive to machine load than throughput)");
    if (only) return;

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

    console.log(`\nmemory, ${fmt(KEYS)} keys of 16 bytes with 64-byte values:`);
    console.log(`  0-db RSS: ${rss.toFixed(0)} MB (empty: ${rssBefore.toFixed(0)} MB; after restart: ${rssAfterRestart.toFixed(0)} MB)   redis RSS: ${redisRss.toFixed(0)} MB   ratio ${(rss / redisRss).toFixed(2)}`);
    console.log(`  load of the keys: ${loadMs} ms; index load at start-up: ${m ? m[1] : "?"} ms (process start to port open: ${startMs} ms)`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

await main();

// Detached daemons: each in its own process group (so `grid up` can return and `grid down` can stop
// the whole group), stdout to DIR/logs/NAME.out (where the readiness line appears), stderr appended
// to DIR/logs/NAME.log, its pid in DIR/run/NAME.pid. Each starts with a raised open-file limit
// (prlimit runs it: one pid, the limit in force from its first instruction).
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { UnavailableError } from "../core/index.js";
import { openFileLimit, pidAlive } from "../runtime/index.js";

export interface DaemonSpec {
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logDir: string;
  runDir: string;
  readyTimeoutMs?: number;
  /** Reads readiness from a stdout line (default: the first line that is a JSON object). */
  ready?: (line: string) => unknown;
  /** Open-file limit to start it with (default DAEMON_NOFILE; capped at what this process may grant). */
  nofile?: number;
}

/** A daemon's open-file limit: room for tens of thousands of connections plus its own files. */
export const DAEMON_NOFILE = 65536;

let raisable: number | undefined;
/** The highest open-file limit a child can be given: `want` where prlimit may raise the hard limit
 *  (root with CAP_SYS_RESOURCE), else our own hard limit (anyone may raise the soft one to it). */
function maxFileLimit(want: number): number {
  if (raisable === undefined) {
    const tried = spawnSync("prlimit", [`--nofile=${want}:${want}`, "--", "true"], { stdio: "ignore" });
    raisable = tried.status === 0 ? want : openFileLimit().hard;
  }
  return Math.min(want, raisable);
}

/** `command args` under `prlimit --nofile=N:N` when that raises the limit the child would inherit. */
function withFileLimit(command: string, args: string[], want: number): [string, string[]] {
  const now = openFileLimit();
  const limit = maxFileLimit(want);
  if (limit <= now.soft) return [command, args];
  return ["prlimit", [`--nofile=${limit}:${Math.max(limit, now.hard)}`, "--", command, ...args]];
}

function jsonLine(line: string): unknown {
  if (!line.trim().startsWith("{")) return undefined;
  try { return JSON.parse(line); } catch { return undefined; /* partial line: read again */ }
}


export function pidFile(runDir: string, name: string): string {
  return join(runDir, `${name}.pid`);
}

export function readPid(runDir: string, name: string): number | null {
  try {
    const n = parseInt(readFileSync(pidFile(runDir, name), "utf8"), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch { return null; }
}

export function runningPid(runDir: string, name: string): number | null {
  const pid = readPid(runDir, name);
  return pid !== null && pidAlive(pid) ? pid : null;
}

export function pidNames(runDir: string): string[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir).filter((f) => f.endsWith(".pid")).map((f) => f.slice(0, -4)).sort();
}

function tail(path: string, lines = 15): string {
  try { return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n"); } catch { return ""; }
}

/** Start a daemon and resolve with its pid and the first JSON line it prints on stdout. */
export async function startDaemon<T = unknown>(spec: DaemonSpec): Promise<{ pid: number; ready: T }> {
  mkdirSync(spec.logDir, { recursive: true });
  mkdirSync(spec.runDir, { recursive: true });
  const outPath = join(spec.logDir, `${spec.name}.out`);
  const errPath = join(spec.logDir, `${spec.name}.log`);
  const out = openSync(outPath, "w");
  const err = openSync(errPath, "a");
  const [command, args] = withFileLimit(spec.command, spec.args, spec.nofile ?? DAEMON_NOFILE);
  const child = spawn(command, args, { cwd: spec.cwd, env: spec.env ?? process.env, detached: true, stdio: ["ignore", out, err] });
  closeSync(out);
  closeSync(err);
  const pid = child.pid;
  if (pid === undefined) throw new UnavailableError(`${spec.name}: could not start ${spec.command}`);
  writeFileSync(pidFile(spec.runDir, spec.name), `${pid}\n`);
  let exited: string | null = null;
  child.on("exit", (code, signal) => { exited = signal ? `killed by ${signal}` : `exited with code ${code}`; });
  child.on("error", (e) => { exited = e.message; });
  child.unref();
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      const text = existsSync(outPath) ? readFileSync(outPath, "utf8") : "";
      for (const line of text.split("\n")) {
        const v = (spec.ready ?? jsonLine)(line);
        if (v !== undefined) return { pid, ready: v as T };
      }
      if (exited) throw new UnavailableError(`${spec.name} ${exited} before it was ready; its log (${errPath}) ends:\n${tail(errPath)}`);
      if (Date.now() > deadline) {
        await stopPid(pid, 2000);
        throw new UnavailableError(`${spec.name} was not ready within ${Math.round((spec.readyTimeoutMs ?? 30_000) / 1000)} s; its log (${errPath}) ends:\n${tail(errPath)}`);
      }
      await new Promise((r) => setTimeout(r, 40));
    }
  } finally {
    child.removeAllListeners("exit");
  }
}

async function waitGone(pids: number[], ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (pids.some(pidAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // The group first (the daemon and what it started), the process itself if it left its group.
  try { process.kill(-pid, sig); } catch { /* no such group */ }
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/** SIGTERM, then SIGKILL after `graceMs`. Resolves once every pid is gone. */
export async function stopPids(pids: number[], graceMs = 8000): Promise<void> {
  const live = pids.filter(pidAlive);
  for (const p of live) signal(p, "SIGTERM");
  if (await waitGone(live, graceMs)) return;
  for (const p of live.filter(pidAlive)) signal(p, "SIGKILL");
  await waitGone(live, 3000);
}

export function stopPid(pid: number, graceMs?: number): Promise<void> {
  return stopPids([pid], graceMs);
}

export function removePidFile(runDir: string, name: string): void {
  rmSync(pidFile(runDir, name), { force: true });
}

/** Every live process whose command line mentions `needle` (a grid's data folder): children a
 *  daemon started outside its group (a node's 0-db) are found this way. */
export function pidsMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (cmd.includes(needle) && pidAlive(pid)) out.push(pid);
    } catch { /* gone */ }
  }
  return out;
}

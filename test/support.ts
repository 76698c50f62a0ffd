// The small things every test folder needs, written once: waiting on a condition with a deadline,
// a free loopback port, a temp folder that removes itself when the test ends, and a real ledger.
import { AssertionError } from "node:assert";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { LedgerClient } from "../src/ledger/client/index.js";

/** The repository's root (tests run compiled, from dist/test). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Time between two probes (default 50 ms). */
  stepMs?: number;
}

/**
 * Calls `probe` until it returns a truthy value, and returns that value. A probe that throws is
 * "not yet" — except a failed assertion, which is the test's verdict and ends the wait at once.
 * When the deadline passes the error says what was awaited, for how long, and the last error the
 * probe threw, if any.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const stepMs = opts.stepMs ?? 50;
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      if (err instanceof AssertionError) throw err;
      last = err;
    }
    if (Date.now() > end) {
      const why = last === undefined ? "" : `: ${last instanceof Error ? last.message : String(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A port that was free on `host` a moment ago (the kernel's pick of an ephemeral one). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** What tempDir needs of a node:test context. */
export interface AfterHooks { after(fn: () => void | Promise<void>): void }

/**
 * A new folder under the system temp folder, removed when the test ends. node:test runs `t.after`
 * hooks in the order they were registered, so a test whose processes live in the folder registers
 * their teardown BEFORE calling tempDir: they stop first, then the folder goes.
 */
export function tempDir(t: AfterHooks, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix.endsWith("-") ? prefix : `${prefix}-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Stops a child: `signal`, then SIGKILL if it has not exited within `graceMs`; a no-op once it has exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill(signal);
  const kill = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(kill);
}

export interface LedgerOptions {
  /** More bcdb arguments (`--faucet`, `--block-interval 200`, …); `--log-level warn` unless one is given. */
  args?: string[];
  /** The port to listen on (default 0: the kernel picks one; the ready line says which). */
  port?: number;
  /** Stop the ledger when this test ends (register it before tempDir so it stops before its folder goes). */
  t?: AfterHooks;
  /** How long bcdb may take to print its ready line (default 15 s). */
  readyTimeoutMs?: number;
}

export interface Ledger {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  client: LedgerClient;
  /** The last 20 KB bcdb wrote on stderr. */
  stderr(): string;
  /** SIGTERM (or `signal`), then SIGKILL after 10 s; resolves once it exited. Idempotent. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A real bcdb (bin/bcdb) with its data in `dir`, ready once it printed its JSON ready line. The one
 * way tests start a ledger: test/kosmos uses it; test/node/grid.ts, test/ledger/helpers.ts and
 * bench/deploy*.ts still have their own copies, to move here.
 */
export async function startLedger(dir: string, opts: LedgerOptions = {}): Promise<Ledger> {
  const args = opts.args ?? [];
  const logLevel = args.includes("--log-level") ? [] : ["--log-level", "warn"];
  const proc = spawn(process.execPath, [join(REPO_ROOT, "bin", "bcdb"), "--data", dir, "--port", String(opts.port ?? 0), ...logLevel, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => { err = (err + d.toString()).slice(-20_000); });
  const stop = (signal: NodeJS.Signals = "SIGTERM") => stopChild(proc, signal);
  opts.t?.after(() => stop());
  const timeoutMs = opts.readyTimeoutMs ?? 15_000;
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { void stop("SIGKILL"); reject(new Error(`bcdb did not get ready in ${timeoutMs} ms: ${err}`)); }, timeoutMs);
    proc.once("exit", (code, signal) => { clearTimeout(timer); reject(new Error(`bcdb exited (${code ?? signal}) before it was ready: ${err}`)); });
    createInterface({ input: proc.stdout! }).once("line", (l) => { clearTimeout(timer); resolve(l); });
  });
  proc.stdout!.resume();
  const { url } = JSON.parse(line) as { url: string };
  return { url, port: Number(new URL(url).port), dir, proc, client: new LedgerClient(url), stderr: () => err, stop };
}

// The small things every test folder needs, written once: waiting on a condition with a deadline,
// a free loopback port, and a temp folder that removes itself when the test ends.
import { AssertionError } from "node:assert";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

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

// The one suite every executor passes (hono's common.case.test.ts is the model): each
// implementation's test file calls runConformance with a factory, and names with a reason any case
// it does not support.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { NotFoundError, TimeoutError } from "../../../src/core/index.js";
import type { Executor } from "../../../src/kosmos/executors/index.js";
import { tempDir, type AfterHooks } from "../../support.js";

export interface ConformanceTarget {
  executor: Executor;
  /** A folder the executor can write, empty, removed after the test. */
  scratch: string;
}

export interface ConformanceOptions {
  name: string;
  /** Makes a fresh target for one case (register cleanup on `t`). */
  make(t: AfterHooks): Promise<Executor>;
  /** Case name → why this implementation does not support it. */
  skip?: Record<string, string>;
}

export const CASES = [
  "exit code, stdout and stderr apart",
  "argv is passed without shell interpretation",
  "stdin reaches the command",
  "env and cwd apply to the command",
  "output streams before the command ends",
  "large output arrives whole",
  "put and get a binary file, with its mode",
  "a missing file is not_found",
  "a command past its timeout is killed: timeout",
  "env() is the environment commands start with",
] as const;

export function runConformance(opts: ConformanceOptions): void {
  const cases: Record<(typeof CASES)[number], (x: Executor, scratch: string) => Promise<void>> = {
    "exit code, stdout and stderr apart": async (x) => {
      const r = await x.run("echo out; echo err >&2; exit 3");
      assert.deepEqual([r.code, r.stdout, r.stderr], [3, "out\n", "err\n"]);
      assert.equal((await x.run(["true"])).code, 0);
      const killed = await x.run("kill -9 $$");
      assert.deepEqual([killed.code, killed.signal], [null, "SIGKILL"]);
    },
    "argv is passed without shell interpretation": async (x) => {
      const r = await x.run(["printf", "%s|", "a b", "it's", "$HOME", "*", "`id`", "\"q\"", ""]);
      assert.equal(r.stdout, "a b|it's|$HOME|*|`id`|\"q\"||");
    },
    "stdin reaches the command": async (x) => {
      const r = await x.run(["wc", "-c"], { stdin: Buffer.alloc(100_000, 7) });
      assert.equal(r.stdout.trim(), "100000");
      assert.equal((await x.run("cat", { stdin: "hello\n" })).stdout, "hello\n");
    },
    "env and cwd apply to the command": async (x, scratch) => {
      const r = await x.run("printf '%s|' \"$FOO\" \"$BAR\" \"$(pwd)\"", { env: { FOO: "bar baz", BAR: "it's $x" }, cwd: scratch });
      assert.equal(r.stdout, `bar baz|it's $x|${scratch}|`);
      const a = await x.run(["sh", "-c", "echo $ONLY"], { env: { ONLY: "argv too" } });
      assert.equal(a.stdout, "argv too\n");
    },
    "output streams before the command ends": async (x, scratch) => {
      // The command prints, then waits for a flag file that the test creates only after it saw the
      // first line: it can finish only if the line arrived while it was running.
      const flag = join(scratch, "go");
      const seen: string[] = [];
      let created: Promise<void> | undefined;
      const r = await x.run(`echo first; while [ ! -e ${flag} ]; do sleep 0.02; done; echo second`, {
        timeoutMs: 15_000,
        onStdout: (d) => { seen.push(d.toString()); if (!created && seen.join("").includes("first")) created = x.putFile(flag, ""); },
      });
      await created;
      assert.equal(r.stdout, "first\nsecond\n");
      assert.ok(seen.length >= 2, "two chunks at least: one before the flag, one after");
    },
    "large output arrives whole": async (x) => {
      const r = await x.run(["seq", "1", "200000"]);
      assert.equal(r.stdout.length, 1_288_895);
      assert.ok(r.stdout.endsWith("\n199999\n200000\n"));
    },
    "put and get a binary file, with its mode": async (x, scratch) => {
      const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(1 << 20)]);
      const p = join(scratch, "blob.bin");
      await x.putFile(p, data, { mode: 0o600 });
      assert.ok((await x.getFile(p)).equals(data));
      assert.equal((await x.run(["stat", "-c", "%a %s", p])).stdout.trim(), `600 ${data.length}`);
      await x.putFile(p, "replaced");
      assert.equal((await x.getFile(p)).toString(), "replaced");
      assert.equal((await x.run(["stat", "-c", "%a", p])).stdout.trim(), "644");
      assert.equal((await x.run(["sh", "-c", `ls -a ${scratch} | grep -c tmp || true`])).stdout.trim(), "0", "no temporary file left behind");
    },
    "a missing file is not_found": async (x, scratch) => {
      await assert.rejects(x.getFile(join(scratch, "nope")), NotFoundError);
      await assert.rejects(x.putFile(join(scratch, "no", "such", "dir"), "x"), NotFoundError);
    },
    "a command past its timeout is killed: timeout": async (x, scratch) => {
      const pidFile = join(scratch, "pid");
      const t0 = Date.now();
      await assert.rejects(x.run(`echo $$ > ${pidFile}; exec sleep 30`, { timeoutMs: 500 }), TimeoutError);
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      const pid = (await x.getFile(pidFile)).toString().trim();
      // The command is gone, not left running: kill -0 fails once it has been reaped.
      const { waitFor } = await import("../../support.js");
      await waitFor("the timed-out command to be gone", async () => (await x.run(["kill", "-0", pid])).code !== 0, { timeoutMs: 5000 });
    },
    "env() is the environment commands start with": async (x) => {
      const env = await x.env();
      assert.ok(env.PATH && env.PATH.includes("/bin"), "PATH");
      assert.equal((await x.run("printf %s \"$PATH\"")).stdout, env.PATH);
    },
  };
  for (const name of CASES) {
    const reason = opts.skip?.[name];
    test(`${opts.name}: ${name}`, { skip: reason ?? false, timeout: 60_000 }, async (t) => {
      const scratch = tempDir(t, "kosmos-exec");
      const x = await opts.make(t);
      t.after(() => x.close());
      await cases[name](x, scratch);
    });
  }
}

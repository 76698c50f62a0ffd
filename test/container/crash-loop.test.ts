// A container that keeps exiting is restarted by the node, and after CRASH_LOOP.restarts exits within
// CRASH_LOOP.windowMs its result is `error`: the exit, the restart and OOM counts and the last lines of
// its output (kept in its log file on the node) are in the result, bounded. Each exit is reported
// by itself (the context's `changed`), not at the next periodic check.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { WorkloadOf } from "../../src/core/index.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { CRASH_LOOP } from "../../src/node/container/supervisor.js";
import { TAIL } from "../../src/node/container/logs.js";
import { waitFor } from "../support.js";
import { captureLogger, ctxFor, useExampleHub } from "./helpers.js";

const MiB = 1024 * 1024;
const fx = useExampleHub("crash-loop-test-");

/** A small container of the example flist that runs `script` under /bin/sh. */
function shellContainer(name: string, script: string): WorkloadOf<"container"> {
  return {
    name, version: 0, description: "", type: "container",
    data: { flist: fx.example.address, entrypoint: `/bin/sh -c '${script}'`, env: {}, secretEnv: {}, cpu: 1, memory: 32 * MiB, rootfsSize: 32 * MiB, mounts: [] },
  };
}

test("a crash-looping container is reported error with its exit code and last output; each exit is told at once", { timeout: 60_000 }, async (t) => {
  const dataDir = join(fx.work, "node-crash");
  const { log } = captureLogger();
  // 40 lines per run (more than the tail keeps), then a failure exit.
  const w = shellContainer("crashy", "for i in $(seq 0 39); do echo line-$i; done; echo about to fail >&2; sleep 0.3; exit 3");
  const ctx = ctxFor(dataDir, 21, [w], log);
  let told = 0;
  ctx.changed = () => { told++; };
  const p = new ContainerProvisioner({ pollMs: 20, backoff: { baseMs: 20, maxMs: 40 } });
  try {
    const first = await p.provision(ctx, w);
    assert.equal(first.restarts, 0);
    const reports: Array<{ state: string; message: string; data: Record<string, unknown> }> = [];
    const failing = await waitFor("the crash loop to be reported", async () => {
      const h = await p.check(ctx);
      assert.equal(h.ok, true, "a restarted container is not made again");
      if (h.report) reports.push(h.report);
      return h.report?.state === "error" ? h.report : null;
    }, { timeoutMs: 30_000, stepMs: 20 });
    assert.ok(told >= CRASH_LOOP.restarts, `each exit was told (${told})`);
    assert.ok(reports.filter((r) => r.state === "ok").every((r) => /exited .*; restarted/.test(r.message)), "exits before the loop are ok, with the reason");
    assert.match(failing.message, new RegExp(`^crash loop: ${CRASH_LOOP.restarts} restarts within ${CRASH_LOOP.windowMs / 1000}s`));
    assert.match(failing.message, /about to fail$/, "its last output line ends the message");
    assert.ok(Number(failing.data.restarts) >= CRASH_LOOP.restarts);
    assert.equal(failing.data.oomKills, 0);
    assert.equal(failing.data.crashLoop, true);
    const output = String(failing.data.output);
    const lines = output.split("\n");
    assert.ok(lines.length <= TAIL.lines && Buffer.byteLength(output) <= TAIL.bytes, "bounded tail");
    assert.equal(lines.at(-1), "about to fail");
    assert.equal(lines.at(-2), "line-39");
    // The code is known when the node saw the process as a zombie (it is not its parent): then it is right.
    if (failing.data.exitCode !== undefined) assert.equal(failing.data.exitCode, 3);
    t.diagnostic(`exit code seen: ${String(failing.data.exitCode)}; message: ${failing.message.split("\n")[0]}`);
    // It keeps failing: the next report (another exit) is still error, never ok.
    const before = told;
    await waitFor("another exit", () => told > before, { timeoutMs: 10_000 });
    const next = await p.check(ctx);
    assert.equal(next.report?.state, "error");
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
});

test("a crash loop ends: once the container stays up a whole window its result is ok again", { timeout: 60_000 }, async () => {
  const dataDir = join(fx.work, "node-recover");
  const { log } = captureLogger();
  // Its writable root outlives its process: the sixth run stays up.
  const w = shellContainer("recovers", "n=$(cat /runs 2>/dev/null || echo 0); n=$((n+1)); echo $n > /runs; echo run $n; [ $n -ge 4 ] && exec sleep 1000; sleep 0.2; exit 2");
  const ctx = ctxFor(dataDir, 22, [w], log);
  const p = new ContainerProvisioner({ pollMs: 20, backoff: { baseMs: 20, maxMs: 40 }, crashLoop: { restarts: 3, windowMs: 1500 } });
  try {
    await p.provision(ctx, w);
    const seen: string[] = [];
    const next = async (state: string) => waitFor(`a report ${state}`, async () => {
      const h = await p.check(ctx);
      if (h.report) seen.push(h.report.state);
      return h.report?.state === state && seen.includes("error") ? h.report : null;
    }, { timeoutMs: 20_000, stepMs: 20 });
    const failing = await next("error");
    assert.match(failing.message, /^crash loop: 3 restarts within 1\.5s/);
    const ok = await next("ok");
    assert.equal(ok.data.crashLoop, false, "no longer in a crash loop");
    assert.equal(ok.data.restarts, 3);
    assert.equal(p.manager(dataDir, log).status(ctx.workloadId)?.state, "running");
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
});

// A failed workload stays failed while the node retries it: after the first error its result is
// `error` with the latest reason and the count of tries, never `init` again, until a step succeeds;
// a new spec (a re-deploy) starts fresh with `init`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSealKeyPair, MiB, UnavailableError, type Deployment } from "../../src/core/index.js";
import { Engine } from "../../src/node/engine.js";
import { WorkloadStore } from "../../src/node/store.js";
import { ResultPoster } from "../../src/node/results.js";
import { defineProvisioner } from "../../src/node/provisioners/types.js";
import { tempDir, waitFor, quietLog } from "./helpers.js";

interface Posted { name: string; state: string; message: string; data: Record<string, unknown> }

test("transient failures: the result stays error with the retry count until ok; a new version starts at init", async (t) => {
  t.after(async () => { await engine.stop(); results.close(); });
  const dir = tempDir(t, "zos-engine-retries");
  const posted: Posted[] = [];
  const results = new ResultPoster({ send: async (_type, p) => { for (const r of (p as { results: Posted[] }).results) posted.push(r); return {}; } }, quietLog, () => 0, 1);
  let calls = 0;
  let failUntil = 4;
  const flaky = defineProvisioner({
    type: "volume",
    provision: async (ctx) => {
      calls++;
      ctx.progress("downloading 10%"); // progress of a retried step must not read as `init`
      // Long enough for the batch before it to leave (results close together travel as one, the last word per workload).
      await new Promise((r) => setTimeout(r, 15));
      if (calls < failUntil) throw new UnavailableError(`hub unreachable (call ${calls})`);
      return { calls };
    },
    deprovision: async () => {}, pause: async () => {}, resume: async () => ({}), check: async () => ({ ok: true }),
  });
  const engine = new Engine({
    nodeId: 1, dataDir: dir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), capacity: { cru: 1, mru: 1, sru: 100 * MiB, hru: 0 },
    log: quietLog, registry: { volume: flaky }, store: new WorkloadStore(dir), results, retry: { baseMs: 20, maxMs: 40 },
  });
  await engine.load();
  const d = (size: number, version: number): Deployment => ({
    version, twinId: 2, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 },
    workloads: [{ name: "v", type: "volume", version, description: "", data: { size } }],
  });
  const apply = (dep: Deployment) => engine.apply({ id: 7, twinId: 2, nodeId: 1, state: "active", approvedVersion: dep.version, approvedDeployment: dep, approvedSignatures: [] }, { ok: true, deployment: dep, version: dep.version });
  apply(d(MiB, 0));
  await waitFor("v ok after three failures", () => posted.some((r) => r.state === "ok"), { timeoutMs: 5000 });
  const states = posted.map((r) => r.state);
  assert.equal(states[0], "init", "the first try shows init");
  const firstError = states.indexOf("error");
  assert.ok(firstError > 0);
  assert.ok(!states.slice(firstError).includes("init"), `never init again after an error: ${states.join(",")}`);
  const errors = posted.filter((r) => r.state === "error");
  assert.deepEqual(errors.map((r) => r.message), [
    "hub unreachable (call 1)", "hub unreachable (call 2) (tried 2 times)", "hub unreachable (call 3) (tried 3 times)",
  ]);
  assert.deepEqual(errors.map((r) => r.data.retries), [0, 1, 2]);
  assert.ok(errors.every((r) => r.data.code === "unavailable" && r.data.retrying === true));
  assert.equal(posted.at(-1)!.state, "ok");

  // A re-deploy (a new spec) starts fresh: init first, the count from one.
  const before = posted.length;
  calls = 0; failUntil = 2;
  apply(d(2 * MiB, 1));
  await waitFor("v ok again", () => posted.slice(before).some((r) => r.state === "ok"), { timeoutMs: 5000 });
  const again = posted.slice(before);
  assert.equal(again[0].state, "init");
  assert.deepEqual(again.filter((r) => r.state === "error").map((r) => r.message), ["hub unreachable (call 1)"]);
});

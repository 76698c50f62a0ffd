// zos posts results only for what the contract holds now: nothing for a workload a newer version
// dropped or for a deleted contract (apart from each workload's final `deleted`), even from a step
// that outlives its workload; and a result the ledger refuses is dropped, never retried in a loop.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConflictError, generateSealKeyPair, MiB, UnavailableError, type Deployment, type Workload } from "../../src/core/index.js";
import { Engine } from "../../src/node/engine.js";
import { WorkloadStore } from "../../src/node/store.js";
import { ResultPoster } from "../../src/node/results.js";
import { defineProvisioner, type WorkloadContext } from "../../src/node/provisioners/types.js";
import type { ContractView } from "../../src/node/ledger.js";
import { tempDir, waitFor, quietLog } from "./helpers.js";

interface Sent { contractId: number; version: number; name: string; state: string; message: string }

function deploymentOf(version: number, workloads: Workload[]): Deployment {
  return { version, twinId: 2, nodeId: 1, metadata: "", description: "", signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 }, workloads };
}
const vol = (name: string): Workload => ({ name, type: "volume", version: 0, description: "", data: { size: MiB } });

test("results: nothing for a dropped workload or a deleted contract but the final deleted, even from a step that outlives it", async (t) => {
  t.after(async () => { await engine.stop(); results.close(); });
  const dir = tempDir(t, "zos-results-gate");
  const sent: Sent[] = [];
  const results = new ResultPoster({
    send: async (_type, p) => {
      const { contractId, version, results: rs } = p as { contractId: number; version: number; results: Sent[] };
      for (const r of rs) sent.push({ ...r, contractId, version });
      return {};
    },
  }, quietLog, () => 0, 1);
  // "slow" never finishes by itself and ignores its abort signal for a while, then reports
  // progress and fails: what a provisioner stuck in a system call does.
  const late: Array<{ ctx: WorkloadContext; fail: (e: Error) => void }> = [];
  const p = defineProvisioner({
    type: "volume",
    provision: (ctx) => ctx.workloadId.endsWith("slow") ? new Promise((_r, fail) => { late.push({ ctx, fail }); }) : Promise.resolve({ ok: 1 }),
    deprovision: async () => {}, pause: async () => {}, resume: async () => ({}), check: async () => ({ ok: true }),
  });
  const store = new WorkloadStore(dir);
  const engine = new Engine({
    nodeId: 1, dataDir: dir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), capacity: { cru: 1, mru: MiB, sru: 100 * MiB, hru: 0 },
    log: quietLog, registry: { volume: p }, store, results, retry: { baseMs: 10, maxMs: 20 },
  });
  results.restrict((c, v, n, s) => engine.allowsResult(c, v, n, s));
  await engine.load();
  const apply = (id: number, version: number, workloads: Workload[], state: ContractView["state"] = "active") => {
    const d = deploymentOf(version, workloads);
    engine.apply({ id, twinId: 2, nodeId: 1, state, approvedVersion: version, approvedDeployment: d, approvedSignatures: [] }, state === "deleted" ? { ok: false, reason: "deleted" } : { ok: true, deployment: d, version });
  };

  // Contract 1: version 1 drops "slow" while its step hangs; the step then reports and fails.
  apply(1, 0, [vol("keep"), vol("slow")]);
  await waitFor("keep ok, slow stuck", () => sent.some((r) => r.name === "keep" && r.state === "ok") && late.length === 1);
  await new Promise((r) => setTimeout(r, 20));
  const before = sent.length;
  apply(1, 1, [vol("keep")]);
  late[0].ctx.progress("still formatting");
  late[0].fail(new Error("late failure of a dropped workload"));
  await waitFor("slow's deleted result", () => sent.some((r) => r.name === "slow" && r.state === "deleted"));

  // Contract 2: deleted while its step hangs.
  apply(2, 0, [vol("slow")]);
  await waitFor("contract 2 stuck", () => late.length === 2 && sent.some((r) => r.contractId === 2 && r.state === "init"));
  apply(2, 0, [vol("slow")], "deleted");
  late[1].ctx.progress("still formatting");
  late[1].fail(new Error("late failure after deletion"));
  await waitFor("contract 2's deleted result", () => sent.some((r) => r.contractId === 2 && r.state === "deleted"));
  // Results of a contract the engine knows is deleted are withheld even when asked directly.
  results.post(2, 0, "slow", "error", "from elsewhere");
  results.post(1, 1, "gone", "ok", "never in the contract");
  results.post(1, 0, "keep", "ok", "an older version");

  await new Promise((r) => setTimeout(r, 100));
  const after = sent.slice(before).filter((r) => r.state !== "deleted" && !(r.contractId === 2 && r.state === "init" && r.message === "provisioning"));
  assert.deepEqual(after, [], `nothing posted for dropped workloads or deleted contracts: ${JSON.stringify(after)}`);
  assert.equal(sent.filter((r) => r.name === "slow" && r.state === "deleted").length, 2, "one final deleted each");
  assert.ok(results.dropped >= 3, `withheld results are counted (${results.dropped})`);
});

test("results: a refusal is dropped after one send; an unreachable ledger is retried until it answers", async (t) => {
  let refusals = 0, outages = 0;
  let down = true;
  const accepted: string[] = [];
  const results = new ResultPoster({
    send: async (_type, p) => {
      const { contractId, results: rs } = p as { contractId: number; results: Sent[] };
      if (contractId === 1) { refusals++; throw new ConflictError("contract 1 is deleted"); }
      if (down) { outages++; if (outages >= 3) down = false; throw new UnavailableError("ledger unreachable"); }
      for (const r of rs) accepted.push(r.name);
      return {};
    },
  }, quietLog, () => 0, 1);
  t.after(() => results.close());
  results.post(1, 0, "a", "error", "x");
  results.post(3, 0, "b", "ok");
  await waitFor("the outage ridden out", () => accepted.includes("b"), { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(refusals, 1, "a refused result is sent once, not looped");
  assert.equal(outages, 3);
});

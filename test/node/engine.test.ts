// The engine's isolation: a workload stuck in its provisioner never holds up another, and removing
// it aborts the stuck step (through the context's signal) and cleans up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateSealKeyPair, MiB, type Deployment } from "../../src/core/index.js";
import { Engine } from "../../src/node/engine.js";
import { WorkloadStore } from "../../src/node/store.js";
import { ResultPoster } from "../../src/node/results.js";
import { defineProvisioner } from "../../src/node/provisioners/types.js";
import type { ContractView } from "../../src/node/ledger.js";
import { tempDir, waitFor, quietLog } from "./helpers.js";

test("a stuck workload blocks no other; removing it aborts the stuck step and deprovisions", async (t) => {
  // Registered before the temp folder: after-hooks run in order, and the folder goes last.
  t.after(async () => { await engine.stop(); results.close(); });
  const dir = tempDir(t, "zos-engine");
  const posted: Array<{ name: string; state: string; message: string }> = [];
  const results = new ResultPoster({ send: async (_type, p) => { for (const r of (p as { results: typeof posted }).results) posted.push(r); return {}; } }, quietLog, () => 0, 1);
  const deprovisioned: string[] = [];
  const stuck = defineProvisioner({
    type: "zdb",
    provision: (ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener("abort", () => reject(new Error("aborted")))),
    deprovision: async (ctx) => { deprovisioned.push(ctx.workloadId); },
    pause: async () => {}, resume: async () => ({}), check: async () => ({ ok: true }),
  });
  const quick = defineProvisioner({
    type: "volume",
    provision: async (ctx) => ({ path: `/v/${ctx.workloadId}` }),
    deprovision: async (ctx) => { deprovisioned.push(ctx.workloadId); },
    pause: async () => {}, resume: async () => ({}), check: async () => ({ ok: true }),
  });
  const store = new WorkloadStore(dir);
  const engine = new Engine({
    nodeId: 1, dataDir: dir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), capacity: { cru: 1, mru: 1, sru: 100 * MiB, hru: 100 * MiB },
    log: quietLog, registry: { zdb: stuck, volume: quick }, store, results,
  });
  await engine.load();
  const d: Deployment = {
    version: 0, twinId: 2, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 },
    workloads: [
      { name: "db", type: "zdb", version: 0, description: "", data: { size: MiB, mode: "user", password: { sealed: "AAAA" }, public: false } },
      { name: "vol", type: "volume", version: 0, description: "", data: { size: MiB } },
      { name: "huge", type: "volume", version: 0, description: "", data: { size: 1000 * MiB } },
    ],
  };
  const c: ContractView = { id: 5, twinId: 2, nodeId: 1, state: "active", approvedVersion: 0, approvedDeployment: d, approvedSignatures: [] };
  engine.apply(c, { ok: true, deployment: d, version: 0 });
  await waitFor("vol ok while db is stuck", () => posted.some((r) => r.name === "vol" && r.state === "ok"), { timeoutMs: 5000 });
  await waitFor("huge refused", () => posted.find((r) => r.name === "huge" && r.state === "error"), { timeoutMs: 5000 });
  assert.match(posted.find((r) => r.name === "huge")!.message, /needs 1000 MiB of SSD but only 99 MiB is free/);
  assert.equal(store.get("5-db")?.state, "provisioning", "the stuck one is recorded before it is made");

  engine.apply({ ...c, state: "deleted", deletedReason: "cancelled" }, { ok: false, reason: "deleted" });
  await waitFor("both removed", () => store.all().length === 0, { timeoutMs: 5000 });
  assert.deepEqual(deprovisioned.sort(), ["5-db", "5-vol"]);
  await waitFor("deleted results", () => posted.filter((r) => r.state === "deleted").length === 2, { timeoutMs: 5000 });
});

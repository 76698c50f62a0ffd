// The engine's isolation: a workload stuck in its provisioner never holds up another, and removing
// it aborts the stuck step (through the context's signal) and cleans up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DeploymentFailedError, generateSealKeyPair, MiB, UnavailableError, type Deployment } from "../../src/core/index.js";
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

test("a permanent failure stays error without retries; a transient one (unavailable, EMFILE) is retried to ok", async (t) => {
  t.after(async () => { await engine.stop(); results.close(); });
  const dir = tempDir(t, "zos-engine-errors");
  const posted: Array<{ name: string; state: string; message: string }> = [];
  const results = new ResultPoster({ send: async (_type, p) => { for (const r of (p as { results: typeof posted }).results) posted.push(r); return {}; } }, quietLog, () => 0, 1);
  const calls = new Map<string, number>();
  const emfile = Object.assign(new Error("EMFILE: too many open files, open '/x'"), { code: "EMFILE" });
  const flaky = defineProvisioner({
    type: "volume",
    provision: async (ctx) => {
      const n = (calls.get(ctx.workloadId) ?? 0) + 1;
      calls.set(ctx.workloadId, n);
      if (ctx.workloadId.endsWith("bad")) throw new DeploymentFailedError("entrypoint /nope is not in the image");
      if (ctx.workloadId.endsWith("busy") && n < 3) throw n === 1 ? new UnavailableError("hub unreachable") : emfile;
      return { n };
    },
    deprovision: async () => {}, pause: async () => {}, resume: async () => ({}), check: async () => ({ ok: true }),
  });
  const engine = new Engine({
    nodeId: 1, dataDir: dir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), capacity: { cru: 1, mru: 1, sru: 100 * MiB, hru: 0 },
    log: quietLog, registry: { volume: flaky }, store: new WorkloadStore(dir), results, retry: { baseMs: 10, maxMs: 20 }, checkIntervalMs: 20,
  });
  await engine.load();
  engine.startChecks();
  const d: Deployment = {
    version: 0, twinId: 2, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 },
    workloads: [{ name: "bad", type: "volume", version: 0, description: "", data: { size: MiB } }, { name: "busy", type: "volume", version: 0, description: "", data: { size: MiB } }],
  };
  engine.apply({ id: 6, twinId: 2, nodeId: 1, state: "active", approvedVersion: 0, approvedDeployment: d, approvedSignatures: [] }, { ok: true, deployment: d, version: 0 });
  await waitFor("busy ok after two transient failures", () => posted.some((r) => r.name === "busy" && r.state === "ok"));
  assert.equal(calls.get("6-busy"), 3);
  assert.ok(posted.some((r) => r.name === "busy" && r.state === "error" && /hub unreachable/.test(r.message)));
  // Many retry periods and health checks later, the permanent failure was tried once.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(calls.get("6-bad"), 1);
  const bad = posted.filter((r) => r.name === "bad" && r.state === "error");
  assert.equal(bad.length, 1);
  assert.match(bad[0].message, /entrypoint \/nope is not in the image/);
});

// One contract, every provisioner: the cases each provisioner's own test file runs with
// `runConformance({...})` (hono's router suite is the model). A provisioner that does not meet a
// case names it in `skip` with the reason; nothing is skipped silently.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateSealKeyPair, type Deployment, type Workload, type WorkloadOf, type WorkloadType } from "../../src/core/index.js";
import { defineProvisioner, type Provisioner, type Registry, type WorkloadContext } from "../../src/node/provisioners/types.js";
import { Engine } from "../../src/node/engine.js";
import { WorkloadStore } from "../../src/node/store.js";
import { ResultPoster } from "../../src/node/results.js";
import { tempDir, waitFor, quietLog } from "./helpers.js";

export const CASES = ["provision", "reprovision", "update", "deprovision", "adoption", "capacity"] as const;
export type CaseName = (typeof CASES)[number];

export interface ConformanceTarget<T extends WorkloadType> {
  /** Shown in the test names. */
  name: string;
  /** A fresh provisioner instance (a node start); the suite calls its init and shutdown. */
  make(): Provisioner<T>;
  /** The workload to provision, and a changed spec of it (an update). */
  workload(): WorkloadOf<T>;
  updated(w: WorkloadOf<T>): WorkloadOf<T>;
  /** Other workloads of the deployment (a container's volumes…); provisioned by the target's own hooks if any. */
  siblings?: Workload[];
  /** A registry holding only `p` (typed at the call site: T is concrete there). */
  registry(p: Provisioner<T>): Registry;
  /** Cases this provisioner does not meet, each with why. */
  skip?: Partial<Record<CaseName, string>>;
  timeoutMs?: number;
}

/** The node's seal keys in every case: seal a workload's secrets to CONFORMANCE_SEAL_KEYS.publicKey. */
export const CONFORMANCE_SEAL_KEYS = generateSealKeyPair();
const sealKeys = CONFORMANCE_SEAL_KEYS;

function contextFor(dataDir: string, contractId: number, w: Workload, siblings: Workload[]): WorkloadContext {
  const deployment: Deployment = {
    version: 0, twinId: 2, nodeId: 1, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 }, workloads: [w, ...siblings],
  };
  return {
    nodeId: 1, contractId, twinId: 2, workloadId: `${contractId}-${w.name}`, deployment, dataDir, underlay: "127.0.0.1", sealKeys,
    log: quietLog, progress: () => {}, signal: new AbortController().signal,
  };
}

/** Registers one `describe` with a test per case. Call at the top level of a `*.test.ts` file. */
export function runConformance<T extends WorkloadType>(target: ConformanceTarget<T>): void {
  const timeout = target.timeoutMs ?? 60_000;
  let contract = 100;
  const run = (name: CaseName, title: string, body: (dataDir: string, started: Array<Provisioner<T>>) => Promise<void>) => {
    const why = target.skip?.[name];
    test(`${name}: ${title}`, { timeout, skip: why ? `${target.name}: ${why}` : false }, async (t) => {
      const started: Array<Provisioner<T>> = [];
      // Registered before the folder: every instance stops before its data goes.
      t.after(async () => { for (const p of started) await p.shutdown?.(); });
      const dir = tempDir(t, `conformance-${target.name}`);
      await body(dir, started);
    });
  };
  const start = async (dataDir: string, started: Array<Provisioner<T>>) => {
    const p = target.make();
    started.push(p);
    await p.init?.(dataDir, quietLog);
    return p;
  };

  describe(`provisioner conformance: ${target.name}`, () => {
    run("provision", "provision resolves with the result's data and the check passes", async (dir, started) => {
      const p = await start(dir, started);
      const w = target.workload();
      const ctx = contextFor(dir, ++contract, w, target.siblings ?? []);
      try {
        const data = await p.provision(ctx, w);
        assert.equal(typeof data, "object");
        assert.deepEqual(await p.check(ctx, w), { ok: true });
      } finally { await p.deprovision(ctx, w); }
    });

    run("reprovision", "provisioning the same spec again adopts it: same data, still healthy", async (dir, started) => {
      const p = await start(dir, started);
      const w = target.workload();
      const ctx = contextFor(dir, ++contract, w, target.siblings ?? []);
      try {
        const first = await p.provision(ctx, w);
        const again = await p.provision(ctx, w);
        assert.deepEqual(stable(again), stable(first));
        assert.equal((await p.check(ctx, w)).ok, true);
      } finally { await p.deprovision(ctx, w); }
    });

    run("update", "a changed spec provisions over the old one and is healthy", async (dir, started) => {
      const p = await start(dir, started);
      const w = target.workload();
      const ctx = contextFor(dir, ++contract, w, target.siblings ?? []);
      const w2 = target.updated(w);
      try {
        await p.provision(ctx, w);
        await p.provision(ctx, w2);
        assert.equal((await p.check(ctx, w2)).ok, true);
      } finally { await p.deprovision(ctx, w2); }
    });

    run("deprovision", "deprovision removes it (the check fails after) and is idempotent", async (dir, started) => {
      const p = await start(dir, started);
      const w = target.workload();
      const ctx = contextFor(dir, ++contract, w, target.siblings ?? []);
      await p.provision(ctx, w);
      await p.deprovision(ctx, w);
      assert.equal((await p.check(ctx, w)).ok, false);
      await p.deprovision(ctx, w);
      // Never made at all: also fine.
      await p.deprovision(contextFor(dir, ++contract, w, target.siblings ?? []), w);
    });

    run("adoption", "a new instance (a restarted node) adopts what the old one made, then removes it", async (dir, started) => {
      const old = await start(dir, started);
      const w = target.workload();
      const ctx = contextFor(dir, ++contract, w, target.siblings ?? []);
      const first = await old.provision(ctx, w);
      await old.shutdown?.();
      started.splice(started.indexOf(old), 1);
      const fresh = await start(dir, started);
      try {
        const adopted = await fresh.provision(ctx, w);
        assert.deepEqual(stable(adopted), stable(first));
        assert.equal((await fresh.check(ctx, w)).ok, true);
      } finally { await fresh.deprovision(ctx, w); }
    });

    run("capacity", "a workload bigger than the node's free capacity is refused before the provisioner runs", async (dir, started) => {
      const inner = await start(dir, started);
      let calls = 0;
      const counted = defineProvisioner<T>({
        type: inner.type,
        provision: (ctx, w) => { calls++; return inner.provision(ctx, w); },
        deprovision: (ctx, w) => inner.deprovision(ctx, w),
        pause: (ctx, w) => inner.pause(ctx, w),
        resume: (ctx, w) => inner.resume(ctx, w),
        check: (ctx, w) => inner.check(ctx, w),
      });
      const posted: Array<{ name: string; state: string; message: string }> = [];
      const results = new ResultPoster({ send: async (_t, p) => { posted.push(...(p as { results: typeof posted }).results); return {}; } }, quietLog, () => 0, 1);
      const engine = new Engine({
        nodeId: 1, dataDir: dir, underlay: "127.0.0.1", sealKeys, capacity: { cru: 0, mru: 0, sru: 0, hru: 0 },
        log: quietLog, registry: target.registry(counted), store: new WorkloadStore(dir), results,
      });
      try {
        await engine.load();
        const w = target.workload();
        const d = contextFor(dir, ++contract, w, []).deployment;
        engine.apply({ id: contract, twinId: 2, nodeId: 1, state: "active", approvedVersion: 0, approvedDeployment: d, approvedSignatures: [] }, { ok: true, deployment: d, version: 0 });
        const refused = await waitFor("a capacity refusal", () => posted.find((r) => r.name === w.name && r.state === "error"));
        assert.match(refused.message, /not enough capacity on node 1/);
        assert.equal(calls, 0, "the provisioner never ran");
      } finally { await engine.stop(); results.close(); }
    });
  });
}

/** Result data without what legitimately changes between two calls (a container's live state). */
function stable(data: Record<string, unknown>): Record<string, unknown> {
  const { state: _state, message: _message, ...rest } = data;
  return rest;
}

// Fault: growing a volume that a running container mounts. The engine gets a contract update with
// a bigger volume; the container (unchanged) must see the new size at once, keep its files, and the
// file system must be clean afterwards. A shrink is refused with a reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { generateSealKeyPair, MiB, type Deployment, type Workload, type WorkloadOf } from "../../src/core/index.js";
import { Engine } from "../../src/node/engine.js";
import { WorkloadStore } from "../../src/node/store.js";
import { ResultPoster } from "../../src/node/results.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { VolumeProvisioner } from "../../src/node/provisioners/volume.js";
import { runcRoot } from "../../src/node/container/runc.js";
import type { ContractView } from "../../src/node/ledger.js";
import { sh } from "../../src/node/container/sys.js";
import { waitFor } from "../support.js";
import { captureLogger, useExampleHub } from "./helpers.js";

const fx = useExampleHub("volume-grow-test-");

function deploymentOf(version: number, workloads: Workload[]): Deployment {
  return { version, twinId: 2, nodeId: 1, metadata: "", description: "", signatureRequirement: { requests: [{ twinId: 2, weight: 1, required: false }], weightRequired: 1 }, workloads };
}

test("a volume grown under a running container: grown safely (online, or its containers stopped around an offline resize), new size seen inside, data intact, fsck clean; shrink refused", { skip: process.getuid?.() !== 0 && "needs root" }, async (t) => {
  const dataDir = join(fx.work, "node-grow");
  const { log } = captureLogger();
  const posted: Array<{ name: string; state: string; message: string }> = [];
  const results = new ResultPoster({ send: async (_t, p) => { for (const r of (p as { results: typeof posted }).results) posted.push(r); return {}; } }, log, () => 0, 1);
  const containers = new ContainerProvisioner({ pollMs: 50 });
  const volumes = new VolumeProvisioner({ users: containers });
  const store = new WorkloadStore(dataDir);
  const engine = new Engine({
    nodeId: 1, dataDir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), capacity: { cru: 4, mru: 4096 * MiB, sru: 4096 * MiB, hru: 0 },
    log, registry: { volume: volumes, container: containers }, store, results,
  });
  await engine.load();
  const vol = (size: number): Workload => ({ name: "data", type: "volume", version: 0, description: "", data: { size } });
  const app: WorkloadOf<"container"> = {
    name: "app", type: "container", version: 0, description: "",
    data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 * MiB, rootfsSize: 16 * MiB, mounts: [{ volume: "data", mountpoint: "/data" }] },
  };
  const apply = (version: number, workloads: Workload[], state: ContractView["state"] = "active") => {
    const d = deploymentOf(version, workloads);
    engine.apply({ id: 9, twinId: 2, nodeId: 1, state, approvedVersion: version, approvedDeployment: d, approvedSignatures: [] }, state === "deleted" ? { ok: false, reason: "deleted" } : { ok: true, deployment: d, version });
  };
  const okAt = (name: string) => waitFor(`${name} ok`, () => store.get(`9-${name}`)?.state === "ok", { timeoutMs: 30_000 });
  // runc exec needs the bundle's config.json, which the node removes once the container runs
  // (it holds the secret env): enter the container's mount namespace instead.
  const inside = async (cmd: string) => {
    const st = JSON.parse(await readFile(join(runcRoot(dataDir), containers.manager(dataDir, log).runcId("9-app"), "state.json"), "utf8")) as { init_process_pid: number };
    return sh("nsenter", ["-t", String(st.init_process_pid), "-m", "-p", "--", "/bin/busybox", "sh", "-c", cmd]);
  };
  /** Total size of /data as the container's df sees it, in KiB. */
  const dfKiB = async () => Number((await inside("busybox df -k /data")).trim().split("\n").pop()!.trim().split(/\s+/)[1]);
  const image = join(dataDir, "volume", "9-data.img");
  try {
    apply(0, [vol(32 * MiB), app]);
    await okAt("data");
    await okAt("app");
    await inside("echo kept-across-the-grow > /data/note && busybox sync");
    const before = await dfKiB();
    assert.ok(before > 20 * 1024 && before <= 32 * 1024, `32 MiB volume seen as ${before} KiB`);

    // Update: the volume grows to 96 MiB; the container's spec is unchanged, so it keeps running.
    const pidOf = async () => (JSON.parse(await readFile(join(runcRoot(dataDir), containers.manager(dataDir, log).runcId("9-app"), "state.json"), "utf8")) as { init_process_pid: number }).init_process_pid;
    const pidBefore = await pidOf();
    apply(1, [vol(96 * MiB), app]);
    await waitFor("the volume grown", () => store.get("9-data")?.state === "ok" && (store.get("9-data")?.data as { size?: number })?.size === 96 * MiB, { timeoutMs: 30_000 })
      .catch((e) => { throw new Error(`${(e as Error).message}; results: ${JSON.stringify(posted)}; record: ${JSON.stringify(store.get("9-data"))}`); });
    const after = await dfKiB();
    // Online where the kernel allows it (CAP_SYS_RESOURCE); else the container was stopped and started again.
    t.diagnostic(`grown ${(await pidOf()) === pidBefore ? "online (the container kept running)" : "offline (the container was stopped and started again)"}: ${before} → ${after} KiB`);
    assert.ok(after > 80 * 1024, `the container sees the grown volume: ${before} → ${after} KiB`);
    assert.equal((await inside("cat /data/note")).trim(), "kept-across-the-grow");
    // And the new room is usable from inside: 60 MiB more than the old size allowed.
    await inside("dd if=/dev/zero of=/data/big bs=1M count=60 2>/dev/null && busybox sync");

    // A shrink is refused clearly; what runs stays as it was.
    apply(2, [vol(48 * MiB), app]);
    await waitFor("shrink refused", () => posted.find((r) => r.name === "data" && r.state === "error"), { timeoutMs: 10_000 });
    assert.match(posted.find((r) => r.name === "data" && r.state === "error")!.message, /cannot shrink from 100663296 to 50331648 bytes/);
    assert.equal((await inside("cat /data/note")).trim(), "kept-across-the-grow");

    // The container goes (version 3 keeps only the volume): the file system is clean.
    apply(3, [vol(96 * MiB)]);
    await waitFor("container removed", () => !store.get("9-app"), { timeoutMs: 20_000 });
    await sh("umount", [join(dataDir, "volume", "9-data")]);
    const fsck = await sh("e2fsck", ["-f", "-n", image]);
    assert.match(fsck, /9-data\.img: \d+\/\d+ files .* \d+\/\d+ blocks/, fsck);
    const blocks = await sh("dumpe2fs", ["-h", image]);
    assert.equal(Number(/^Block count:\s+(\d+)/m.exec(blocks)![1]) * Number(/^Block size:\s+(\d+)/m.exec(blocks)![1]), 96 * MiB);
  } finally {
    apply(4, [], "deleted");
    await waitFor("all removed", () => store.all().length === 0, { timeoutMs: 30_000 }).catch(() => {});
    await engine.stop();
    results.close();
    await containers.shutdown();
  }
});

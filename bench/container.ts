// Container start time (flist cached / uncached, beside bare `runc run` of the same unpacked root)
// and flist build throughput (beside tar). Run as root: node dist/bench/container.js [--json] [--mb 200]
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { generateKeyPair, generateSealKeyPair, type WorkloadOf, type Deployment } from "../src/core/index.js";
import { buildAndPublish, buildFromFolder, layoutExampleFolder, EXAMPLE_ENTRYPOINT, type ChunkSink } from "../src/flist/index.js";
import { ContainerProvisioner } from "../src/node/provisioners/container.js";
import { ociConfig } from "../src/node/container/oci.js";
import type { WorkloadContext } from "../src/node/provisioners/types.js";
import { startRedis, startHub } from "../test/flist/helpers.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const buildMb = Number(args[args.indexOf("--mb") + 1]) || 200;
const RUNS = 9;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const say = (s: string) => { if (!json) console.log(s); };

const work = await mkdtemp(join(tmpdir(), "bench-container-"));
const redis = await startRedis();
const hub = await startHub(redis.url);
const log = pino({ level: "silent" });
const results: Record<string, unknown> = {};
try {
  // The image: the busybox example plus 40 MB of incompressible data, so fetching it costs something.
  const tree = join(work, "image");
  await layoutExampleFolder(tree);
  await mkdir(join(tree, "data"));
  for (let i = 0; i < 40; i++) await writeFile(join(tree, "data", `blob${i}`), randomBytes(1024 * 1024));
  const pub = await buildAndPublish(tree, { hub: hub.url, keys: generateKeyPair(), name: "bench" });
  results.imageBytes = pub.size;
  const w: WorkloadOf<"container"> = { name: "web", version: 0, description: "", type: "container", data: { flist: pub.address, entrypoint: EXAMPLE_ENTRYPOINT, env: {}, secretEnv: {}, cpu: 1, memory: 64 << 20, rootfsSize: 64 << 20, mounts: [] } };
  const ctx = (dataDir: string, cid: number): WorkloadContext => ({
    nodeId: 1, contractId: cid, twinId: 1, workloadId: `${cid}-web`, dataDir, underlay: "127.0.0.1", sealKeys: generateSealKeyPair(), log, progress: () => {}, signal: new AbortController().signal,
    deployment: { version: 0, twinId: 1, nodeId: 1, metadata: "", description: "", signatureRequirement: { requests: [{ twinId: 1, weight: 1, required: false }], weightRequired: 1 }, workloads: [w] } as Deployment,
  });
  // Two configurations: the node's default, which keeps network namespaces prepared in advance
  // (the pool is refilled after each start and the bench waits until it is full again before the
  // next one, as on a node whose starts are not back to back), and no pool at all (each start makes
  // its namespace itself: what a burst of starts beyond the pool's size gets).
  const pooled = new ContainerProvisioner();
  const cold = new ContainerProvisioner({ netPool: 0 });
  const timeStart = async (p: ContainerProvisioner, c: WorkloadContext): Promise<number> => {
    await p.init(c.dataDir, log);
    await p.manager(c.dataDir, log).pool.ready();
    const t0 = process.hrtime.bigint();
    await p.provision(c, w);
    const t = ms(t0);
    await p.deprovision(c, w);
    return t;
  };
  const uncached: number[] = [], cached: number[] = [], cachedCold: number[] = [];
  for (let i = 0; i < RUNS; i++) uncached.push(await timeStart(pooled, ctx(join(work, `node-u${i}`), 100 + i)));
  const warm = join(work, "node-warm");
  await pooled.provision(ctx(warm, 200), w);
  await pooled.deprovision(ctx(warm, 200), w);
  const coldDir = join(work, "node-cold");
  await cold.provision(ctx(coldDir, 200), w);
  await cold.deprovision(ctx(coldDir, 200), w);
  // The floor: runc run -d of the same unpacked root, its own namespaces (network included) and
  // the same cgroup limits, no flist, no overlay, no prepared veth.
  const floor: number[] = [];
  const bundle = join(work, "bundle");
  await mkdir(bundle);
  const cfg = ociConfig({ rootfs: tree, args: ["/bin/httpd", "-f", "-p", "80", "-h", "/www"], env: ["PATH=/bin"], cwd: "/", hostname: "floor", netnsPath: "", cgroupsPath: "/grid/bench-floor", memoryBytes: 64 << 20, cpus: 1, pids: 4096, mounts: [] });
  const linux = cfg.linux as { namespaces: Array<{ type: string; path?: string }> };
  linux.namespaces = linux.namespaces.map((n) => (n.type === "network" ? { type: "network" } : n));
  (cfg.root as { readonly: boolean }).readonly = true;
  await writeFile(join(bundle, "config.json"), JSON.stringify(cfg));
  const root = join(work, "runc-root");
  const runFloor = (i: number): number => {
    const t0 = process.hrtime.bigint();
    execFileSync("runc", ["--root", root, "run", "-d", "--bundle", bundle, `floor${i}`], { stdio: "ignore" });
    const t = ms(t0);
    execFileSync("runc", ["--root", root, "delete", "--force", `floor${i}`], { stdio: "ignore" });
    return t;
  };
  // Interleaved (pool, no pool, floor in each round), so all three see the same machine load.
  for (let i = 0; i < RUNS; i++) {
    cached.push(await timeStart(pooled, ctx(warm, 300 + i)));
    cachedCold.push(await timeStart(cold, ctx(coldDir, 400 + i)));
    floor.push(runFloor(i));
  }
  await pooled.shutdown();
  await cold.shutdown();
  const f = median(floor);
  Object.assign(results, {
    uncachedStartMs: median(uncached), cachedStartMs: median(cached), cachedStartNoPoolMs: median(cachedCold), runcFloorMs: f,
    cachedOverFloor: median(cached) / f, cachedNoPoolOverFloor: median(cachedCold) / f, netnsPool: 2,
  });
  say(`image: ${(pub.size / 1e6).toFixed(1)} MB (busybox httpd + 40 MB data), ${RUNS} runs each, median`);
  say(`  start, flist not cached (fetch + verify + materialise + start):      ${median(uncached).toFixed(1)} ms`);
  say(`  start, flist cached, network namespace from the node's pool:        ${median(cached).toFixed(1)} ms`);
  say(`  start, flist cached, no pool (namespace made during the start):     ${median(cachedCold).toFixed(1)} ms`);
  say(`  bare runc run -d of the same unpacked root (floor):                 ${f.toFixed(1)} ms`);
  say(`  cached / floor: ${(median(cached) / f).toFixed(2)}x with the pool, ${(median(cachedCold) / f).toFixed(2)}x without (bar: 1.5x)`);

  // Build throughput: a folder of `buildMb` MB (files of 1-8 MB, incompressible).
  const big = join(work, "big");
  await mkdir(big);
  let made = 0, n = 0;
  while (made < buildMb * 1e6) { const sz = (1 + (n % 8)) * 1024 * 1024; await writeFile(join(big, `f${n++}`), randomBytes(sz)); made += sz; }
  const nullSink: ChunkSink = { put: async () => {} };
  let t0 = process.hrtime.bigint();
  await buildFromFolder(big, nullSink);
  const hashOnly = ms(t0);
  t0 = process.hrtime.bigint();
  await buildAndPublish(big, { hub: hub.url, keys: generateKeyPair(), name: "big" });
  const withUpload = ms(t0);
  t0 = process.hrtime.bigint();
  execFileSync("tar", ["-cf", join(work, "big.tar"), "-C", big, "."]);
  const tarMs = ms(t0);
  const mb = made / 1e6;
  Object.assign(results, { buildMB: mb, buildMBps: mb / (hashOnly / 1000), buildUploadMBps: mb / (withUpload / 1000), tarMBps: mb / (tarMs / 1000) });
  say(`flist build of a ${mb.toFixed(0)} MB folder (${n} files):`);
  say(`  build (read + chunk + hash):            ${(mb / (hashOnly / 1000)).toFixed(0)} MB/s`);
  say(`  build + upload to the hub (0-db/Redis): ${(mb / (withUpload / 1000)).toFixed(0)} MB/s`);
  say(`  tar -cf of the same folder:             ${(mb / (tarMs / 1000)).toFixed(0)} MB/s`);
  if (json) console.log(JSON.stringify(results));
} finally {
  await hub.stop();
  await redis.stop();
  await rm(work, { recursive: true, force: true });
}

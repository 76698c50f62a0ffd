// `zos cleanup`: with no zos running on a data folder, removes everything the node made on this
// machine for it. A stopping zos leaves its containers running on purpose (the next zos adopts
// them); an operator (or `grid down`) who wants the machine back runs this. Each part removes its
// own things, by its own naming: the container runtime, the volumes, the 0-db.
import { access, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { ConflictError, GridError, InternalError, NotFoundError, ValidationError } from "../core/index.js";
import { cleanupAll } from "./container/cleanup.js";
import { cleanupNetworks } from "./network/index.js";
import { cleanupGateway } from "./gateway/index.js";
import { cleanupVolumes } from "./provisioners/volume.js";
import { cleanupZdb } from "./provisioners/zdb.js";
import { lockDataDir, lockHolder, unlockDataDir } from "./lock.js";

export interface CleanupReport {
  dataDir: string;
  /** runc ids of the containers killed and deleted. */
  containers: string[];
  /** Mount points unmounted: container roots (overlay + tmpfs) and volumes (loop). */
  mounts: string[];
  /** Network namespaces removed (containers', the prepared pool's, the overlay networks'). */
  netns: string[];
  /** Host-side veths removed on their own (normally they go with their namespace). */
  veths: string[];
  cgroups: string[];
  /** Processes stopped (the node's 0-db when a killed zos left it, the networks' wireguard-go). */
  processes: number[];
  /** With --purge: the folders and files of workload state deleted. */
  purged: string[];
}

/** The node's record of its workloads (deleted by --purge with the parts' own folders); the
 *  identity (identity.key, seal.key, node.json) and the flist cache stay, so the node keeps its id. */
const WORKLOAD_STATE = ["workloads", "cursor.json"];
const PURGED = [...WORKLOAD_STATE, "container", "volume", "zdb", "network", "gateway"];
/** Any of these says "a zos used this folder": cleanup refuses a folder that has none. */
const NODE_MARKS = ["identity.key", "node.json", "zos.pid", "workloads", "container", "zdb", "volume", "network", "gateway"];

const exists = (p: string) => access(p).then(() => true, () => false);

export async function cleanupNode(dataDir: string, opts: { purge?: boolean; log: Logger }): Promise<CleanupReport> {
  if (!(await exists(dataDir))) throw new NotFoundError(`${dataDir} does not exist`, "give the data folder the node ran with (zos --data)");
  if (!(await Promise.all(NODE_MARKS.map((m) => exists(join(dataDir, m))))).some(Boolean)) {
    throw new ValidationError(`${dataDir} is not a zos data folder (none of ${NODE_MARKS.join(", ")} is there)`, "give the data folder the node ran with (zos --data)");
  }
  const holder = await lockHolder(dataDir);
  if (holder !== null) {
    throw new ConflictError(`zos (pid ${holder}) is running on ${dataDir}: nothing was removed`, `stop it first (kill -TERM ${holder}); cleanup removes what a stopped node left`);
  }
  // Held while cleaning, so a zos started meanwhile refuses instead of adopting half-removed things.
  try {
    await lockDataDir(dataDir);
  } catch (err) {
    if (err instanceof GridError && err.code === "conflict") throw new ConflictError(`a zos started on ${dataDir} meanwhile: nothing was removed`, "stop it first");
    throw err;
  }
  try {
    const report: CleanupReport = { dataDir, containers: [], mounts: [], netns: [], veths: [], cgroups: [], processes: [], purged: [] };
    const errors: string[] = [];
    const purge = !!opts.purge;
    const purgeable = purge ? (await Promise.all(PURGED.map(async (p) => (await exists(join(dataDir, p))) ? join(dataDir, p) : null))).filter((p): p is string => p !== null) : [];
    // Containers first: they may hold the volumes' mounts and write to the 0-db.
    const c = await cleanupAll(dataDir, opts.log, { purge });
    report.containers = c.containers; report.netns = c.netns; report.veths = c.veths; report.cgroups = c.cgroups;
    report.mounts.push(...c.mounts);
    errors.push(...c.errors);
    // Networks after the containers (their veths go with the containers' namespaces).
    const n = await cleanupNetworks(dataDir, opts.log, { purge });
    report.netns.push(...n.netns);
    report.processes.push(...n.processes);
    errors.push(...n.errors);
    const v = await cleanupVolumes(dataDir, { purge });
    report.mounts.push(...v.mounts);
    errors.push(...v.errors);
    // A gateway's HAProxy outlives a killed zos (it keeps serving): stopped here.
    report.processes.push(...(await cleanupGateway(dataDir, opts.log)).processes);
    const z = await cleanupZdb(dataDir, { purge });
    report.processes.push(...z.processes);
    errors.push(...z.errors);
    if (purge && !errors.length) {
      for (const p of WORKLOAD_STATE) await rm(join(dataDir, p), { recursive: true, force: true });
      for (const p of purgeable) if (!(await exists(p))) report.purged.push(p);
    }
    if (errors.length) throw new InternalError(`cleanup of ${dataDir} left ${errors.length} thing(s): ${errors.join("; ")}`, "run it again as root; it is idempotent");
    opts.log.info({ ...report }, "cleanup done");
    return report;
  } finally {
    await unlockDataDir(dataDir);
  }
}

/** One line for people: what went. */
export function cleanupText(r: CleanupReport): string {
  const parts: Array<[number, string]> = [
    [r.containers.length, "container(s)"], [r.mounts.length, "mount(s)"], [r.netns.length, "network namespace(s)"],
    [r.veths.length, "veth(s)"], [r.cgroups.length, "cgroup(s)"], [r.processes.length, "process(es)"],
  ];
  const done = parts.filter(([n]) => n > 0).map(([n, w]) => `${n} ${w}`);
  const purged = r.purged.length ? `purged ${r.purged.join(", ")}` : "";
  if (!done.length) return purged ? `${purged}; nothing else to remove` : `nothing to remove for ${r.dataDir}`;
  return `removed ${done.join(", ")} of ${r.dataDir}${purged ? `; ${purged}` : ""}`;
}

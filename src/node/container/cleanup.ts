// Node-wide cleanup: with no node running on a data folder, everything its container runtime made
// on this machine goes (what `zos cleanup` runs). Works from what is on disk and in the kernel,
// not from a running node's memory.
import { lstat, readdir, readFile, realpath, rm, rmdir, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { ContainerManager } from "./manager.js";
import { cgroupsOfTag } from "./cgroups.js";
import { netNames, netnsExists, removeNetns, type NetPlan } from "./netns.js";
import { runcRoot } from "./runc.js";
import { waitGone } from "./supervisor.js";
import { CommandError, mountPoints, sh, unmount } from "./sys.js";
import { unmountRootfs } from "./rootfs.js";

/** What the cleanup removed (runc ids, mount points, namespaces, veths, cgroup folders) and what it could not. */
export interface ContainerCleanup { containers: string[]; mounts: string[]; netns: string[]; veths: string[]; cgroups: string[]; errors: string[] }

/** Everything a node's container runtime made on this machine for `dataDir` (see removeAllContainers). */
export async function cleanupAll(dataDir: string, log: Logger, opts: { purge?: boolean } = {}): Promise<ContainerCleanup> {
  return removeAllContainers(new ContainerManager({ dataDir, log, netPool: 0 }), opts);
}

/**
 * With no node running on the data folder: removes every container of it and everything they
 * hold — runc containers (killed, deleted), their overlay and tmpfs mounts, the network namespaces
 * (theirs, and the prepared pool's) with their veths, their cgroups. The containers' folders (their
 * logs and saved state, no secrets) stay unless `purge`. Idempotent: a second call removes nothing.
 */
export async function removeAllContainers(m: ContainerManager, opts: { purge?: boolean } = {}): Promise<ContainerCleanup> {
  const out: ContainerCleanup = { containers: [], mounts: [], netns: [], veths: [], cgroups: [], errors: [] };
  const fail = (what: string, e: unknown) => out.errors.push(`${what}: ${(e as Error).message}`);
  const realRoot = await realpath(m.root).catch(() => null);
  if (!realRoot) return out;
  const mountsBefore = mountsBelow(await mountPoints(), realRoot);
  // The processes first: a namespace or a mount in use by a container would outlive its removal.
  if (await lstat(runcRoot(m.dataDir)).then(() => true, () => false)) {
    const rt = await m.runtime();
    const listed = await rt.list().catch((e: unknown) => { fail("runc list", e); return []; });
    for (const c of listed) {
      if (c.status === "paused") await rt.resume(c.id).catch(() => {});
      await rt.kill(c.id, "KILL");
    }
    for (const c of listed) await waitGone(c.pid);
    for (const c of listed) {
      await rt.delete(c.id).then(() => out.containers.push(c.id), (e: unknown) => fail(`runc delete ${c.id}`, e));
    }
  }
  const names = new Set<string>();
  const removeNs = async (netns: string) => {
    names.add(netns);
    if (!(await netnsExists(netns))) return;
    await removeNetns(netns).then(() => out.netns.push(netns), (e: unknown) => fail(`netns ${netns}`, e));
  };
  for (const id of await readdir(m.root).catch(() => [] as string[])) {
    if (id.startsWith(".")) continue;
    await unmountRootfs(m.dir(id)).catch((e: unknown) => fail(`unmount ${id}`, e));
    const saved = await m.loadSaved(id);
    if (saved?.netns) await removeNs(saved.netns);
    await removeNs(netNames(m.netKey(id)).netns); // made before its state was saved
  }
  // The pool's prepared namespaces (a killed node leaves its records).
  const poolDir = join(m.root, ".netpool");
  for (const f of await readdir(poolDir).catch(() => [] as string[])) {
    if (!f.endsWith(".json")) continue;
    const plan = await readFile(join(poolDir, f), "utf8").then((t) => JSON.parse(t) as NetPlan, () => null);
    if (plan?.netns) await removeNs(plan.netns);
    await unlink(join(poolDir, f)).catch(() => {});
  }
  // A host-side veth whose namespace went first (a half-made pair), in this network namespace.
  const veths = await sh("ip", ["-o", "link", "show", "type", "veth"]).catch(() => "");
  for (const m of veths.matchAll(/^\d+: (vh[0-9a-f]+)[@:]/gm)) {
    if (!names.has(`gc-${m[1].slice(2)}`)) continue;
    // The kernel tears a removed namespace down in the background: its veth may vanish meanwhile.
    await sh("ip", ["link", "del", m[1]]).then(() => out.veths.push(m[1]), (e: CommandError) => { if (!/Cannot find device/i.test(e.stderr)) fail(`veth ${m[1]}`, e); });
  }
  // Cgroups of any container of this node (runc removes them; a killed one may leave them).
  for (const dir of await cgroupsOfTag(m.tag)) {
    await rmdir(dir).then(() => out.cgroups.push(dir), (e: NodeJS.ErrnoException) => { if (e.code !== "ENOENT") fail(`cgroup ${dir}`, e); });
  }
  // Whatever is still mounted below the containers' folder, deepest first.
  for (const m of mountsBelow(await mountPoints(), realRoot)) await unmount(m).catch((e: unknown) => fail(`unmount ${m}`, e));
  const left = new Set(mountsBelow(await mountPoints(), realRoot));
  out.mounts = mountsBefore.filter((m) => !left.has(m));
  for (const m of left) out.errors.push(`${m} is still mounted`);
  if (opts.purge && !out.errors.length) await rm(m.root, { recursive: true, force: true });
  return out;
}

function mountsBelow(points: Set<string>, dir: string): string[] {
  return [...points].filter((p) => p.startsWith(dir + "/")).sort((a, b) => b.length - a.length);
}

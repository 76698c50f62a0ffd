// The containers' cgroups, read and removed directly (runc makes and removes them; a killed runc
// or node can leave them): OOM kill counts, and the folders of one container or one node.
import { lstat, readdir, readFile, realpath, rmdir } from "node:fs/promises";

export const CGROUP_ROOT = "/sys/fs/cgroup";

/** How often the kernel OOM-killed a process of this cgroup (v1 memory.oom_control, v2 memory.events). */
export async function oomKills(cgroupPath: string): Promise<number> {
  const v1 = await readFile(`${CGROUP_ROOT}/memory${cgroupPath}/memory.oom_control`, "utf8").catch(() => null);
  if (v1) return Number(/oom_kill (\d+)/.exec(v1)?.[1] ?? 0);
  const v2 = await readFile(`${CGROUP_ROOT}${cgroupPath}/memory.events`, "utf8").catch(() => null);
  return v2 ? Number(/oom_kill (\d+)/.exec(v2)?.[1] ?? 0) : 0;
}

/** The cgroup folders of a container in every hierarchy (runc removes them; this makes sure). */
export async function cgroupDirs(cgroupPath: string): Promise<string[]> {
  const out: string[] = [];
  for (const h of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const p = `${CGROUP_ROOT}/${h}${cgroupPath}`;
    if (await lstat(p).then(() => true, () => false)) out.push(p);
  }
  if (await lstat(`${CGROUP_ROOT}${cgroupPath}`).then(() => true, () => false)) out.push(`${CGROUP_ROOT}${cgroupPath}`);
  return out;
}
/** The cgroup folders of every container of a node (runc ids `${tag}-…` under /grid), deepest first. */
export async function cgroupsOfTag(tag: string): Promise<string[]> {
  const parents = (await readdir(CGROUP_ROOT).catch(() => [] as string[])).map((h) => `${CGROUP_ROOT}/${h}/grid`).concat([`${CGROUP_ROOT}/grid`]);
  const out: string[] = [];
  for (const p of parents) {
    // cpu and cpuacct (cgroup v1) are often one hierarchy under two names: counted once.
    for (const e of await readdir(p).catch(() => [] as string[])) if (e.startsWith(`${tag}-`)) out.push(await realpath(`${p}/${e}`).catch(() => `${p}/${e}`));
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

export async function removeCgroups(cgroupPath: string): Promise<void> {
  for (const p of await cgroupDirs(cgroupPath)) await rmdir(p).catch(() => {});
}

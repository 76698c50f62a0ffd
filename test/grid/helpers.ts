// What a local grid's containers leave on the host, seen the way an operator would look: runc's
// list under a node's runtime root, mounts under the grid's folder, the container namespaces of a
// node, and live container processes.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { runcList, runcRoot } from "../../src/node/index.js";
import { UnavailableError } from "../../src/core/index.js";

export interface ContainerState { runc: string[]; pids: number[]; mounts: string[]; netns: string[] }

export function containerState(gridDir: string, nodeData: string, nodeNetns: string | null): ContainerState {
  const list = runcList(runcRoot(nodeData));
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => l.split(" ")[4]).filter((m) => m.startsWith(gridDir + "/"));
  // The containers' namespaces: their host-side veths (vhTAG) live in the node's namespace.
  let netns: string[] = [];
  if (nodeNetns) {
    const links = execFileSync("ip", ["-n", nodeNetns, "-o", "link", "show", "type", "veth"], { encoding: "utf8" });
    netns = [...links.matchAll(/^\d+: vh([0-9a-f]+)@/gm)].map((m) => `gc-${m[1]}`);
  }
  // Processes whose root is a container root under this grid (what runc started and nothing reaped).
  const pids: number[] = [];
  const ps = spawnSync("pgrep", ["-f", "^/bin/httpd "], { encoding: "utf8" });
  for (const p of (ps.stdout ?? "").split("\n").filter(Boolean).map(Number)) {
    try { if (readFileSync(`/proc/${p}/mountinfo`, "utf8").includes(gridDir)) pids.push(p); } catch { /* gone */ }
  }
  return { runc: list.map((c) => c.id), pids, mounts, netns };
}

/** GET a page with a deadline per attempt; the body, or throws with why. */
export async function fetchPage(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new UnavailableError(`${url}: HTTP ${res.status}`);
  return res.text();
}

/** The cgroup folders (any hierarchy) of runc containers, by runc id (the node puts them under /grid). */
export function cgroupsOf(runcIds: string[]): string[] {
  const out: string[] = [];
  const hierarchies = readdirSync("/sys/fs/cgroup").map((h) => `/sys/fs/cgroup/${h}`).concat(["/sys/fs/cgroup"]);
  for (const h of hierarchies) for (const id of runcIds) if (existsSync(`${h}/grid/${id}`)) out.push(`${h}/grid/${id}`);
  return out;
}

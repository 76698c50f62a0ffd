// What a stopped node leaves running on purpose: its containers. A zos node keeps them across its
// own restarts (a new zos adopts them), so `grid down`, which promises to leave nothing, removes
// them itself once the node is stopped: the runc containers under the node's runtime root, the
// mounts under its data folder, the network namespaces it made (their host-side veths live in the
// node's namespace), and the host routes `grid up` added to reach them.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const tryRun = (cmd: string, args: string[]): string | null => { try { return run(cmd, args); } catch { return null; } };

/** The node's runc state folder (src/node/container keeps it in DATA/container/.runc). */
export function runcRoot(nodeData: string): string { return join(nodeData, "container", ".runc"); }

interface RuncEntry { id: string; pid: number; status: string }

export function runcList(root: string): RuncEntry[] {
  if (!existsSync(root)) return [];
  const out = tryRun("runc", ["--root", root, "list", "--format", "json"]);
  try { return (JSON.parse(out || "null") as RuncEntry[] | null) ?? []; } catch { return []; }
}

function alive(pid: number): boolean {
  if (pid <= 0) return false;
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !"ZX".includes(s.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3));
  } catch { return false; }
}

/** Mount points at or below `dir`, deepest first (so each unmounts before what holds it). */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  const points = text.split("\n").filter(Boolean)
    .map((l) => l.split(" ")[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(dir + "/"));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The container namespaces a node made: named by the saved states and pool records in its data
 *  folder, and by the host-side veths (vhTAG ↔ gc-TAG) in the node's own namespace. */
export function containerNetns(nodeData: string, nodeNetns: string | null): string[] {
  const names = new Set<string>();
  const root = join(nodeData, "container");
  for (const id of existsSync(root) ? readdirSync(root) : []) {
    if (id === ".netpool") {
      for (const f of readdirSync(join(root, id))) if (/^gc-[0-9a-f]+\.json$/.test(f)) names.add(f.slice(0, -5));
      continue;
    }
    try {
      const s = JSON.parse(readFileSync(join(root, id, "state.json"), "utf8")) as { netns?: string };
      if (s.netns && /^gc-[0-9a-f]+$/.test(s.netns)) names.add(s.netns);
    } catch { /* not a container folder */ }
  }
  if (nodeNetns) {
    const links = tryRun("ip", ["-n", nodeNetns, "-o", "link", "show", "type", "veth"]) ?? "";
    for (const m of links.matchAll(/^\d+: vh([0-9a-f]+)@/gm)) names.add(`gc-${m[1]}`);
  }
  return [...names];
}

export interface ContainerCleanup { containers: string[]; mounts: string[]; netns: string[] }

/** Removes every container of a stopped node. Idempotent; call it with the node's process gone. */
export async function removeNodeContainers(nodeData: string, nodeNetns: string | null): Promise<ContainerCleanup> {
  const root = runcRoot(nodeData);
  const list = runcList(root);
  for (const c of list) {
    if (c.status === "paused") tryRun("runc", ["--root", root, "resume", c.id]);
    tryRun("runc", ["--root", root, "kill", c.id, "KILL"]);
  }
  for (const end = Date.now() + 5000; list.some((c) => alive(c.pid)) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20));
  for (const c of list) tryRun("runc", ["--root", root, "delete", "--force", c.id]);
  const netns = containerNetns(nodeData, nodeNetns).filter((n) => existsSync(`/run/netns/${n}`));
  for (const n of netns) {
    tryRun("ip", ["netns", "del", n]);
    const hostIf = `vh${n.slice(3)}`;
    if (existsSync(`/sys/class/net/${hostIf}`)) tryRun("ip", ["link", "del", hostIf]);
  }
  const mounts = existsSync(nodeData) ? mountsUnder(nodeData) : [];
  for (const m of mounts) if (tryRun("umount", [m]) === null) tryRun("umount", ["-l", m]);
  return { containers: list.map((c) => c.id), mounts, netns };
}

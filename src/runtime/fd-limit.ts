// The process's open-file limit: read it, raise it where the daemon starts, and split it between
// the daemon's own files and its clients' connections.
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

/** The soft and hard `RLIMIT_NOFILE` of this process (from /proc; Node has no getrlimit). */
export function openFileLimit(): { soft: number; hard: number } {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const [soft, hard] = (line ?? "").split(/\s+/).slice(3, 5).map((v) => (v === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(v)));
    if (Number.isFinite(soft) && Number.isFinite(hard)) return { soft: soft!, hard: hard! };
  } catch { /* not Linux */ }
  return { soft: 1024, hard: 1024 };
}

/**
 * Raises this process's open-file limit towards `want` (Node cannot call setrlimit itself, so
 * `prlimit` from util-linux does it on our pid). The soft limit always goes up to the hard one;
 * the hard one goes up too when we are root. Returns the limit now in force.
 */
export function raiseOpenFileLimit(want = 1 << 20): number {
  const now = openFileLimit();
  if (now.soft >= want) return now.soft;
  const target = process.getuid?.() === 0 ? want : Math.min(want, now.hard);
  if (target > now.soft) {
    const r = spawnSync("prlimit", [`--pid=${process.pid}`, `--nofile=${target}:${Math.max(target, now.hard)}`], { stdio: "ignore" });
    if (r.status !== 0 && now.hard > now.soft) spawnSync("prlimit", [`--pid=${process.pid}`, `--nofile=${now.hard}:${now.hard}`], { stdio: "ignore" });
  }
  return openFileLimit().soft;
}

/**
 * How many client connections a daemon may hold so that `reserve` descriptors always stay free for
 * its own files (block log, snapshots, data files, child pipes). Never below 1.
 */
export function connectionBudget(reserve: number, limit = openFileLimit().soft): number {
  return Math.max(1, limit - reserve);
}

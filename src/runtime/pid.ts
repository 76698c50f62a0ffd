// Whether a process is still running, as the node's supervisors need to know it.
import { readFileSync } from "node:fs";

/**
 * True while `pid` names a running process. A zombie (exited, not yet reaped by whoever inherited
 * it — e.g. a 0-db whose zos was killed) counts as gone: it holds no port, no files, no folder.
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try { process.kill(pid, 0); } catch { return false; }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = s.charAt(s.lastIndexOf(")") + 2);
    return state !== "Z" && state !== "X";
  } catch { return false; }
}

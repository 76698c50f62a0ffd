// The launcher's daemons start with a raised open-file limit: a launcher whose own soft limit is
// low (1024) still gives each daemon as many descriptors as the machine lets it grant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { tempDir } from "../support.js";

const exec = promisify(execFile);
const ROOT = new URL("../../..", import.meta.url).pathname;
const limits = (text: string) => {
  const m = /Max open files\s+(\d+)\s+(\d+)/.exec(text);
  assert.ok(m, text);
  return { soft: Number(m[1]), hard: Number(m[2]) };
};

test("startDaemon: a daemon gets a raised open-file limit even from a launcher with a low one", async (t) => {
  const dir = tempDir(t, "procs-nofile");
  const ours = limits(readFileSync("/proc/self/limits", "utf8"));
  const script = `
    import { startDaemon, stopPid } from ${JSON.stringify(join(ROOT, "dist/src/grid/procs.js"))};
    const d = await startDaemon({ name: "probe", command: "sh", args: ["-c", "grep 'Max open files' /proc/self/limits > ${dir}/limits; echo '{}'; sleep 30"], logDir: ${JSON.stringify(dir)}, runDir: ${JSON.stringify(dir)} });
    await stopPid(d.pid, 2000);
  `;
  await exec("prlimit", [`--nofile=1024:${ours.hard}`, "--", process.execPath, "--input-type=module", "-e", script], { timeout: 30_000 });
  const got = limits(readFileSync(join(dir, "limits"), "utf8"));
  assert.ok(got.soft >= Math.min(65536, ours.hard), `the daemon's soft limit ${got.soft} is raised from the launcher's 1024 (hard ${ours.hard})`);
});

// The OCI runtime, driven through its CLI: runc (Debian's), or crun where it works (it refuses the
// hybrid cgroup v1/v2 layout these machines have, so runc is preferred whenever it is there).
import { access, constants } from "node:fs/promises";
import { readFile } from "node:fs/promises";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InternalError, NotFoundError } from "../../core/index.js";
import { sh, CommandError } from "./sys.js";

/** A node's runc state folder: DATA/container/.runc. */
export function runcRoot(dataDir: string): string { return join(dataDir, "container", ".runc"); }

/** `runc list` under a node's runtime root, synchronously (for operators' checks and tests). */
export function runcList(root: string): Array<{ id: string; pid: number; status: string }> {
  if (!existsSync(root)) return [];
  try {
    const out = execFileSync("runc", ["--root", root, "list", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return (JSON.parse(out.trim() || "null") as Array<{ id: string; pid: number; status: string }> | null) ?? [];
  } catch { return []; }
}

export interface RuntimeState { status: "created" | "running" | "paused" | "stopped"; pid: number }

async function onPath(bin: string): Promise<string | null> {
  for (const d of (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").concat(["/usr/sbin", "/sbin"])) {
    const p = `${d}/${bin}`;
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return null;
}

/** The runtime binary to use: runc if installed; crun only on a pure cgroup v2 host. */
export async function detectRuntime(): Promise<string> {
  const runc = await onPath("runc");
  if (runc) return runc;
  const crun = await onPath("crun");
  const hybrid = await access("/sys/fs/cgroup/memory", constants.F_OK).then(() => true, () => false);
  if (crun && !hybrid) return crun;
  throw new NotFoundError(crun ? "crun is installed but refuses this host's hybrid cgroup layout" : "no OCI runtime on this node", "install runc (apt-get install runc)");
}

export class Runtime {
  constructor(readonly bin: string, readonly root: string) {}
  private base(): string[] { return ["--root", this.root]; }

  /** `run -d`: the container keeps running when this process (or the node) exits. */
  async run(id: string, bundle: string, outFd: number, logFile: string): Promise<void> {
    try {
      await sh(this.bin, [...this.base(), "--log", logFile, "--log-format", "json", "run", "-d", "--bundle", bundle, id], { stdio: [outFd, outFd] });
    } catch (e) {
      // Not a CommandError: runc could not even start (exhausted, …), keep that error's code.
      if (!(e instanceof CommandError)) throw e;
      throw new InternalError(`${this.bin} run ${id} failed: ${await lastError(logFile) ?? e.message}`, undefined, { cause: e });
    }
  }
  async state(id: string): Promise<RuntimeState | null> {
    try {
      const s = JSON.parse(await sh(this.bin, [...this.base(), "state", id])) as RuntimeState;
      return { status: s.status, pid: s.pid };
    } catch (e) {
      if (e instanceof CommandError && /does not exist|not exist|no such/i.test(e.stderr)) return null;
      if (e instanceof CommandError) return null;
      throw e;
    }
  }
  /** The init pid from runc's own state file (no process spawned), or null. */
  async pid(id: string): Promise<number | null> {
    try { return (JSON.parse(await readFile(`${this.root}/${id}/state.json`, "utf8")) as { init_process_pid: number }).init_process_pid; } catch { return null; }
  }
  async kill(id: string, signal = "KILL"): Promise<void> { await sh(this.bin, [...this.base(), "kill", id, signal]).catch(() => {}); }
  async delete(id: string): Promise<void> {
    await sh(this.bin, [...this.base(), "delete", "--force", id]).catch(async (e: CommandError) => {
      if (/does not exist|not exist/i.test(e.stderr)) return;
      throw e;
    });
  }
  /** Every container under this runtime root (a node's root holds only its own). */
  async list(): Promise<Array<{ id: string; pid: number; status: string }>> {
    const out = await sh(this.bin, [...this.base(), "list", "--format", "json"]);
    return (JSON.parse(out.trim() || "null") as Array<{ id: string; pid: number; status: string }> | null) ?? [];
  }
  async pause(id: string): Promise<void> { await sh(this.bin, [...this.base(), "pause", id]); }
  async resume(id: string): Promise<void> { await sh(this.bin, [...this.base(), "resume", id]); }
}

async function lastError(logFile: string): Promise<string | null> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  const lines = text.trim().split("\n").reverse();
  for (const l of lines) {
    try { const v = JSON.parse(l) as { level?: string; msg?: string }; if (v.level === "error" && v.msg) return v.msg; } catch { /* not JSON */ }
  }
  return null;
}

// Small wrappers over the host tools the runtime drives: mount, ip, and /proc/self/mountinfo.
import { execFile, spawn, type StdioOptions } from "node:child_process";
import { readFile, realpath } from "node:fs/promises";
import { InternalError, toGridError, type GridError } from "../../core/index.js";

/** A command that ran and failed (non-zero exit): `internal` unless its caller knows better. */
export class CommandError extends InternalError {
  constructor(readonly cmd: string, readonly stderr: string, readonly exitCode: number | null) {
    super(`${cmd} failed${exitCode !== null ? ` (exit ${exitCode})` : ""}: ${stderr.trim() || "no message"}`);
  }
}

/**
 * A command that could not even start: out of descriptors or processes (EMFILE, EAGAIN, ENOMEM →
 * `exhausted`, transient: the step is retried), or not installed (ENOENT → `not_found`).
 */
function spawnFailed(cmd: string, e: NodeJS.ErrnoException): GridError {
  const g = toGridError(e);
  g.message = `${cmd}: cannot start: ${e.message}`;
  return g;
}

/** Runs a command; resolves with stdout, rejects with CommandError carrying stderr. */
export function sh(cmd: string, args: string[], opts: { input?: string; stdio?: Array<"ignore" | number> } = {}): Promise<string> {
  if (opts.stdio) {
    return new Promise((res, rej) => {
      const stdio: StdioOptions = ["ignore", opts.stdio![0], opts.stdio![1]];
      let c;
      // spawn throws at once (not via 'error') for some failures, e.g. EMFILE creating its pipes.
      try { c = spawn(cmd, args, { stdio }); } catch (e) { rej(spawnFailed(cmd, e as NodeJS.ErrnoException)); return; }
      c.once("error", (e) => rej(spawnFailed(cmd, e)));
      c.once("exit", (code) => (code === 0 ? res("") : rej(new CommandError(`${cmd} ${args.slice(0, 2).join(" ")}`, "", code))));
    });
  }
  return new Promise((res, rej) => {
    let c;
    try {
      c = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) res(String(stdout));
        else if (typeof err.code === "string") rej(spawnFailed(cmd, err as NodeJS.ErrnoException));
        else rej(new CommandError(`${cmd} ${args.slice(0, 2).join(" ")}`, String(stderr || err.message), typeof err.code === "number" ? err.code : null));
      });
    } catch (e) { rej(spawnFailed(cmd, e as NodeJS.ErrnoException)); return; }
    if (opts.input !== undefined) c.stdin!.end(opts.input);
  });
}

export async function mountPoints(): Promise<Set<string>> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return new Set(text.split("\n").filter(Boolean).map((l) => l.split(" ")[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))));
}

export async function isMounted(path: string): Promise<boolean> {
  const real = await realpath(path).catch(() => path);
  return (await mountPoints()).has(real);
}

/** Unmounts if mounted (lazily when busy). */
export async function unmount(path: string): Promise<void> {
  if (!(await isMounted(path))) return;
  await sh("umount", [path]).catch(() => sh("umount", ["-l", path]));
}

// Small wrappers over the host tools the runtime drives: mount, ip, and /proc/self/mountinfo.
import { execFile, spawn } from "node:child_process";
import { readFile, realpath } from "node:fs/promises";

export class CommandError extends Error {
  constructor(readonly cmd: string, readonly stderr: string, readonly exitCode: number | null) {
    super(`${cmd} failed${exitCode !== null ? ` (exit ${exitCode})` : ""}: ${stderr.trim() || "no message"}`);
  }
}

/** Runs a command; resolves with stdout, rejects with CommandError carrying stderr. */
export function sh(cmd: string, args: string[], opts: { input?: string; stdio?: Array<"ignore" | number> } = {}): Promise<string> {
  if (opts.stdio) {
    return new Promise((res, rej) => {
      const c = spawn(cmd, args, { stdio: ["ignore", opts.stdio![0], opts.stdio![1]] as never });
      c.once("error", (e) => rej(new CommandError(`${cmd} ${args[0] ?? ""}`, e.message, null)));
      c.once("exit", (code) => (code === 0 ? res("") : rej(new CommandError(`${cmd} ${args.slice(0, 2).join(" ")}`, "", code))));
    });
  }
  return new Promise((res, rej) => {
    const c = execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) rej(new CommandError(`${cmd} ${args.slice(0, 2).join(" ")}`, String(stderr || err.message), typeof err.code === "number" ? err.code : null));
      else res(String(stdout));
    });
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

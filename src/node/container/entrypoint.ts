// Entrypoint resolution: is what the container would exec in its root, as the container sees it
// (absolute symlinks resolved inside the root, $PATH searched)? A clear error before runc runs.
import { lstat, readlink } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../../core/index.js";

/** Resolves `p` inside `root` as the container would (absolute symlinks stay inside the root). */
async function resolveInRoot(root: string, p: string): Promise<string | null> {
  let parts = p.split("/").filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length; ) {
    const s = parts.shift()!;
    if (s === ".") continue;
    if (s === "..") { done.pop(); continue; }
    const abs = join(root, ...done, s);
    const st = await lstat(abs).catch(() => null);
    if (!st) return null;
    if (st.isSymbolicLink()) {
      if (++hops > 40) return null;
      const t = await readlink(abs);
      if (t.startsWith("/")) done.length = 0;
      parts = [...t.split("/").filter(Boolean), ...parts];
      continue;
    }
    done.push(s);
  }
  return join(root, ...done);
}

/** A clear error when what the container would exec is not in its root. */
export async function checkEntrypoint(rootfs: string, args: string[], env: string[]): Promise<void> {
  const cmd = args[0];
  if (!cmd) throw new ValidationError("the container has nothing to run: no entrypoint in the workload nor in the flist", "set `entrypoint`");
  const candidates = cmd.includes("/") ? [cmd] : (env.find((e) => e.startsWith("PATH="))?.slice(5) ?? "/usr/local/bin:/usr/bin:/bin").split(":").map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    const r = await resolveInRoot(rootfs, c);
    if (r && await lstat(r).then((s) => s.isFile() && (s.mode & 0o111) !== 0, () => false)) return;
  }
  throw new ValidationError(`entrypoint ${cmd} is not in the flist (or not executable)`, "check the workload's entrypoint against the image");
}

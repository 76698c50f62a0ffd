// Would the node find what a container runs? The same question the node asks once it has mounted
// the flist (src/node/container), answered here from the flist document alone, before anything is
// signed: the command (the workload's entrypoint, else the image's entrypoint + cmd) resolves,
// through the flist's symlinks and the container's PATH, to an executable file. Pure.
import { CONTAINER_DEFAULT_PATH, splitCommand } from "../core/index.js";
import type { Flist, FlistEntry } from "../flist/index.js";

export { splitCommand };
const DEFAULT_PATH = CONTAINER_DEFAULT_PATH;

/** The entry a path leads to inside the flist, symlinks followed (an absolute target means the
 *  image's own root); null when it leads nowhere. */
function resolve(entries: Map<string, FlistEntry>, path: string): FlistEntry | null {
  let todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const [s, ...rest] = todo;
    todo = rest;
    if (s === ".") continue;
    if (s === "..") { done.pop(); continue; }
    const e = entries.get([...done, s].join("/"));
    if (!e) return null;
    if (e.type === "symlink") {
      if (++hops > 40) return null;
      if (e.target.startsWith("/")) done.length = 0;
      todo = [...e.target.split("/").filter(Boolean), ...todo];
      continue;
    }
    done.push(s);
  }
  return entries.get(done.join("/")) ?? null;
}

/** What the container would exec, or why it would not start: null when the command is found. */
export function entrypointProblem(flist: Flist, entrypoint: string, env: Record<string, string> = {}): string | null {
  const args = entrypoint.trim() ? splitCommand(entrypoint) : [...flist.config.entrypoint, ...flist.config.cmd];
  const cmd = args[0];
  if (!cmd) return "the container has nothing to run: no entrypoint in the file nor in the image";
  let path = DEFAULT_PATH;
  for (const kv of flist.config.env) if (kv.startsWith("PATH=")) path = kv.slice(5);
  if (env.PATH !== undefined) path = env.PATH;
  const entries = new Map(flist.entries.map((e) => [e.path, e]));
  const candidates = cmd.includes("/") ? [cmd.startsWith("/") ? cmd : `${flist.config.workdir || "/"}/${cmd}`] : path.split(":").filter(Boolean).map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    const e = resolve(entries, c);
    if (e?.type === "file" && (e.mode & 0o111) !== 0) return null;
    if (e?.type === "file" && cmd.includes("/")) return `entrypoint ${cmd} is in the flist but not executable (mode ${e.mode.toString(8)})`;
  }
  return cmd.includes("/") ? `entrypoint ${cmd} is not in the flist` : `entrypoint ${cmd} is not in the flist's PATH (${path})`;
}

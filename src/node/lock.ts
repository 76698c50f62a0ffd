// One zos per data folder: `DATA/zos.pid` names the process that owns the folder (the daemon, or a
// `zos cleanup` while it works). A second owner would provision everything twice, or remove what a
// running node still uses.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { GridError } from "../core/index.js";
import { readJson, removeFile, writeFileAtomic } from "../runtime/index.js";
import { pidAlive } from "../runtime/index.js";

export function lockPath(dataDir: string): string { return join(dataDir, "zos.pid"); }

/** The pid of another live process holding the data folder, or null. */
export async function lockHolder(dataDir: string): Promise<number | null> {
  const prev = await readJson<{ pid: number }>(lockPath(dataDir)).catch(() => undefined);
  if (!prev?.pid || prev.pid === process.pid || !pidAlive(prev.pid)) return null;
  // A reused pid is not a holder: the owner's command line names the folder.
  const cmd = await readFile(`/proc/${prev.pid}/cmdline`, "utf8").catch(() => "");
  return cmd.includes(dataDir) ? prev.pid : null;
}

/** Takes the data folder for this process; refuses when another zos holds it. Returns the lock file. */
export async function lockDataDir(dataDir: string): Promise<string> {
  const holder = await lockHolder(dataDir);
  if (holder !== null) throw new GridError("conflict", `another zos (pid ${holder}) runs on ${dataDir}`, "stop it first, or give this node its own --data folder");
  const path = lockPath(dataDir);
  await writeFileAtomic(path, JSON.stringify({ pid: process.pid }));
  return path;
}

export async function unlockDataDir(dataDir: string): Promise<void> {
  await removeFile(lockPath(dataDir)).catch(() => {});
}

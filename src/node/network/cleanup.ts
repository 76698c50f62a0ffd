// `zos cleanup`'s share for networks: from the records on disk (not a running node's memory),
// every network's wireguard-go is stopped and its namespace removed.
import { rm } from "node:fs/promises";
import type { Logger } from "pino";
import { NetworkManager, removeRecorded } from "./manager.js";

export interface NetworkCleanup { netns: string[]; processes: number[]; errors: string[] }

export async function cleanupNetworks(dataDir: string, log: Logger, opts: { purge?: boolean } = {}): Promise<NetworkCleanup> {
  const m = new NetworkManager(dataDir, log);
  const out: NetworkCleanup = { netns: [], processes: [], errors: [] };
  for (const r of await m.records()) {
    await removeRecorded(r).then((got) => {
      out.processes.push(...got.pids);
      if (got.netns) out.netns.push(r.netns);
    }, (e: unknown) => out.errors.push(`network ${r.id}: ${(e as Error).message}`));
  }
  if (opts.purge && !out.errors.length) await rm(m.dir, { recursive: true, force: true });
  return out;
}

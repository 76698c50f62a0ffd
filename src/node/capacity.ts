// What the node offers: detected from the machine, minus a reserve for the node itself; each unit
// can be overridden by a flag so several nodes can share one machine.
import { readFile, statfs, stat } from "node:fs/promises";
import { DamagedError, GiB, type Capacity } from "../core/index.js";

export function parseCpuinfo(text: string): number {
  const n = text.split("\n").filter((l) => /^processor\s*:/.test(l)).length;
  return Math.max(1, n);
}

export function parseMeminfo(text: string): number {
  const m = /^MemTotal:\s+(\d+)\s*kB/m.exec(text);
  if (!m) throw new DamagedError("no MemTotal in /proc/meminfo", "is /proc mounted? pass --mru to set the memory offered");
  return Number(m[1]) * 1024;
}

/** The node keeps 10% of memory (at least 1 GiB) and 5% of its disk (at least 1 GiB) for itself. */
export function applyReserve(raw: Capacity): Capacity {
  const mem = Math.max(GiB, Math.floor(raw.mru * 0.1));
  const disk = (v: number) => (v === 0 ? 0 : Math.max(0, v - Math.max(GiB, Math.floor(v * 0.05))));
  return { cru: raw.cru, mru: Math.max(0, raw.mru - mem), sru: disk(raw.sru), hru: disk(raw.hru) };
}

/** Whether the block device holding `path` spins (queue/rotational of the disk or its parent). */
export async function isRotational(path: string): Promise<boolean> {
  const dev = (await stat(path)).dev;
  const major = Math.floor(dev / 256) & 0xfff, minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  const base = `/sys/dev/block/${major}:${minor}`;
  // A partition has no queue/ of its own: its disk is the parent folder.
  for (const candidate of [`${base}/queue/rotational`, `${base}/../queue/rotational`]) {
    try { return (await readFile(candidate, "utf8")).trim() === "1"; } catch { /* next */ }
  }
  // overlay, tmpfs, … have no block device: count as SSD.
  return false;
}

export interface CapacityOverrides { cru?: number; mru?: number; sru?: number; hru?: number }

export async function detectCapacity(dataDir: string, overrides: CapacityOverrides = {}): Promise<{ capacity: Capacity; detected: Capacity }> {
  const cru = parseCpuinfo(await readFile("/proc/cpuinfo", "utf8").catch(() => "processor : 0\n"));
  const mru = parseMeminfo(await readFile("/proc/meminfo", "utf8"));
  const fs = await statfs(dataDir);
  const size = Number(fs.blocks) * Number(fs.bsize);
  const rotational = await isRotational(dataDir);
  const detected = applyReserve({ cru, mru, sru: rotational ? 0 : size, hru: rotational ? size : 0 });
  const capacity: Capacity = {
    cru: overrides.cru ?? detected.cru,
    mru: overrides.mru ?? detected.mru,
    sru: overrides.sru ?? detected.sru,
    hru: overrides.hru ?? detected.hru,
  };
  return { capacity, detected };
}

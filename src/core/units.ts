// Resource units, and what they cost, after TFChain's formulas. Sizes are bytes; cru is cores.
import { z } from "zod";
import { ValidationError } from "./errors.js";

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export const capacitySchema = z.object({
  cru: z.number().int().min(0),
  mru: z.number().int().min(0),
  sru: z.number().int().min(0),
  hru: z.number().int().min(0),
}).strict();
export type Capacity = z.infer<typeof capacitySchema>;

export const ZERO_CAPACITY: Capacity = Object.freeze({ cru: 0, mru: 0, sru: 0, hru: 0 });

export function addCapacity(a: Capacity, b: Capacity): Capacity {
  return { cru: a.cru + b.cru, mru: a.mru + b.mru, sru: a.sru + b.sru, hru: a.hru + b.hru };
}
export function subCapacity(a: Capacity, b: Capacity): Capacity {
  return { cru: a.cru - b.cru, mru: a.mru - b.mru, sru: a.sru - b.sru, hru: a.hru - b.hru };
}
/** Whether `need` fits in `free`; if not, the first unit that does not, in words. */
export function capacityShortfall(need: Capacity, free: Capacity): string | null {
  const names: Record<keyof Capacity, string> = { cru: "CPU cores", mru: "memory", sru: "SSD", hru: "HDD" };
  for (const k of ["cru", "mru", "sru", "hru"] as const) {
    if (need[k] > free[k]) {
      const fmt = (v: number) => (k === "cru" ? String(v) : formatBytes(v));
      return `needs ${fmt(need[k])} of ${names[k]} but only ${fmt(Math.max(0, free[k]))} is free`;
    }
  }
  return null;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n, i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}

/** Parse "10GiB", "512 MB", "1.5G", or a plain number of bytes. */
export function parseSize(input: string | number): number {
  if (typeof input === "number") return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(input);
  if (!m) throw new ValidationError(`"${input}" is not a size`, "write it like 10GiB, 512MiB or 1000000");
  const pow = { "": 0, k: 1, m: 2, g: 3, t: 4 }[m[2].toLowerCase() as "" | "k" | "m" | "g" | "t"];
  const base = m[3].toLowerCase() === "b" && m[2] !== "" ? 1000 : 1024;
  return Math.round(parseFloat(m[1]) * base ** pow);
}

/** TFChain's compute and storage units of a reservation (sizes in GB of 1024^3 bytes). */
export function computeUnits(c: Capacity): number {
  const mru = c.mru / GiB, cru = c.cru;
  return Math.min(Math.max(mru / 4, cru / 2), Math.max(mru / 8, cru), Math.max(mru / 2, cru / 4));
}
export function storageUnits(c: Capacity): number {
  return c.hru / GiB / 1200 + c.sru / GiB / 200;
}

/** Prices in the smallest token unit per unit per hour of ledger time. */
export interface Prices {
  cuPerHour: number;
  suPerHour: number;
  publicIpPerHour: number;
  namePerHour: number;
}

export const DEFAULT_PRICES: Prices = Object.freeze({ cuPerHour: 10_000, suPerHour: 5_000, publicIpPerHour: 4_000, namePerHour: 500 });

/** Cost of holding `c` (plus public IPs and gateway names) for `seconds` of ledger time, rounded up. */
export function reservationCost(c: Capacity, extras: { publicIps: number; names: number }, seconds: number, prices: Prices = DEFAULT_PRICES): number {
  const perHour = computeUnits(c) * prices.cuPerHour + storageUnits(c) * prices.suPerHour
    + extras.publicIps * prices.publicIpPerHour + extras.names * prices.namePerHour;
  return Math.ceil((perHour * seconds) / 3600);
}

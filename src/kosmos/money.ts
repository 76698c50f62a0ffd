// Money before signing: how long the balance lasts at the price of what is deployed plus what the
// file adds, and whether it pays one billing period at all. Pure.
import { InsufficientFundsError } from "../core/index.js";

export interface Runway {
  balance: number;
  /** What this deployment costs per billing period (the ledger's own formula). */
  perPeriod: number;
  /** What the twin's other live contracts cost per period (they are billed from the same balance). */
  othersPerPeriod: number;
  billingPeriod: number;
  /** Whole periods paid before the balance runs out, in seconds; null when nothing costs anything. */
  coversSeconds: number | null;
  /** Whether the balance pays the next billing period of everything. */
  enough: boolean;
}

export function runway(balance: number, perPeriod: number, othersPerPeriod: number, billingPeriod: number): Runway {
  const total = perPeriod + othersPerPeriod;
  const periods = total > 0 ? Math.floor(balance / total) : null;
  return { balance, perPeriod, othersPerPeriod, billingPeriod, coversSeconds: periods === null ? null : periods * billingPeriod, enough: periods === null || periods >= 1 };
}

/** "45 s", "12 min", "9 h", "3 d 4 h": coarse, as a person reads a duration. */
export function durationText(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h${seconds % 3600 >= 60 ? ` ${Math.floor((seconds % 3600) / 60)} min` : ""}`;
  const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600);
  return `${d} d${h ? ` ${h} h` : ""}`;
}

export function runwayText(r: Runway): string {
  if (r.coversSeconds === null) return `costs nothing; your balance is ${r.balance}`;
  const others = r.othersPerPeriod ? ` (with your other deployments' ${r.othersPerPeriod})` : "";
  return `your balance ${r.balance} covers ${durationText(r.coversSeconds)} at ${r.perPeriod + r.othersPerPeriod} per billing period of ${durationText(r.billingPeriod)}${others}`;
}

/** Refuses a plan the balance cannot carry through one billing period (unless forced). */
export function checkRunway(r: Runway, force: boolean): void {
  if (r.enough || force) return;
  throw new InsufficientFundsError(
    `your balance ${r.balance} does not cover one billing period (${durationText(r.billingPeriod)}): it costs ${r.perPeriod}${r.othersPerPeriod ? ` plus ${r.othersPerPeriod} for your other deployments` : ""}; it would go into grace at once and be deleted`,
    "fund your twin (`kosmos wallet faucet` on a local grid, or a transfer), or pass --force to deploy anyway",
  );
}

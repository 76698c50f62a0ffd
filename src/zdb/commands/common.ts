// What every command family shares: the handler types, argument checks and small helpers.
import { createHash } from "node:crypto";
import type { Namespace } from "../namespace.js";
import type { FrameParser } from "../resp.js";
import type { Client, Server } from "../server.js";
import { FLAG_DELETED } from "../format.js";

export const MAX_VALUE = 8 * 1024 * 1024;

export type Handler = (s: Server, c: Client, a: Buffer[], n: number) => void;
/** A hot command reading its arguments where the parser found them (no Buffer view per argument). */
export type FastHandler = (s: Server, c: Client, f: FrameParser) => void;
export interface Command { name: string; write?: boolean; handler: Handler; fast?: FastHandler; }

export const str = (b: Buffer) => b.toString("utf8");
export const eqi = (b: Buffer, s: string) => b.length === s.length && b.toString("latin1").toUpperCase() === s;
export const nowSec = (s: Server) => s.store.opts.now();

export function argsExact(c: Client, n: number, expected: number, allowEmpty = false, a?: Buffer[]): boolean {
  if (n !== expected) { c.out.error("Unexpected arguments"); return false; }
  if (!allowEmpty && a) for (let i = 0; i < n; i++) if (a[i].length === 0) { c.out.error("Invalid argument"); return false; }
  return true;
}

export function admin(c: Client): boolean {
  if (!c.admin) { c.out.error("Permission denied"); return false; }
  return true;
}

export function liveSlot(ns: Namespace, key: Buffer): number {
  const s = ns.findKey(key);
  return s >= 0 && !(ns.table.flags[s] & FLAG_DELETED) ? s : -1;
}

export function hashPassword(nonce: string, password: string): string {
  return createHash("sha1").update(`${nonce}:${password}`).digest("hex");
}

export function ns(c: Client): Namespace { return c.ns as Namespace; }


// IPv4 CIDR arithmetic (pure). The node has the same few functions in src/node/network/cidr.ts:
// the parts may not import each other, and this is too small to be worth a place in core yet.
import { ValidationError } from "../../core/index.js";

export interface Cidr { base: number; prefix: number }

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new ValidationError(`${ip} is not an IPv4 address`);
  return parts.reduce((a, x) => a * 256 + Number(x), 0);
}
export function intToIp(n: number): string { return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."); }
const maskOf = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new ValidationError(`${s} is not an IPv4 CIDR like 10.20.0.0/16`);
  const base = ipToInt(m[1]), prefix = Number(m[2]);
  if (((base & ~maskOf(prefix)) >>> 0) !== 0) throw new ValidationError(`${s} has host bits set`, `the network is ${intToIp((base & maskOf(prefix)) >>> 0)}/${prefix}`);
  return { base, prefix };
}
export const formatCidr = (c: Cidr) => `${intToIp(c.base)}/${c.prefix}`;
export const contains = (c: Cidr, ip: number) => ((ip & maskOf(c.prefix)) >>> 0) === c.base;
export function overlaps(a: Cidr, b: Cidr): boolean { return contains(a, b.base) || contains(b, a.base); }

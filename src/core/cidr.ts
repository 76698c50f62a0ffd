// IPv4 CIDR arithmetic and host address allocation for the overlay networks (Zero-Net): pure, no
// I/O. Kosmos plans subnets and container addresses with it, and the node checks the same rules
// again with the same code. Addresses are unsigned 32-bit numbers.
import { ValidationError } from "./errors.js";

export interface Cidr { base: number; prefix: number }

export function ipToInt(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) throw new ValidationError(`${ip} is not an IPv4 address`);
  return parts.reduce((a, x) => a * 256 + Number(x), 0);
}

export function intToIp(n: number): string { return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."); }

function maskOf(prefix: number): number { return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0; }

/** Parses "a.b.c.d/n"; the host bits must be zero (a network, not an address in it). */
export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new ValidationError(`${s} is not an IPv4 CIDR like 10.20.0.0/16`);
  const base = ipToInt(m[1]), prefix = Number(m[2]);
  if (((base & ~maskOf(prefix)) >>> 0) !== 0) throw new ValidationError(`${s} has host bits set`, `the network is ${intToIp((base & maskOf(prefix)) >>> 0)}/${prefix}`);
  return { base, prefix };
}

export function formatCidr(c: Cidr): string { return `${intToIp(c.base)}/${c.prefix}`; }
/** How many addresses the block holds (network and broadcast included). */
export function cidrSize(c: Cidr): number { return 2 ** (32 - c.prefix); }
export function cidrContains(c: Cidr, ip: number): boolean { return ((ip & maskOf(c.prefix)) >>> 0) === c.base; }
/** Whether `inner` is a block of `outer` (the same block included). */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean { return inner.prefix >= outer.prefix && cidrContains(outer, inner.base); }
/** Two aligned blocks overlap exactly when one holds the other's base. */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean { return cidrContains(a, b.base) || cidrContains(b, a.base); }

/** The subnet's gateway: its first host address (the node's bridge holds it). */
export function gatewayOf(c: Cidr): number { return c.base + 1; }

/**
 * Container addresses in a node's subnet: those asking for one keep it (checked: in the subnet,
 * not the network or broadcast address or the gateway, not taken twice), the others get the lowest
 * free ones in their order in the deployment, so an appended container never moves the others.
 */
export function allocateHosts(subnet: string, wants: Array<{ name: string; ip?: string }>): Map<string, string> {
  const c = parseCidr(subnet);
  if (c.prefix > 29) throw new ValidationError(`subnet ${subnet} is too small for containers`, "give each node at least a /29");
  const first = gatewayOf(c) + 1, last = c.base + cidrSize(c) - 2;
  const out = new Map<string, string>();
  const taken = new Set<number>();
  for (const w of wants) {
    if (!w.ip) continue;
    const ip = ipToInt(w.ip);
    if (ip < first || ip > last) throw new ValidationError(`container ${w.name}: address ${w.ip} is not a usable address of its node's subnet ${subnet}`, `use one of ${intToIp(first)}–${intToIp(last)}, or leave \`ip\` out`);
    if (taken.has(ip)) throw new ValidationError(`container ${w.name}: address ${w.ip} is taken by another container`);
    taken.add(ip);
    out.set(w.name, w.ip);
  }
  let next = first;
  for (const w of wants) {
    if (w.ip) continue;
    while (taken.has(next)) next++;
    if (next > last) throw new ValidationError(`subnet ${subnet} has no address left for container ${w.name}`);
    taken.add(next);
    out.set(w.name, intToIp(next));
  }
  return out;
}

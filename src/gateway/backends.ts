// Which backends a gateway may forward to. A gateway is a door into its own node's network: it must
// never reach the node's own services, link-local or loopback addresses, or another user's private
// network. A backend is an IPv4 literal (no DNS: a name could later resolve anywhere) and a port;
// a private address must be inside one of the networks the user's own deployment declares.
import { ValidationError } from "../core/index.js";

export interface Backend { host: string; port: number }

const BACKEND = /^(?:(?:http|https|tcp):\/\/)?(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\/?$/;

export function ipv4ToInt(ip: string): number {
  const parts = ip.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new ValidationError(`"${ip}" is not an IPv4 address`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export interface Cidr { base: number; bits: number }

export function parseCidr(s: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s);
  if (!m || Number(m[2]) > 32) throw new ValidationError(`"${s}" is not an IPv4 CIDR`);
  const bits = Number(m[2]);
  return { base: (ipv4ToInt(m[1]!) & mask(bits)) >>> 0, bits };
}

const mask = (bits: number) => (bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0);
export const inCidr = (ip: number, c: Cidr) => ((ip & mask(c.bits)) >>> 0) === c.base;

/** Never a backend, whoever asks: the host itself, link-local, multicast and reserved space. */
const FORBIDDEN = ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "240.0.0.0/4"].map(parseCidr);
/** Private space: a backend here must be in one of the user's own networks. */
const PRIVATE = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].map(parseCidr);

export interface BackendPolicy {
  /** IPv4 ranges of the user's own networks (the deployment's `network` workloads). */
  ownNetworks: string[];
  /** Addresses of this node itself (its underlay…): refused even if public. */
  nodeAddresses?: string[];
}

/** Parse one backend of a workload ("http://10.20.1.2:80", "10.20.1.2:80") and check it against the policy. */
export function checkBackend(input: string, policy: BackendPolicy): Backend {
  const m = BACKEND.exec(input.trim());
  if (!m) throw new ValidationError(`backend "${input}" is not IPv4:port`, "write a backend as http://10.20.1.2:80 (an address, not a name)");
  const host = m[1]!, port = Number(m[2]);
  const ip = ipv4ToInt(host);
  if (port < 1 || port > 65535) throw new ValidationError(`backend "${input}": port ${port} is out of range`);
  if (FORBIDDEN.some((c) => inCidr(ip, c))) throw new ValidationError(`backend "${input}" is a loopback, link-local, multicast or reserved address`, "a gateway forwards only to your own network's containers or to public addresses");
  if ((policy.nodeAddresses ?? []).some((a) => a === host)) throw new ValidationError(`backend "${input}" is the gateway node itself`, "a gateway cannot reach its node's own services");
  if (PRIVATE.some((c) => inCidr(ip, c)) && !policy.ownNetworks.some((n) => inCidr(ip, parseCidr(n)))) {
    throw new ValidationError(`backend "${input}" is a private address outside your own networks`, "point it at a container of a network your deployment declares, or at a public address");
  }
  return { host, port };
}

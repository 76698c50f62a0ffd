// How one network spans nodes (pure): a /24 of the range per node, one peer list per node, and the
// access point for hidden nodes and the user's own machine.
//  - Public nodes (with an endpoint) peer with every other public node, each routing its subnet.
//  - A hidden node (behind NAT, no endpoint) peers only with the relay — the first public node —
//    routing the whole range to it and keeping its NAT mapping open (the node sets a keepalive
//    towards peers that have an endpoint). The relay peers with it without an endpoint (it learns it
//    from the hidden node's packets), and the other public nodes route its subnet via the relay.
//  - The user's access peers (a /32 each from the range's last /24) hang off the relay the same way.
import { ValidationError, formatCidr, intToIp, parseCidr } from "../../core/index.js";

/** The subnet each node gets: a /24 (the range must be at least a /22: nodes plus the access /24). */
export const SUBNET_PREFIX = 24;

export interface Member {
  nodeId: number;
  subnet: string;
  publicKey: string;
  /** "ip:port" when the node is reachable from the other nodes; absent for a hidden node. */
  endpoint?: string;
}

export interface AccessPeer { publicKey: string; address: string }

export interface Peer { subnet: string; wgPublicKey: string; allowedIps: string[]; endpoint?: string }

/** Checks a range: a network, big enough for node subnets and the access /24. */
export function checkRange(ipRange: string): void {
  const r = parseCidr(ipRange);
  if (r.prefix > 22) throw new ValidationError(`range ${ipRange} is too small`, "give the network at least a /22 (each node gets a /24), e.g. 10.20.0.0/16");
  if (r.prefix < 8) throw new ValidationError(`range ${ipRange} is too big`, "a /8 at most");
}

/** The /24s of a range in order (the first is skipped: x.x.0.0/24 reads as the range itself). */
function subnetsOf(ipRange: string): string[] {
  const r = parseCidr(ipRange);
  const n = 2 ** (SUBNET_PREFIX - r.prefix);
  return Array.from({ length: n }, (_, i) => formatCidr({ base: r.base + i * 256, prefix: SUBNET_PREFIX })).slice(1, -1);
}

/** The /24 the user's access peers take their addresses from: the range's last one. */
export function accessSubnet(ipRange: string): string {
  const r = parseCidr(ipRange);
  return formatCidr({ base: r.base + 2 ** (32 - r.prefix) - 256, prefix: SUBNET_PREFIX });
}

/**
 * A subnet per node: nodes that have one keep it (an existing network grows without moving
 * anyone), the others get the first free /24s in the order given.
 */
export function allocateSubnets(ipRange: string, nodeIds: number[], existing: ReadonlyMap<number, string> = new Map()): Map<number, string> {
  checkRange(ipRange);
  const all = subnetsOf(ipRange);
  const out = new Map<number, string>();
  const used = new Set<string>();
  for (const id of nodeIds) {
    const s = existing.get(id);
    if (s && all.includes(s) && !used.has(s)) { out.set(id, s); used.add(s); }
  }
  let i = 0;
  for (const id of nodeIds) {
    if (out.has(id)) continue;
    while (i < all.length && used.has(all[i])) i++;
    if (i >= all.length) throw new ValidationError(`range ${ipRange} has no /24 left for node ${id}`, "use a bigger range");
    out.set(id, all[i]); used.add(all[i]);
  }
  return out;
}

/** The node that relays for hidden nodes and serves the user's access: the first public member. */
export function relayOf(members: Member[]): Member | undefined { return members.find((m) => m.endpoint); }

/** The peers of member `me` (what goes in its network workload). */
export function peersFor(me: Member, members: Member[], ipRange: string, access: AccessPeer[] = []): Peer[] {
  const relay = relayOf(members);
  const hidden = members.filter((m) => !m.endpoint);
  if (hidden.length && !relay) throw new ValidationError("every node of the network is hidden (no endpoint)", "place at least one workload of the network on a node with a public endpoint");
  const others = members.filter((m) => m.nodeId !== me.nodeId);
  if (!me.endpoint) {
    // Hidden: everything through the relay.
    return [{ subnet: relay!.subnet, wgPublicKey: relay!.publicKey, allowedIps: [ipRange], endpoint: relay!.endpoint }];
  }
  const out: Peer[] = [];
  for (const m of others) {
    if (!m.endpoint) {
      if (me === relay || me.nodeId === relay!.nodeId) out.push({ subnet: m.subnet, wgPublicKey: m.publicKey, allowedIps: [m.subnet] });
      continue;
    }
    const via = m.nodeId === relay?.nodeId && me.nodeId !== relay.nodeId
      ? [...hidden.map((h) => h.subnet), ...access.map((a) => `${a.address}/32`)] : [];
    out.push({ subnet: m.subnet, wgPublicKey: m.publicKey, allowedIps: [m.subnet, ...via], endpoint: m.endpoint });
  }
  if (relay && me.nodeId === relay.nodeId) {
    for (const a of access) out.push({ subnet: `${a.address}/32`, wgPublicKey: a.publicKey, allowedIps: [`${a.address}/32`] });
  }
  return out;
}

/** The next free address for an access peer. */
export function nextAccessAddress(ipRange: string, taken: string[]): string {
  const s = parseCidr(accessSubnet(ipRange));
  const used = new Set(taken);
  for (let i = 2; i < 255; i++) { const ip = intToIp(s.base + i); if (!used.has(ip)) return ip; }
  throw new ValidationError(`the network's access subnet ${accessSubnet(ipRange)} is full`);
}

// The network namespace the node prepares for a container (until the overlay network lands): a
// private namespace with a veth pair, point-to-point /30 from 100.96.0.0/12, the host side holding
// .1 and the container .2, so the node (and anything on the host) reaches the container at its IP.
import { createHash, randomBytes } from "node:crypto";
import { access } from "node:fs/promises";
import { sh } from "./sys.js";

export interface NetPlan { netns: string; hostIf: string; ip: string; hostIp: string }

const BASE = (100 << 24) | (96 << 16); // 100.96.0.0
const BLOCKS = 1 << 18;               // /30s in a /12

function ipOf(n: number): string { return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."); }
function ipToInt(ip: string): number { return ip.split(".").reduce((a, x) => a * 256 + Number(x), 0); }

export interface NetNames { netns: string; hostIf: string; start: number }

function namesOfTag(tag: string, start: number): NetNames { return { netns: `gc-${tag}`, hostIf: `vh${tag}`, start }; }

/** Names (and first /30 to try) derived from a key: what a container gets on the cold path. */
export function netNames(key: string): NetNames {
  const h = createHash("sha256").update(key).digest();
  return namesOfTag(h.toString("hex").slice(0, 10), h.readUInt32BE(8) % BLOCKS);
}

/** Fresh random names: for namespaces prepared ahead of any container (the pool). */
export function randomNetNames(): NetNames {
  const b = randomBytes(9);
  return namesOfTag(b.toString("hex", 0, 5), b.readUInt32BE(5) % BLOCKS);
}

/** The host-side interface that goes with a namespace name (both carry the same tag). */
export function hostIfOf(netns: string): string { return `vh${netns.slice(3)}`; }

export async function netnsExists(netns: string): Promise<boolean> {
  // `ip netns add` makes /run/netns/NAME (/var/run is /run): no process needed to look.
  return access(`/run/netns/${netns}`).then(() => true, () => false);
}

/** The container-side IP of a prepared namespace, or null when it is not (fully) there. */
export async function netnsIp(netns: string): Promise<string | null> {
  if (!(await netnsExists(netns))) return null;
  const out = await sh("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", "eth0"]).catch(() => "");
  return /inet (\d+\.\d+\.\d+\.\d+)\/30/.exec(out)?.[1] ?? null;
}

export function planOf(netns: string, ip: string): NetPlan {
  return { netns, hostIf: hostIfOf(netns), ip, hostIp: ipOf(ipToInt(ip) - 1) };
}

// Addresses chosen by this process but perhaps not yet on an interface (so `ip addr` misses them):
// two namespaces prepared at the same time must not pick the same /30.
const reserved = new Set<string>();

async function usedAddresses(): Promise<Set<string>> {
  const out = await sh("ip", ["-4", "-o", "addr", "show"]);
  return new Set([...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]).concat([...reserved]));
}

/**
 * Creates namespace `n` with its veth pair and addresses. The container end is created inside the
 * namespace directly: moving an existing interface into a namespace costs the kernel 10-25 ms
 * (a network-wide synchronisation), creating it there does not.
 */
export async function createNetns(n: NetNames): Promise<NetPlan> {
  await removeNetns(n.netns);
  const used = await usedAddresses();
  let block = n.start;
  for (let i = 0; i < BLOCKS && (used.has(ipOf(BASE + block * 4 + 1)) || used.has(ipOf(BASE + block * 4 + 2))); i++) block = (block + 1) % BLOCKS;
  const hostIp = ipOf(BASE + block * 4 + 1), ip = ipOf(BASE + block * 4 + 2);
  reserved.add(hostIp).add(ip);
  // Two `ip -batch` runs (host side, then inside), fed on stdin, instead of a dozen processes.
  try {
    await sh("ip", ["-batch", "-"], { input: [
      `netns add ${n.netns}`,
      `link add ${n.hostIf} type veth peer name eth0 netns ${n.netns}`,
      `addr add ${hostIp}/30 dev ${n.hostIf}`,
      `link set ${n.hostIf} up`,
    ].join("\n") + "\n" });
    await sh("ip", ["-n", n.netns, "-batch", "-"], { input: [
      `link set lo up`,
      `addr add ${ip}/30 dev eth0`,
      `link set eth0 up`,
      `route add default via ${hostIp}`,
    ].join("\n") + "\n" });
  } catch (e) {
    await removeNetns(n.netns);
    throw e;
  } finally {
    reserved.delete(hostIp);
    reserved.delete(ip);
  }
  return { netns: n.netns, hostIf: n.hostIf, ip, hostIp };
}

/** Removes namespace `netns` (its veth pair goes with it); idempotent. */
export async function removeNetns(netns: string): Promise<void> {
  const hostIf = hostIfOf(netns);
  if (await netnsExists(netns)) await sh("ip", ["netns", "del", netns]);
  if (await access(`/sys/class/net/${hostIf}`).then(() => true, () => false)) await sh("ip", ["link", "del", hostIf]).catch(() => {});
}

/** Makes (or finds) the namespace for `key`; idempotent. */
export async function setupNetns(key: string): Promise<NetPlan> {
  const n = netNames(key);
  const have = await netnsIp(n.netns);
  if (have) return planOf(n.netns, have);
  return createNetns(n);
}

/** Removes the namespace of `key`; idempotent. */
export async function teardownNetns(key: string): Promise<void> {
  await removeNetns(netNames(key).netns);
}

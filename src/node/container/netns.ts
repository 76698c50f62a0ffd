// The network namespace the node prepares for a container (until the overlay network lands): a
// private namespace with a veth pair, point-to-point /30 from 100.96.0.0/12, the host side holding
// .1 and the container .2, so the node (and anything on the host) reaches the container at its IP.
import { createHash } from "node:crypto";
import { access, writeFile, unlink } from "node:fs/promises";
import { sh } from "./sys.js";

export interface NetPlan { netns: string; hostIf: string; ip: string; hostIp: string }

const BASE = (100 << 24) | (96 << 16); // 100.96.0.0
const BLOCKS = 1 << 18;               // /30s in a /12

function ipOf(n: number): string { return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."); }

export function netNames(key: string): { netns: string; hostIf: string; tmpIf: string; start: number } {
  const h = createHash("sha256").update(key).digest();
  const tag = h.toString("hex").slice(0, 10);
  return { netns: `gc-${tag}`, hostIf: `vh${tag}`, tmpIf: `vc${tag}`, start: h.readUInt32BE(8) % BLOCKS };
}

async function usedAddresses(): Promise<Set<string>> {
  const out = await sh("ip", ["-4", "-o", "addr", "show"]);
  return new Set([...out.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]));
}

export async function netnsExists(netns: string): Promise<boolean> {
  // `ip netns add` makes /run/netns/NAME (/var/run is /run): no process needed to look.
  return access(`/run/netns/${netns}`).then(() => true, () => false);
}

/** The container's IP if its namespace is already set up. */
async function existingIp(netns: string): Promise<string | null> {
  if (!(await netnsExists(netns))) return null;
  const out = await sh("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", "eth0"]).catch(() => "");
  return /inet (\d+\.\d+\.\d+\.\d+)\/30/.exec(out)?.[1] ?? null;
}

/** Makes (or finds) the namespace for `key`; idempotent. */
export async function setupNetns(key: string, batchDir: string): Promise<NetPlan> {
  const n = netNames(key);
  const have = await existingIp(n.netns);
  if (have) return { netns: n.netns, hostIf: n.hostIf, ip: have, hostIp: ipOf(ipToInt(have) - 1) };
  await teardownNetns(key);
  const used = await usedAddresses();
  let block = n.start;
  for (let i = 0; i < BLOCKS && (used.has(ipOf(BASE + block * 4 + 1)) || used.has(ipOf(BASE + block * 4 + 2))); i++) block = (block + 1) % BLOCKS;
  const hostIp = ipOf(BASE + block * 4 + 1), ip = ipOf(BASE + block * 4 + 2);
  // Two `ip -batch` runs (host side, then inside) instead of a dozen processes.
  const hostBatch = `${batchDir}/net-host.batch`, nsBatch = `${batchDir}/net-ns.batch`;
  await writeFile(hostBatch, [
    `netns add ${n.netns}`,
    `link add ${n.hostIf} type veth peer name ${n.tmpIf}`,
    `link set ${n.tmpIf} netns ${n.netns}`,
    `addr add ${hostIp}/30 dev ${n.hostIf}`,
    `link set ${n.hostIf} up`,
  ].join("\n") + "\n");
  await writeFile(nsBatch, [
    `link set lo up`,
    `link set ${n.tmpIf} name eth0`,
    `addr add ${ip}/30 dev eth0`,
    `link set eth0 up`,
    `route add default via ${hostIp}`,
  ].join("\n") + "\n");
  try {
    await sh("ip", ["-batch", hostBatch]);
    await sh("ip", ["-n", n.netns, "-batch", nsBatch]);
  } catch (e) {
    await teardownNetns(key);
    throw e;
  } finally {
    await unlink(hostBatch).catch(() => {});
    await unlink(nsBatch).catch(() => {});
  }
  return { netns: n.netns, hostIf: n.hostIf, ip, hostIp };
}

function ipToInt(ip: string): number { return ip.split(".").reduce((a, x) => a * 256 + Number(x), 0); }

/** Removes the namespace (its veth pair goes with it); idempotent. */
export async function teardownNetns(key: string): Promise<void> {
  const n = netNames(key);
  if (await netnsExists(n.netns)) await sh("ip", ["netns", "del", n.netns]);
  if (await access(`/sys/class/net/${n.hostIf}`).then(() => true, () => false)) await sh("ip", ["link", "del", n.hostIf]).catch(() => {});
}

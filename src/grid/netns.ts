// The host plumbing of a local grid as root: one bridge, and per node a network namespace joined to
// it by a veth pair. Every step is idempotent, so `grid up` after a crash repairs what is missing.
import { execFileSync } from "node:child_process";
import type { GridNet, NodeNet } from "./naming.js";

export type Run = (args: string[]) => string;

export const ip: Run = (args) => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const ip_ = ip;

function tryRun(run: Run, args: string[]): boolean {
  try { run(args); return true; } catch { return false; }
}

export function linkExists(name: string, run: Run = ip): boolean {
  return tryRun(run, ["link", "show", "dev", name]);
}

export function netnsList(run: Run = ip): string[] {
  return run(["netns", "list"]).split("\n").map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

/** Whether another interface on the host already routes `subnet` (another grid, a VPN...). */
export function subnetInUse(subnet: string, exceptDev: string, run: Run = ip): boolean {
  const out = run(["-4", "route", "show", subnet]);
  return out.split("\n").some((l) => l.trim() && !l.includes(`dev ${exceptDev} `) && !l.trim().endsWith(`dev ${exceptDev}`));
}

export function ensureBridge(net: GridNet, run: Run = ip): void {
  if (!linkExists(net.bridge, run)) run(["link", "add", net.bridge, "type", "bridge"]);
  const addrs = run(["-4", "-o", "addr", "show", "dev", net.bridge]);
  if (!addrs.includes(` ${net.bridgeIp}/`)) run(["addr", "add", `${net.bridgeIp}/${net.prefix}`, "dev", net.bridge]);
  run(["link", "set", net.bridge, "up"]);
}

export function ensureNodeNs(net: GridNet, n: NodeNet, run: Run = ip): void {
  if (!netnsList(run).includes(n.netns)) run(["netns", "add", n.netns]);
  const inNs = (args: string[]) => run(["-n", n.netns, ...args]);
  const hasEth0 = tryRun(run, ["-n", n.netns, "link", "show", "dev", "eth0"]);
  if (!hasEth0) {
    if (linkExists(n.vethHost, run)) run(["link", "del", n.vethHost]);
    run(["link", "add", n.vethHost, "type", "veth", "peer", "name", n.vethPeer]);
    run(["link", "set", n.vethPeer, "netns", n.netns]);
    inNs(["link", "set", n.vethPeer, "name", "eth0"]);
  }
  run(["link", "set", n.vethHost, "master", net.bridge]);
  run(["link", "set", n.vethHost, "up"]);
  const addrs = inNs(["-4", "-o", "addr", "show", "dev", "eth0"]);
  if (!addrs.includes(` ${n.ip}/`)) inNs(["addr", "add", `${n.ip}/${net.prefix}`, "dev", "eth0"]);
  inNs(["link", "set", "eth0", "up"]);
  inNs(["link", "set", "lo", "up"]);
  // The node forwards between the bridge and its containers' veths, so the host reaches them.
  run(["netns", "exec", n.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
}

/** A host route to a container (`ip`, a /32 from the node's private range) via its node's address
 *  on the bridge; replaced when the container moved. Gone with the bridge. */
export function routeToContainer(net: GridNet, ip: string, via: string, run: Run = ip_): void {
  run(["route", "replace", `${ip}/32`, "via", via, "dev", net.bridge]);
}

/** PIDs of the processes inside a namespace (what `grid down` must stop before deleting it). */
export function netnsPids(netns: string, run: Run = ip): number[] {
  try {
    return run(["netns", "pids", netns]).split("\n").map((s) => parseInt(s, 10)).filter((n) => Number.isInteger(n) && n > 0);
  } catch { return []; }
}

export function removeNodeNs(n: NodeNet, run: Run = ip): void {
  if (netnsList(run).includes(n.netns)) tryRun(run, ["netns", "del", n.netns]);
  // Deleting the namespace destroys the peer and with it the pair; this covers a half-made pair.
  if (linkExists(n.vethHost, run)) tryRun(run, ["link", "del", n.vethHost]);
}

export function removeBridge(net: GridNet, run: Run = ip): void {
  if (linkExists(net.bridge, run)) tryRun(run, ["link", "del", net.bridge]);
}

// The network's namespace: a bridge holding the subnet's gateway address for the containers, IP
// forwarding on (bridge ↔ WireGuard), and one route per peer's allowed range through the WireGuard
// interface. Nothing else: no link to the node's own namespace, so overlays never reach the node's
// services, and two networks share nothing.
import { access } from "node:fs/promises";
import { sh } from "../container/sys.js";

export const nsExists = (netns: string) => access(`/run/netns/${netns}`).then(() => true, () => false);

/** The namespace with its bridge at `gateway/prefix`; idempotent (a half-made one is completed). */
export async function ensureNetworkNs(netns: string, bridge: string, gatewayCidr: string): Promise<void> {
  if (!(await nsExists(netns))) await sh("ip", ["netns", "add", netns]);
  const have = await sh("ip", ["-n", netns, "-4", "-o", "addr", "show", "dev", bridge]).catch(() => null);
  if (have?.includes(`inet ${gatewayCidr} `) && /[<,]UP[,>]/.test(await sh("ip", ["-n", netns, "link", "show", bridge]))) return;
  const cmds = [
    "link set lo up",
    ...(have === null ? [`link add ${bridge} type bridge`] : [`addr flush dev ${bridge}`]),
    `addr add ${gatewayCidr} dev ${bridge}`,
    `link set ${bridge} up`,
  ];
  await sh("ip", ["-n", netns, "-batch", "-"], { input: cmds.join("\n") + "\n" });
  await sh("ip", ["netns", "exec", netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
  // With br_netfilter loaded (Docker loads it), every frame crossing the bridge would also go
  // through the netfilter hooks: nothing here filters, so the bridge stays L2 only. Absent module:
  // nothing to turn off.
  await sh("ip", ["netns", "exec", netns, "sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0", "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-arptables=0"]).catch(() => {});
}

export async function linkIn(netns: string, dev: string): Promise<string | null> {
  return sh("ip", ["-n", netns, "-o", "link", "show", "dev", dev]).catch(() => null);
}

/** Makes the routes through `dev` exactly `want` (adds the missing, removes the others). */
export async function syncRoutes(netns: string, dev: string, want: string[]): Promise<void> {
  const out = await sh("ip", ["-n", netns, "-4", "route", "show", "dev", dev]);
  // A host route is printed without its /32.
  const have = new Set(out.split("\n").map((l) => l.trim().split(" ")[0]).filter(Boolean).map((r) => r.includes("/") ? r : `${r}/32`));
  const wanted = new Set(want);
  const cmds: string[] = [];
  for (const r of wanted) if (!have.has(r)) cmds.push(`route replace ${r} dev ${dev}`);
  for (const r of have) if (!wanted.has(r)) cmds.push(`route del ${r} dev ${dev}`);
  if (cmds.length) await sh("ip", ["-n", netns, "-batch", "-"], { input: cmds.join("\n") + "\n" });
}

export async function removeNetworkNs(netns: string): Promise<boolean> {
  if (!(await nsExists(netns))) return false;
  await sh("ip", ["netns", "del", netns]);
  return true;
}

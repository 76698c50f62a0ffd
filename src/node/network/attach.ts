// A container on a network: a veth from the network's bridge into the container's namespace, the
// container's overlay address on it, and a route to the whole network range through the bridge's
// gateway. The container keeps its node-local eth0 (and default route); only the range goes here.
import { sh } from "../container/sys.js";
import { CONTAINER_IF } from "./names.js";
import { linkIn, nsExists } from "./ns.js";
import { UnavailableError } from "../../core/index.js";

/** wireguard-go's MTU: a container's packets fit in one WireGuard packet without fragments. */
export const OVERLAY_MTU = 1420;

export interface Attachment {
  /** The network's namespace and bridge. */
  netns: string; bridge: string;
  /** The veth end on the bridge (unique in the network's namespace). */
  hostEnd: string;
  /** The container's address with the subnet's prefix (e.g. 10.20.1.2/24), the gateway, the range. */
  cidr: string; gateway: string; ipRange: string;
}

/** Attaches container namespace `containerNs`; idempotent (checks, then repairs by remaking). */
export async function attach(containerNs: string, a: Attachment, opts: { waitMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  // The network workload is provisioned by its own task: wait a little for its namespace.
  const deadline = Date.now() + (opts.waitMs ?? 15_000);
  while (!(await nsExists(a.netns)) || !(await linkIn(a.netns, a.bridge))) {
    if (Date.now() > deadline || opts.signal?.aborted) throw new UnavailableError(`the container's network is not up on this node yet (${a.netns})`, "it is retried once the network workload is provisioned");
    await new Promise((r) => setTimeout(r, 100));
  }
  const mine = await sh("ip", ["-n", containerNs, "-4", "-o", "addr", "show", "dev", CONTAINER_IF]).catch(() => null);
  const end = await linkIn(a.netns, a.hostEnd);
  const route = await sh("ip", ["-n", containerNs, "-4", "route", "show", a.ipRange]).catch(() => "");
  if (mine?.includes(`inet ${a.cidr} `) && end?.includes(`master ${a.bridge}`) && route.includes(`via ${a.gateway}`)) return;
  await detach(containerNs, a);
  await sh("ip", ["-n", a.netns, "link", "add", a.hostEnd, "mtu", String(OVERLAY_MTU), "type", "veth", "peer", "name", CONTAINER_IF, "mtu", String(OVERLAY_MTU), "netns", containerNs]);
  await sh("ip", ["-n", a.netns, "link", "set", a.hostEnd, "master", a.bridge, "up"]);
  await sh("ip", ["-n", containerNs, "-batch", "-"], { input: [
    `addr add ${a.cidr} dev ${CONTAINER_IF}`,
    `link set ${CONTAINER_IF} up`,
    `route replace ${a.ipRange} via ${a.gateway} dev ${CONTAINER_IF}`,
  ].join("\n") + "\n" });
}

/** Removes the container's overlay veth (both ends go together); idempotent. */
export async function detach(containerNs: string, a: Pick<Attachment, "netns" | "hostEnd">): Promise<void> {
  if (await linkIn(containerNs, CONTAINER_IF)) await sh("ip", ["-n", containerNs, "link", "del", CONTAINER_IF]).catch(() => {});
  if (await nsExists(a.netns) && await linkIn(a.netns, a.hostEnd)) await sh("ip", ["-n", a.netns, "link", "del", a.hostEnd]).catch(() => {});
}

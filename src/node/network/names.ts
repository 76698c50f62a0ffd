// The names a network workload gets on this machine. The local grid's nodes share one kernel, and
// wireguard-go's control socket (/var/run/wireguard/NAME.sock) is shared by every namespace, so the
// interface name must be unique on the machine: it is derived from the node's data folder, the
// contract and the workload (12 characters; Linux allows 15).
import { createHash } from "node:crypto";

export interface NetworkNames {
  /** The network namespace holding the bridge and the WireGuard interface. */
  netns: string;
  /** The WireGuard interface (and wireguard-go's socket name). */
  wg: string;
  /** The containers' bridge, inside the namespace (private to it, so a fixed name). */
  bridge: string;
}

export const BRIDGE = "br0";
/** The container-side end of its overlay veth (inside the container's own namespace). */
export const CONTAINER_IF = "n0";

export function networkNames(dataDir: string, contractId: number, name: string): NetworkNames {
  const tag = createHash("sha256").update(`${dataDir}\0${contractId}\0${name}`).digest("hex").slice(0, 10);
  return { netns: `zn-${tag}`, wg: `zw${tag}`, bridge: BRIDGE };
}

/** The network-side end of a container's veth (inside the network's namespace, so unique there). */
export function attachIfName(containerId: string): string {
  return `v${createHash("sha256").update(containerId).digest("hex").slice(0, 12)}`;
}

export function socketPath(wg: string): string { return `/var/run/wireguard/${wg}.sock`; }

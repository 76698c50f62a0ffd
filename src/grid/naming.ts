// Names and addresses of one local grid, derived from a hash of its data folder so two grids on one
// machine (two test runs) never share an interface, namespace or subnet. Pure.
import { createHash } from "node:crypto";
import { ValidationError } from "../core/index.js";

export interface GridNet {
  /** Short tag in every name this grid makes: 6 hex characters. */
  tag: string;
  bridge: string;
  /** The bridge's address (the ledger listens here) and the subnet's prefix length. */
  bridgeIp: string;
  prefix: number;
  subnet: string;
}

export interface NodeNet {
  index: number;
  netns: string;
  /** Host side of the veth pair (on the bridge). */
  vethHost: string;
  /** Peer side before it moves into the namespace (renamed to eth0 there). */
  vethPeer: string;
  ip: string;
}

export function gridTag(dataDir: string): string {
  return createHash("sha256").update(dataDir).digest("hex").slice(0, 6);
}

/** The /24 for a grid: 10.A.B.0 with A in 200..249, from the hash; `attempt` walks on when taken. */
export function gridNet(dataDir: string, attempt = 0): GridNet {
  const tag = gridTag(dataDir);
  const h = parseInt(createHash("sha256").update(`${dataDir}#${attempt}`).digest("hex").slice(0, 8), 16);
  const a = 200 + (h % 50), b = Math.floor(h / 50) % 256;
  const base = `10.${a}.${b}`;
  return { tag, bridge: `gb-${tag}`, bridgeIp: `${base}.1`, prefix: 24, subnet: `${base}.0/24` };
}

export function nodeNet(net: GridNet, index: number): NodeNet {
  if (index < 1 || index > 200) throw new ValidationError(`node index ${index} is out of 1..200`, "a grid has at most 200 nodes");
  const base = net.bridgeIp.split(".").slice(0, 3).join(".");
  return {
    index,
    netns: `grid-${net.tag}-n${index}`,
    vethHost: `gv${net.tag}n${index}`,
    vethPeer: `gp${net.tag}n${index}`,
    ip: `${base}.${10 + index}`,
  };
}

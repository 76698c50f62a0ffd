// Launch step 1: the grid's bridge (as root), on a 10.x.y.0/24 no other grid on this machine uses.
import { UnavailableError } from "../../core/index.js";
import { gridNet, type GridNet } from "../naming.js";
import { ensureBridge, subnetInUse } from "../netns.js";

function pickNet(dir: string): GridNet {
  for (let attempt = 0; attempt < 50; attempt++) {
    const net = gridNet(dir, attempt);
    if (!subnetInUse(net.subnet, net.bridge)) return net;
  }
  throw new UnavailableError("no free 10.x.y.0/24 subnet for the grid's bridge");
}

/** The bridge the grid had (or a new one): made if missing. */
export function upNetwork(dir: string, prev: GridNet | null, note: (l: string) => void): GridNet {
  const net = prev ?? pickNet(dir);
  ensureBridge(net);
  note(`bridge ${net.bridge} ${net.bridgeIp}/${net.prefix}`);
  return net;
}

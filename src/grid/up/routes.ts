// Launch step 7: host routes to every running container on the grid's nodes (anyone's deployments,
// not only the example), so `curl http://IP/` works from this host; `grid up` again after
// deploying more.
import type { LedgerClient } from "../../ledger/client/index.js";
import { routeToContainer } from "../netns.js";
import type { GridState } from "../state.js";
import type { Note } from "./common.js";

export async function upRoutes(ledger: LedgerClient, state: GridState, note: Note): Promise<void> {
  if (!state.net) return;
  let n = 0;
  for (const node of state.nodes) {
    if (node.nodeId === undefined) continue;
    for (const c of await ledger.contracts({ nodeId: node.nodeId, state: "active" })) {
      for (const w of c.deployment.workloads) {
        const ip = (c.results[w.name]?.data as { ip?: unknown } | undefined)?.ip;
        if (w.type !== "container" || c.results[w.name]?.state !== "ok" || typeof ip !== "string" || !/^\d+\.\d+\.\d+\.\d+$/.test(ip)) continue;
        routeToContainer(state.net, ip, node.underlay);
        n++;
      }
    }
  }
  if (n) note(`routes from this host to ${n} container(s)`);
}

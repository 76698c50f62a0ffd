// `kosmos network access NAME [--network NET] [--json]`: prints the WireGuard config (wg-quick's
// format) that makes this machine a peer of the deployment's network.
import type { Command } from "commander";
import type { Context } from "../cli/context.js";
import { networkAccess } from "./access-peer.js";

export function addNetworkCommands(program: Command, ctx: (cmd: Command) => Context): void {
  const network = program.command("network").description("your deployments' private networks (WireGuard overlays between their containers)");
  network.command("access").description("a WireGuard config (for `wg-quick up`) that puts this machine on a deployment's network; the key is made here and never sent")
    .argument("<name>", "the deployment")
    .option("--network <net>", "which network, when the deployment has several")
    .option("--label <label>", "one config per label (one per machine of yours)", "default")
    .action(async (name: string, o: { network?: string; label: string }, cmd: Command) => {
      const c = ctx(cmd);
      const k = await c.kosmos();
      const twinId = await k.twinId();
      const r = await networkAccess({ client: k.client, signer: k.client.signer(k.keys), keys: k.keys }, twinId, name, { network: o.network, label: o.label });
      c.out.result(r, () => r.config);
    });
}

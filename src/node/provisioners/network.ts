// The `network` provisioner: the workload's sealed WireGuard key opened with the node's seal key
// (kept in memory only, handed to wireguard-go over its socket), its subnet checked against the
// range, and the network made by the NetworkManager (src/node/network).
import type { Logger } from "pino";
import { ValidationError, cidrWithin, parseCidr, unseal, type WorkloadOf } from "../../core/index.js";
import { NetworkManager, publicKeyOf, type NetworkSpec } from "../network/index.js";
import { defineProvisioner, type Provisioner, type WorkloadContext } from "./types.js";

type Network = WorkloadOf<"network">;

export function networkSpec(ctx: WorkloadContext, w: Network): NetworkSpec {
  const range = parseCidr(w.data.ipRange), subnet = parseCidr(w.data.subnet);
  if (!cidrWithin(subnet, range)) throw new ValidationError(`subnet ${w.data.subnet} is not inside the network's range ${w.data.ipRange}`);
  let privateKey: string;
  try { privateKey = unseal(w.data.wgPrivateKey, ctx.sealKeys); } catch (e) {
    throw new ValidationError("wgPrivateKey cannot be opened with this node's seal key", "seal it to the node's sealKey", { cause: e });
  }
  publicKeyOf(privateKey); // a clear error now rather than wireguard-go's errno later
  for (const p of w.data.peers) {
    for (const a of p.allowedIps) parseCidr(a);
    if (p.endpoint && !/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(p.endpoint)) throw new ValidationError(`peer ${p.subnet}: endpoint ${p.endpoint} is not IPv4:port`);
  }
  return {
    id: ctx.workloadId, contractId: ctx.contractId, name: w.name,
    ipRange: w.data.ipRange, subnet: w.data.subnet, privateKey, listenPort: w.data.wgListenPort,
    peers: w.data.peers.map((p) => ({ publicKey: p.wgPublicKey, endpoint: p.endpoint, allowedIps: p.allowedIps })),
  };
}

export function createNetworkProvisioner(): Provisioner<"network"> & { manager(dataDir: string, log: Logger): NetworkManager } {
  const managers = new Map<string, NetworkManager>();
  const manager = (dataDir: string, log: Logger) => {
    let m = managers.get(dataDir);
    if (!m) { m = new NetworkManager(dataDir, log); managers.set(dataDir, m); }
    return m;
  };
  return {
    ...defineProvisioner({
      type: "network",
      provision: async (ctx, w) => manager(ctx.dataDir, ctx.log).ensure(networkSpec(ctx, w)),
      deprovision: (ctx, w) => manager(ctx.dataDir, ctx.log).remove(ctx.contractId, w.name),
      pause: (ctx, w) => manager(ctx.dataDir, ctx.log).pause(ctx.contractId, w.name),
      // ensure brings the interface up again (and repairs anything lost meanwhile).
      resume: async (ctx, w) => manager(ctx.dataDir, ctx.log).ensure(networkSpec(ctx, w)),
      check: (ctx, w) => manager(ctx.dataDir, ctx.log).check(ctx.contractId, w.name),
    }),
    manager,
  };
}

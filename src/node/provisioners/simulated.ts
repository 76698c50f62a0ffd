// --simulate: every workload type "succeeds" with plausible data and touches nothing, so one
// machine can stand in for a thousand nodes in the bench.
import type { WorkloadType } from "../../core/index.js";
import { defineProvisioner, type Provisioner, type Registry, type WorkloadContext } from "./types.js";

function fakeData(ctx: WorkloadContext, type: WorkloadType): Record<string, unknown> {
  switch (type) {
    case "zdb": return { namespace: ctx.workloadId, ips: [ctx.underlay], port: 9900, simulated: true };
    case "volume": return { path: `${ctx.dataDir}/volume/${ctx.workloadId}`, simulated: true };
    case "container": return { ip: "10.0.0.2", simulated: true };
    case "network": return { wgPublicKey: "", simulated: true };
    default: return { simulated: true };
  }
}

export function simulatedProvisioner<T extends WorkloadType>(type: T): Provisioner<T> {
  return defineProvisioner({
    type,
    provision: async (ctx) => fakeData(ctx, type),
    deprovision: async () => {},
    pause: async () => {},
    resume: async (ctx) => fakeData(ctx, type),
    check: async () => ({ ok: true }),
  });
}

/** Every workload type (Required: a type added to core and not here fails to compile). */
export function simulatedRegistry(): Required<Registry> {
  return {
    zdb: simulatedProvisioner("zdb"),
    volume: simulatedProvisioner("volume"),
    container: simulatedProvisioner("container"),
    network: simulatedProvisioner("network"),
    "gateway-name-proxy": simulatedProvisioner("gateway-name-proxy"),
    "gateway-fqdn-proxy": simulatedProvisioner("gateway-fqdn-proxy"),
  };
}

// --simulate: every workload type "succeeds" with plausible data and touches nothing, so one
// machine can stand in for a thousand nodes in the bench.
import { WORKLOAD_TYPES, type WorkloadType } from "../../core/index.js";
import type { Provisioner, WorkloadContext } from "./types.js";

function fakeData(ctx: WorkloadContext, type: WorkloadType): Record<string, unknown> {
  switch (type) {
    case "zdb": return { namespace: ctx.workloadId, ips: [ctx.underlay], port: 9900, simulated: true };
    case "volume": return { path: `${ctx.dataDir}/volume/${ctx.workloadId}`, simulated: true };
    case "container": return { ip: "10.0.0.2", simulated: true };
    case "network": return { wgPublicKey: "", simulated: true };
    default: return { simulated: true };
  }
}

export function simulatedProvisioners(): Provisioner[] {
  return WORKLOAD_TYPES.map((type): Provisioner => ({
    type,
    provision: async (ctx) => fakeData(ctx, type),
    deprovision: async () => {},
    pause: async () => {},
    resume: async (ctx) => fakeData(ctx, type),
    check: async () => ({ ok: true }),
  }));
}

// Workload type → provisioner: one line per type. A type that is not here gets an `error` result
// saying so.
import type { Registry } from "./types.js";
import { ZdbProvisioner, type ZdbOptions } from "./zdb.js";
import { VolumeProvisioner } from "./volume.js";
import { ContainerProvisioner } from "./container.js";
import { createNetworkProvisioner } from "./network.js";
import { simulatedRegistry } from "./simulated.js";
import { GatewayHost } from "./gateway-shared.js";
import { createGatewayNameProvisioner } from "./gateway-name-proxy.js";
import { createGatewayFqdnProvisioner } from "./gateway-fqdn-proxy.js";
import type { GatewayConfig } from "../gateway/index.js";

export {
  type Provisioner, type WorkloadContext, type Registry, type BoundProvisioner, type ProvisionerLifecycle,
  defineProvisioner, provisionerFor, provisionersOf,
} from "./types.js";

export interface RegistryOptions {
  simulate: boolean; zdb: ZdbOptions;
  /** Set on a gateway node: its one HAProxy serves both gateway workload types. */
  gateway?: GatewayConfig;
}

export function createRegistry(opts: RegistryOptions): Registry {
  if (opts.simulate) return simulatedRegistry();
  // Volumes grown offline stop the containers that mount them: the two know each other.
  const container = new ContainerProvisioner();
  // Only a gateway node (public config given) serves gateway workloads; others answer "not supported".
  const gateway = opts.gateway ? new GatewayHost(opts.gateway) : undefined;
  return {
    zdb: new ZdbProvisioner(opts.zdb),
    volume: new VolumeProvisioner({ users: container }),
    container,
    network: createNetworkProvisioner(),
    ...(gateway ? { "gateway-name-proxy": createGatewayNameProvisioner(gateway), "gateway-fqdn-proxy": createGatewayFqdnProvisioner(gateway) } : {}),
  };
}

export function unsupported(type: string): string {
  return `workload type ${type} is not supported by this node`;
}

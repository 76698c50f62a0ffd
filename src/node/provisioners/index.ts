// Workload type → provisioner. A type that is not here gets an `error` result saying so.
import type { WorkloadType } from "../../core/index.js";
import type { Provisioner } from "./types.js";
import { ZdbProvisioner, type ZdbOptions } from "./zdb.js";
import { VolumeProvisioner } from "./volume.js";
import { ContainerProvisioner } from "./container.js";
import { simulatedProvisioners } from "./simulated.js";

export type { Provisioner, WorkloadContext } from "./types.js";
export type Registry = Map<WorkloadType, Provisioner>;

export interface RegistryOptions { simulate: boolean; zdb: ZdbOptions }

export function createRegistry(opts: RegistryOptions): Registry {
  if (opts.simulate) return new Map(simulatedProvisioners().map((p) => [p.type, p]));
  const containers = new ContainerProvisioner();
  const list: Provisioner[] = [
    new ZdbProvisioner(opts.zdb) as unknown as Provisioner,
    new VolumeProvisioner({ users: containers }) as unknown as Provisioner,
    containers as unknown as Provisioner,
  ];
  return new Map(list.map((p) => [p.type, p]));
}

export function unsupported(type: string): string {
  return `workload type ${type} is not supported by this node`;
}

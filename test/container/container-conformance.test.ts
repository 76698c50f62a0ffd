// The container provisioner against the shared provisioner contract: runc containers from the
// example flist on a test hub.
import { MiB } from "../../src/core/index.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { runConformance } from "../node/provisioner-conformance.js";
import { useExampleHub } from "./helpers.js";

const fx = useExampleHub("container-conformance-");

runConformance({
  name: "container",
  make: () => new ContainerProvisioner({ pollMs: 50, netPool: 0 }),
  workload: () => ({
    name: "web", type: "container", version: 0, description: "",
    data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 * MiB, rootfsSize: 16 * MiB, mounts: [] },
  }),
  // A changed env restarts the container under its new spec (same namespace, same IP).
  updated: (w) => ({ ...w, data: { ...w.data, env: { MODE: "updated" } } }),
  registry: (p) => ({ container: p }),
});

// --simulate's provisioners against the shared provisioner contract.
import { MiB } from "../../src/core/index.js";
import { simulatedProvisioner } from "../../src/node/provisioners/simulated.js";
import { runConformance } from "./provisioner-conformance.js";

runConformance({
  name: "simulated volume",
  make: () => simulatedProvisioner("volume"),
  workload: () => ({ name: "vol", type: "volume", version: 0, description: "", data: { size: 16 * MiB } }),
  updated: (w) => ({ ...w, data: { size: 32 * MiB } }),
  registry: (p) => ({ volume: p }),
  skip: { deprovision: "it makes nothing, so its check has nothing to miss: always ok, by design (benchmarks only)" },
});

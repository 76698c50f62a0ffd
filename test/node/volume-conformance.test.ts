// The volume provisioner against the shared provisioner contract (loop-mounted ext4 as root).
import { MiB } from "../../src/core/index.js";
import { VolumeProvisioner } from "../../src/node/provisioners/volume.js";
import { runConformance } from "./provisioner-conformance.js";

runConformance({
  name: "volume",
  make: () => new VolumeProvisioner(),
  workload: () => ({ name: "vol", type: "volume", version: 0, description: "", data: { size: 16 * MiB } }),
  // An update grows it (a shrink is refused: test/container/volume-grow.test.ts).
  updated: (w) => ({ ...w, data: { size: 32 * MiB } }),
  registry: (p) => ({ volume: p }),
});

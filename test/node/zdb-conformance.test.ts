// The zdb provisioner against the shared provisioner contract (a real 0-db child process).
import { MiB, seal, type WorkloadOf } from "../../src/core/index.js";
import { ZdbProvisioner } from "../../src/node/provisioners/zdb.js";
import { runConformance, CONFORMANCE_SEAL_KEYS } from "./provisioner-conformance.js";
import { freePort } from "./helpers.js";

// One port for the file: cases run one after another and each stops its 0-db before the next.
const port = await freePort();

runConformance({
  name: "zdb",
  make: () => new ZdbProvisioner({ listen: "127.0.0.1", port }),
  workload: (): WorkloadOf<"zdb"> => ({ name: "db", type: "zdb", version: 0, description: "", data: { size: 8 * MiB, mode: "user", password: seal("conformance-pw", CONFORMANCE_SEAL_KEYS.publicKey), public: false } }),
  updated: (w) => ({ ...w, data: { ...w.data, size: 16 * MiB, public: true } }),
  registry: (p) => ({ zdb: p }),
});

import { LocalExecutor } from "../../../src/kosmos/executors/index.js";
import { runConformance } from "./executor-conformance.js";

runConformance({ name: "local", make: async () => new LocalExecutor() });

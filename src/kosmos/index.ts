// Kosmos: the SDK (sdk.ts), its config manager, the deployment-file reader, the planner, and the CLI.
export { main, buildProgram } from "./cli/program.js";
export {
  Kosmos, DeploymentFailed, viewOf, nameOf, zdbLookup,
  type KosmosOptions, type DeploymentView, type WorkloadView, type PendingSignature, type Plan, type DeployProgress, type DeployOptions, type DeployResult,
} from "./sdk.js";
export { ConfigStore, passphraseSource, encryptSecrets, decryptSecrets, type Settings, type Identity, type PassphraseSource } from "./config/index.js";
export { parseDeploymentText, parseDeploymentFile, buildDeployment, logPasswordsOf, type ResolvedSpec, type DeploymentSpec } from "./spec/index.js";
export { chooseNode, estimateCost, needOf, type PlannerNode, type CostEstimate } from "./planner.js";
export { accessLines, deploymentText } from "./cli/output.js";

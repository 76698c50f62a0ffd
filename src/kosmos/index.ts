// Kosmos: the SDK (sdk.ts over views, deploy, wait and multisig), its config manager, the deployment-file reader, the planner, and the CLI.
export { main, buildProgram } from "./cli/program.js";
export { Kosmos, type KosmosOptions } from "./sdk.js";
export { viewOf, nameOf, zdbLookup, type DeploymentView, type WorkloadView, type PendingSignature } from "./views.js";
export { DeploymentFailed, type Plan, type DeployProgress } from "./progress.js";
export type { DeployOptions, DeployResult } from "./deploy.js";
export { ConfigStore, passphraseSource, encryptSecrets, decryptSecrets, type Settings, type Identity, type PassphraseSource } from "./config/index.js";
export { parseDeploymentText, parseDeploymentFile, buildDeployment, logPasswordsOf, type ResolvedSpec, type DeploymentSpec } from "./spec/index.js";
export { chooseNode, estimateCost, needOf, type PlannerNode, type CostEstimate } from "./planner.js";
export { accessLines, deploymentText } from "./cli/output.js";

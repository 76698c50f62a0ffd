// Kosmos' door: the SDK (sdk.ts over views, deploy, wait and multisig) as a program uses it, the
// config store, the deployment-file reader and the CLI. The planner's and the config's internals
// (node choice, the secrets envelope, deployment building) stay behind it; tests reach them directly.
export { main, buildProgram } from "./cli/program.js";
export { Kosmos, KosmosReader, type KosmosOptions, type KosmosReaderOptions } from "./sdk.js";
export { viewOf, nameOf, zdbLookup, signingViewOf, END_REASONS, type DeploymentView, type WorkloadView, type PendingSignature, type SigningView } from "./views.js";
export type { TimelineEntry } from "./timeline.js";
export type { BillingReport, Charge } from "./billing.js";
export type { SignResult } from "./multisig.js";
export type { Runway } from "./money.js";
export type { DeploymentDiff, WorkloadChange } from "./diff.js";
export { DeploymentFailed, type Plan, type DeployProgress } from "./progress.js";
export type { DeployOptions, DeployResult } from "./deploy.js";
export { ConfigStore, passphraseSource, type Settings, type Identity, type PassphraseSource } from "./config/index.js";
export { parseDeploymentText, parseDeploymentFile, logPasswordsOf, type ResolvedSpec, type DeploymentSpec } from "./spec/index.js";
export { estimateCost, type CostEstimate } from "./planner.js";
export { accessLines, deploymentText } from "./cli/output.js";
export { ConfigManager, CONFIG_TYPES, CONFIG_SCHEMAS, type ConfigType, type ConfigOf, type ConfigInput } from "./configs/index.js";
export { Clients, connectZdb, type ZdbTarget } from "./clients/index.js";
export { LocalExecutor, SshExecutor, type Executor, type RunOptions, type RunResult, type SshTarget } from "./executors/index.js";
export { buildScope, startShell, runScript, type Scope } from "./shell/index.js";
export { sandboxTree, type SandboxResult } from "./builders/index.js";

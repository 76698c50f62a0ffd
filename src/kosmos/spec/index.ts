export { deploymentSpecSchema, zdbSpecSchema, volumeSpecSchema, secretSchema, containerSpecSchema, networkSpecSchema, type NetworkSpec, type DeploymentSpec, type ZdbSpec, type VolumeSpec, type ContainerSpec } from "./schema.js";
export { parseDeploymentText, parseDeploymentFile, logPasswordsOf, type ResolvedSpec, type ResolvedContainer, type ResolvedLogs } from "./parse.js";
export {
  translateWorkloads, translateAll, buildDeployment, parseMeta, sealerFor, placeholderSealer, defaultRequirement,
  type Sealer, type Translated, type DeploymentMeta, type BuildInput, type LogsAddress, type ZdbLookup,
} from "./translate.js";

export { deploymentSpecSchema, zdbSpecSchema, volumeSpecSchema, secretSchema, type DeploymentSpec, type ZdbSpec, type VolumeSpec } from "./schema.js";
export { parseDeploymentText, parseDeploymentFile, type ResolvedSpec } from "./parse.js";
export {
  translateWorkloads, buildDeployment, parseMeta, sealerFor, placeholderSealer, defaultRequirement,
  type Sealer, type DeploymentMeta, type BuildInput,
} from "./translate.js";

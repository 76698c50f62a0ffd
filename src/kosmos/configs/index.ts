// The config manager's door: named, typed, encrypted client configurations (ssh, zdb, s3, ledger,
// wallet) in the kosmos home. The formats (envelope.ts) stay behind it; tests reach them directly.
export { ConfigManager, checkType, parseConfig, type InstanceRef, type IdentitySource } from "./manager.js";
export {
  CONFIG_SCHEMAS, CONFIG_TYPES, SECRET_FIELDS, masked, isConfigType,
  type ConfigType, type ConfigOf, type ConfigInput,
} from "./schemas.js";

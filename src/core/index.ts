// The shared language of the grid. Pure: no I/O (randomness enters as a parameter where a test needs it).
export { canonicalJson, canonicalBytes } from "./canonical.js";
export { sha256, sha256Hex } from "./hash.js";
export {
  type KeyPair, generateKeyPair, keyPairFromSeed, signBytes, verifyBytes, isPublicKeyHex, isUsablePublicKey, isSignatureHex,
} from "./ed25519.js";
export { signingDigest, signatureOf, signObject, verifyObject } from "./signing.js";
export {
  type ErrorCode, type ErrorBody, ERROR_CATALOGUE, ERROR_CODES, ERROR_CLASSES, isErrorCode, errorFromCode, toGridError, httpStatusOf, exitCodeOf,
  GridError, ValidationError, SignatureError, NotFoundError, ConflictError, ForbiddenError, InsufficientFundsError, CapacityError, NonceError,
  DeploymentFailedError, UnavailableError, TimeoutError, ExhaustedError, DamagedError, InternalError, describeError,
} from "./errors.js";
export { newMnemonic, keyPairFromMnemonic } from "./identity.js";
export {
  type Sealed, type SealKeyPair, sealedSchema, generateSealKeyPair, boxSharedKey, seal, unseal, unsealBytes, isSealed,
} from "./sealed.js";
export {
  type Capacity, type Prices, GiB, MiB, capacitySchema, ZERO_CAPACITY, addCapacity, subCapacity, capacityShortfall,
  formatBytes, parseSize, computeUnits, storageUnits, DEFAULT_PRICES, reservationCost,
} from "./units.js";
export {
  type Workload, type WorkloadType, type WorkloadOf, type WorkloadState, type WorkloadResult, WORKLOAD_TYPES,
  nameSchema, workloadSchema, workloadStateSchema, workloadResultSchema, workloadCapacity,
  zdbDataSchema, volumeDataSchema, containerDataSchema, networkDataSchema, gatewayNameProxyDataSchema, gatewayFqdnProxyDataSchema,
} from "./workloads.js";
export {
  type Deployment, type SignatureRequirement, type DeploymentSignature, deploymentSchema, signatureRequirementSchema,
  signDeployment, approvalStatus, deploymentCapacity,
} from "./deployment.js";
export {
  type TxType, type Payload, type UnsignedTx, type Tx, TX_TYPES, MAX_TX_BYTES, payloadSchemas, parseTx, signTx, txHash, formatIssues,
} from "./transactions.js";
export {
  type Cidr, ipToInt, intToIp, parseCidr, formatCidr, cidrSize, cidrContains, cidrWithin, cidrOverlaps, gatewayOf, allocateHosts,
} from "./cidr.js";
export { CONTAINER_DEFAULT_PATH, splitCommand } from "./command.js";

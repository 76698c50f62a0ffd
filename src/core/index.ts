// The shared language of the grid. Pure: no I/O.
export { canonicalJson, canonicalBytes } from "./canonical.js";
export { sha256, sha256Hex } from "./hash.js";
export {
  type KeyPair, generateKeyPair, keyPairFromSeed, signBytes, verifyBytes, isPublicKeyHex, isSignatureHex,
} from "./ed25519.js";
export { signingDigest, signatureOf, signObject, verifyObject } from "./signing.js";
export {
  type ErrorCode, GridError, ValidationError, SignatureError, NotFoundError, ConflictError, ForbiddenError,
  InsufficientFundsError, CapacityError, NonceError, UnavailableError, describeError,
} from "./errors.js";

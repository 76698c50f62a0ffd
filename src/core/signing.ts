// The one signing function of the grid (ARCHITECTURE.md, "Signing"): ed25519 over the SHA-256 of
// the RFC 8785 canonical JSON of the object without its `signature` field. Nothing else signs.
import { canonicalBytes } from "./canonical.js";
import { sha256 } from "./hash.js";
import { signBytes, verifyBytes } from "./ed25519.js";

/** The 32-byte digest that a signature covers. */
export function signingDigest(obj: object): Buffer {
  const { signature: _omit, ...rest } = obj as Record<string, unknown>;
  return sha256(canonicalBytes(rest));
}

/** The signature of `obj` (its own `signature` field, if any, ignored), hex. */
export function signatureOf(obj: object, privateKeyHex: string): string {
  return signBytes(signingDigest(obj), privateKeyHex);
}

/** A copy of `obj` with its `signature` set. */
export function signObject<T extends object>(obj: T, privateKeyHex: string): T & { signature: string } {
  return { ...obj, signature: signatureOf(obj, privateKeyHex) };
}

/** Whether `signature` (default: obj.signature) is `publicKey`'s signature of `obj`. */
export function verifyObject(obj: object, publicKeyHex: string, signature?: string): boolean {
  const sig = signature ?? (obj as { signature?: unknown }).signature;
  if (typeof sig !== "string") return false;
  return verifyBytes(signingDigest(obj), sig, publicKeyHex);
}

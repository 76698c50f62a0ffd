// WireGuard keys (Curve25519, base64 of 32 bytes) with Node's own X25519.
import { createPrivateKey, createPublicKey } from "node:crypto";
import { ValidationError } from "../../core/index.js";

// PKCS#8 DER prefix of an X25519 private key: the raw 32 bytes follow.
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

export function keyBytes(b64: string, what: string): Buffer {
  const raw = Buffer.from(b64, "base64");
  if (raw.length !== 32 || raw.toString("base64") !== b64) throw new ValidationError(`${what} is not a WireGuard key (base64 of 32 bytes)`);
  return raw;
}

/** The public key of a private one. */
export function publicKeyOf(privateB64: string): string {
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, keyBytes(privateB64, "the private key")]), format: "der", type: "pkcs8" });
  const jwk = createPublicKey(key).export({ format: "jwk" });
  return Buffer.from(jwk.x!, "base64url").toString("base64");
}

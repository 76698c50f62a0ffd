// WireGuard key pairs made where they are used: a node's key by the deployer (then sealed to that
// node), the user's access key on the user's machine (never sent anywhere).
import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";

export interface WgKeyPair { privateKey: string; publicKey: string }

export function generateWgKeyPair(): WgKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const d = privateKey.export({ format: "jwk" }).d!, x = publicKey.export({ format: "jwk" }).x!;
  return { privateKey: Buffer.from(d, "base64url").toString("base64"), publicKey: Buffer.from(x, "base64url").toString("base64") };
}

const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

/**
 * A key pair derived from the user's own secret and a label (deployment, network, node): the same
 * every time, so a re-deploy or an access config printed again needs nothing stored, and nobody
 * without the user's key can compute it. The node gets its private key sealed to it.
 */
export function deriveWgKeyPair(userSecretHex: string, label: string): WgKeyPair {
  const d = createHmac("sha256", Buffer.from(userSecretHex, "hex")).update(`zero-net\0${label}`).digest();
  // Curve25519 clamping, as `wg genkey` does.
  d[0] &= 248; d[31] &= 127; d[31] |= 64;
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_X25519, d]), format: "der", type: "pkcs8" });
  const x = createPublicKey(key).export({ format: "jwk" }).x!;
  return { privateKey: d.toString("base64"), publicKey: Buffer.from(x, "base64url").toString("base64") };
}

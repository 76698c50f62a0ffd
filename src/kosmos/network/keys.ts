// WireGuard key pairs made where they are used: a node's key by the deployer (then sealed to that
// node), the user's access key on the user's machine (never sent anywhere).
import { generateKeyPairSync } from "node:crypto";

export interface WgKeyPair { privateKey: string; publicKey: string }

export function generateWgKeyPair(): WgKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  const d = privateKey.export({ format: "jwk" }).d!, x = publicKey.export({ format: "jwk" }).x!;
  return { privateKey: Buffer.from(d, "base64url").toString("base64"), publicKey: Buffer.from(x, "base64url").toString("base64") };
}

// Sealed secrets (ARCHITECTURE.md, "Sealed secrets"): an anonymous NaCl box (libsodium's
// crypto_box_seal) to a node's X25519 key. Layout: ephemeral public key (32) ‖ box; the nonce is
// BLAKE2b-24(ephemeral pk ‖ recipient pk); the box key is HSalsa20 of the X25519 shared secret.
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import { hsalsa, xsalsa20poly1305 } from "@noble/ciphers/salsa.js";
import { blake2b } from "@noble/hashes/blake2.js";
import { z } from "zod";
import { ValidationError } from "./errors.js";

export const sealedSchema = z.object({ sealed: z.string().min(1).max(1 << 20).regex(/^[A-Za-z0-9+/]+=*$/, "base64") }).strict();
export type Sealed = z.infer<typeof sealedSchema>;

export interface SealKeyPair {
  /** X25519 private key, hex. Lives only on the node, in a 0600 file. */
  privateKey: string;
  /** X25519 public key, hex, published on the ledger by node.register. */
  publicKey: string;
}

export function generateSealKeyPair(randomBytes: (n: number) => Uint8Array = nodeRandomBytes): SealKeyPair {
  const priv = randomBytes(32);
  return { privateKey: Buffer.from(priv).toString("hex"), publicKey: Buffer.from(x25519.getPublicKey(priv)).toString("hex") };
}

const SIGMA = new Uint32Array(new Uint8Array(Buffer.from("expand 32-byte k", "ascii")).buffer.slice(0));

/** crypto_box_beforenm: the symmetric key shared by `secretKey`'s owner and `publicKey`'s owner. */
export function boxSharedKey(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  const shared = x25519.getSharedSecret(secretKey, publicKey);
  const out = new Uint32Array(8);
  hsalsa(SIGMA, new Uint32Array(shared.buffer.slice(shared.byteOffset, shared.byteOffset + 32)), new Uint32Array(4), out);
  return new Uint8Array(out.buffer);
}

function sealNonce(ephemeralPk: Uint8Array, recipientPk: Uint8Array): Uint8Array {
  return blake2b(Buffer.concat([ephemeralPk, recipientPk]), { dkLen: 24 });
}

function hexKey(hex: string, what: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ValidationError(`${what} must be 64 hex characters`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

/** Seal `plaintext` to the holder of `recipientPublicKey` (hex X25519). */
export function seal(plaintext: string | Uint8Array, recipientPublicKey: string, randomBytes: (n: number) => Uint8Array = nodeRandomBytes): Sealed {
  const pk = hexKey(recipientPublicKey, "a seal public key");
  const esk = new Uint8Array(randomBytes(32));
  const epk = x25519.getPublicKey(esk);
  const key = boxSharedKey(esk, pk);
  const msg = typeof plaintext === "string" ? new Uint8Array(Buffer.from(plaintext, "utf8")) : plaintext;
  const box = xsalsa20poly1305(key, sealNonce(epk, pk)).encrypt(msg);
  return { sealed: Buffer.concat([epk, box]).toString("base64") };
}

/** Open a sealed secret with the recipient's key pair; throws ValidationError if it is not for us or was altered. */
export function unsealBytes(sealed: Sealed, keys: SealKeyPair): Uint8Array {
  const raw = Buffer.from(sealed.sealed, "base64");
  if (raw.length < 32 + 16) throw new ValidationError("sealed secret is too short to be a sealed box");
  const epk = new Uint8Array(raw.subarray(0, 32));
  const pk = hexKey(keys.publicKey, "a seal public key");
  const key = boxSharedKey(hexKey(keys.privateKey, "a seal private key"), epk);
  try {
    return xsalsa20poly1305(key, sealNonce(epk, pk)).decrypt(new Uint8Array(raw.subarray(32)));
  } catch (e) {
    throw new ValidationError("sealed secret does not open with this node's key", "it was sealed to another node, or altered", { cause: e });
  }
}

export function unseal(sealed: Sealed, keys: SealKeyPair): string {
  return Buffer.from(unsealBytes(sealed, keys)).toString("utf8");
}

export function isSealed(v: unknown): v is Sealed {
  return sealedSchema.safeParse(v).success;
}

// ed25519 through Node's own crypto. Keys travel as hex: a 32-byte seed (private) and a 32-byte
// public key. KeyObjects are cached because building one costs more than a verification.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { ed25519 as noble } from "@noble/curves/ed25519.js";
import { ValidationError } from "./errors.js";

const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

export interface KeyPair {
  /** 32-byte seed, hex. Never log it. */
  privateKey: string;
  /** 32-byte public key, hex. */
  publicKey: string;
}

export function isPublicKeyHex(s: unknown): s is string {
  return typeof s === "string" && HEX64.test(s);
}

/**
 * A public key whose signatures mean something: 64 hex characters that decode (canonically) to a
 * curve point outside the small-order subgroup. A small-order key (the identity and its seven
 * companions: [8]A = 0) lets a signature verify without anyone holding a secret, so it proves
 * nothing; such keys are refused wherever a key is accepted (twins, signers), never only as twins.
 * The decoding costs ~0.1 ms (JavaScript big integers), so the answer is cached per key.
 */
export function isUsablePublicKey(s: unknown): s is string {
  if (!isPublicKeyHex(s)) return false;
  const hit = usable.get(s);
  if (hit !== undefined) return hit;
  let ok: boolean;
  try { ok = !noble.Point.fromHex(s, false).isSmallOrder(); } catch { ok = false; }
  if (usable.size >= CACHE_MAX) usable.delete(usable.keys().next().value as string);
  usable.set(s, ok);
  return ok;
}
const usable = new Map<string, boolean>();

export function isSignatureHex(s: unknown): s is string {
  return typeof s === "string" && HEX128.test(s);
}

export function generateKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync("ed25519");
  return keyPairFromSeed(seedOf(privateKey));
}

export function keyPairFromSeed(seed: Uint8Array | string): KeyPair {
  const seedBuf = typeof seed === "string" ? Buffer.from(seed, "hex") : Buffer.from(seed);
  if (seedBuf.length !== 32) throw new ValidationError(`an ed25519 seed is 32 bytes, got ${seedBuf.length}`);
  const priv = privateKeyObject(seedBuf.toString("hex"));
  const spki = createPublicKey(priv).export({ format: "der", type: "spki" });
  return { privateKey: seedBuf.toString("hex"), publicKey: spki.subarray(SPKI_PREFIX.length).toString("hex") };
}

function seedOf(key: KeyObject): Buffer {
  return key.export({ format: "der", type: "pkcs8" }).subarray(PKCS8_PREFIX.length);
}

const privCache = new Map<string, KeyObject>();
const pubCache = new Map<string, KeyObject>();
const CACHE_MAX = 10_000;

function remember(cache: Map<string, KeyObject>, k: string, v: KeyObject): KeyObject {
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string);
  cache.set(k, v);
  return v;
}

function privateKeyObject(seedHex: string): KeyObject {
  const hit = privCache.get(seedHex);
  if (hit) return hit;
  if (!HEX64.test(seedHex)) throw new ValidationError("an ed25519 private key is 64 hex characters");
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, Buffer.from(seedHex, "hex")]), format: "der", type: "pkcs8" });
  return remember(privCache, seedHex, key);
}

function publicKeyObject(pubHex: string): KeyObject {
  const hit = pubCache.get(pubHex);
  if (hit) return hit;
  if (!HEX64.test(pubHex)) throw new ValidationError("an ed25519 public key is 64 hex characters");
  if (!isUsablePublicKey(pubHex)) throw new ValidationError("a small-order or malformed ed25519 public key proves nothing");
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(pubHex, "hex")]), format: "der", type: "spki" });
  return remember(pubCache, pubHex, key);
}

/** Raw ed25519 signature of `message`, hex. */
export function signBytes(message: Uint8Array, privateKeyHex: string): string {
  return sign(null, message, privateKeyObject(privateKeyHex)).toString("hex");
}

/** True only for a well-formed, valid signature by a usable key (not small-order); never throws on
 *  malformed input. */
export function verifyBytes(message: Uint8Array, signatureHex: string, publicKeyHex: string): boolean {
  if (!isSignatureHex(signatureHex) || !isPublicKeyHex(publicKeyHex)) return false;
  try {
    return verify(null, message, publicKeyObject(publicKeyHex), Buffer.from(signatureHex, "hex"));
  } catch {
    return false;
  }
}

// Passphrase encryption of the config's secrets: scrypt derives the key, XChaCha20-Poly1305 seals
// the JSON. The envelope carries its KDF parameters so they can grow without breaking old files.
// scrypt is Node's native one (OpenSSL; the pure-JS scrypt used before took ~1.5× as long here:
// 89 ms against 130-150 ms at N = 2^15) —
// the same function, so files written then open now (test/kosmos/config.test.ts keeps one).
import { randomBytes as nodeRandomBytes, scryptSync } from "node:crypto";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { z } from "zod";
import { ValidationError, ForbiddenError } from "../../core/index.js";

export const envelopeSchema = z.object({
  format: z.literal("kosmos-secrets-v1"),
  kdf: z.object({ name: z.literal("scrypt"), N: z.number().int().min(2), r: z.number().int().min(1), p: z.number().int().min(1), salt: z.string() }).strict(),
  cipher: z.literal("xchacha20poly1305"),
  nonce: z.string(),
  ciphertext: z.string(),
}).strict();
export type Envelope = z.infer<typeof envelopeSchema>;

/** scrypt cost: 2^15 takes a fraction of a second here, which is what an interactive tool affords. */
export const DEFAULT_KDF = { N: 2 ** 15, r: 8, p: 1 };

/** The most memory a file's KDF parameters may ask for (scrypt needs 128·N·r·p bytes): a damaged or
 *  hostile envelope must not make us allocate gigabytes. 2^15 with r = 8 needs 32 MiB. */
const MAX_KDF_MEMORY = 1 << 30;

function deriveKey(passphrase: string, salt: Uint8Array, kdf: { N: number; r: number; p: number }): Uint8Array {
  const need = 128 * kdf.N * kdf.r * kdf.p;
  if (need > MAX_KDF_MEMORY) throw new ValidationError(`the secrets file asks scrypt for ${need} bytes of memory (N=${kdf.N}, r=${kdf.r}, p=${kdf.p})`, "it may be damaged; restore it or import the identity again");
  try {
    // Node refuses to use more than `maxmem` (32 MiB by default, which 2^15 · 8 exactly misses).
    return new Uint8Array(scryptSync(Buffer.from(passphrase.normalize("NFKC"), "utf8"), salt, 32, { ...kdf, maxmem: need + (1 << 20) }));
  } catch (e) {
    throw new ValidationError(`scrypt refuses the secrets file's parameters N=${kdf.N}, r=${kdf.r}, p=${kdf.p}`, "N must be a power of two; the file may be damaged", { cause: e });
  }
}

/** Seals `plain` under a 32-byte key with XChaCha20-Poly1305 and a fresh random 24-byte nonce;
 *  `aad` (authenticated, not encrypted) binds the ciphertext to its context. The one AEAD of
 *  Kosmos: the passphrase envelope below and the config manager (src/kosmos/configs) both use it. */
export function sealWithKey(key: Uint8Array, plain: Uint8Array, aad?: Uint8Array, rnd: (n: number) => Uint8Array = (n) => new Uint8Array(nodeRandomBytes(n))): { nonce: Uint8Array; ciphertext: Uint8Array } {
  const nonce = rnd(24);
  return { nonce, ciphertext: xchacha20poly1305(key, nonce, aad).encrypt(plain) };
}

/** Opens what sealWithKey sealed; null when it does not authenticate (wrong key, other `aad`, or
 *  damaged bytes — the caller knows which error that is). */
export function openWithKey(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, aad?: Uint8Array): Uint8Array | null {
  if (key.length !== 32 || nonce.length !== 24) return null;
  try { return xchacha20poly1305(key, nonce, aad).decrypt(ciphertext); } catch { return null; }
}

export function encryptSecrets(
  secrets: Record<string, unknown>, passphrase: string,
  opts: { kdf?: { N: number; r: number; p: number }; randomBytes?: (n: number) => Uint8Array } = {},
): Envelope {
  if (!passphrase) throw new ValidationError("an empty passphrase cannot protect secrets", "set KOSMOS_PASSPHRASE or type one at the prompt");
  const rnd = opts.randomBytes ?? ((n: number) => new Uint8Array(nodeRandomBytes(n)));
  const kdf = opts.kdf ?? DEFAULT_KDF;
  const salt = rnd(16);
  const key = deriveKey(passphrase, salt, kdf);
  const { nonce, ciphertext } = sealWithKey(key, new TextEncoder().encode(JSON.stringify(secrets)), undefined, rnd);
  const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
  return { format: "kosmos-secrets-v1", kdf: { name: "scrypt", ...kdf, salt: b64(salt) }, cipher: "xchacha20poly1305", nonce: b64(nonce), ciphertext: b64(ciphertext) };
}

export function decryptSecrets(input: unknown, passphrase: string): Record<string, unknown> {
  const env = envelopeSchema.safeParse(input);
  if (!env.success) throw new ValidationError("the secrets file is not a kosmos secrets envelope", "it may be damaged; restore it or import the identity again");
  const e = env.data;
  const u = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
  const key = deriveKey(passphrase, u(e.kdf.salt), e.kdf);
  const plain = openWithKey(key, u(e.nonce), u(e.ciphertext));
  if (!plain) throw new ForbiddenError("wrong passphrase: the secrets do not decrypt", "check KOSMOS_PASSPHRASE (or what you typed at the prompt)");
  return JSON.parse(new TextDecoder().decode(plain)) as Record<string, unknown>;
}

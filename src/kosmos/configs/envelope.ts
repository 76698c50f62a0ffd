// The config manager's formats, pure: an instance sealed under the identity's config key, and an
// export bundle of every instance sealed under its bundle key. Both name their owner (the identity's
// public key) in clear so that a file of another identity is refused with a message that says so,
// and bind type, name and owner into the AEAD's associated data so a file cannot be swapped for
// another instance's and still open.
import { hkdfSync } from "node:crypto";
import { z } from "zod";
import { DamagedError, ForbiddenError, ValidationError, type KeyPair } from "../../core/index.js";
import { sealWithKey, openWithKey } from "../config/index.js";
import { CONFIG_SCHEMAS, isConfigType, type ConfigType } from "./schemas.js";

const INSTANCE_FORMAT = "kosmos-config-v1";
const BUNDLE_FORMAT = "kosmos-config-bundle-v1";

/**
 * The 32-byte key for one purpose, from the identity's ed25519 seed (itself the first half of the
 * mnemonic's BIP39 seed) through HKDF-SHA256. Not from the passphrase: the passphrase only guards the
 * mnemonic on this machine, so a user who forgets it imports the mnemonic again and every instance
 * opens (recovery); and a home with another identity opens none.
 */
export function configKey(keys: KeyPair, purpose: "instance" | "bundle"): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", Buffer.from(keys.privateKey, "hex"), "kosmos-configs", `kosmos config ${purpose} key v1`, 32));
}

const b64 = (u: Uint8Array) => Buffer.from(u).toString("base64");
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
const utf8 = (s: string) => new TextEncoder().encode(s);

const instanceFileSchema = z.object({
  format: z.literal(INSTANCE_FORMAT),
  type: z.string(),
  name: z.string(),
  owner: z.string(),
  cipher: z.literal("xchacha20poly1305"),
  nonce: z.string(),
  ciphertext: z.string(),
}).strict();
export type InstanceFile = z.infer<typeof instanceFileSchema>;

const aadOf = (format: string, ...parts: string[]) => utf8([format, ...parts].join("\0"));

function ownerCheck(owner: string, keys: KeyPair, what: string): void {
  if (owner !== keys.publicKey) {
    throw new ForbiddenError(`${what} belongs to identity ${owner.slice(0, 16)}…, not to this home's identity ${keys.publicKey.slice(0, 16)}…`,
      "import that identity's mnemonic (`kosmos identity import`) into this home to open it");
  }
}

export function sealInstance(keys: KeyPair, type: ConfigType, name: string, value: unknown): InstanceFile {
  const { nonce, ciphertext } = sealWithKey(configKey(keys, "instance"), utf8(JSON.stringify(value)), aadOf(INSTANCE_FORMAT, type, name, keys.publicKey));
  return { format: INSTANCE_FORMAT, type, name, owner: keys.publicKey, cipher: "xchacha20poly1305", nonce: b64(nonce), ciphertext: b64(ciphertext) };
}

/** The instance in `text` (a file's content), validated against its type's schema. `where` names the file in errors. */
export function openInstance(keys: KeyPair, text: string, expect: { type: ConfigType; name: string }, where: string): unknown {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) {
    throw new DamagedError(`${where} is not a kosmos config file (not JSON)`, "restore it from an export bundle, or `kosmos config rm` it and set it again", { cause: e });
  }
  const f = instanceFileSchema.safeParse(raw);
  if (!f.success) throw new DamagedError(`${where} is not a kosmos config file`, "restore it from an export bundle, or `kosmos config rm` it and set it again");
  ownerCheck(f.data.owner, keys, where);
  if (f.data.type !== expect.type || f.data.name !== expect.name) {
    throw new DamagedError(`${where} holds ${f.data.type}/${f.data.name}, not ${expect.type}/${expect.name}`, "a file was renamed or copied over another; restore it from an export bundle");
  }
  const plain = openWithKey(configKey(keys, "instance"), unb64(f.data.nonce), unb64(f.data.ciphertext), aadOf(INSTANCE_FORMAT, expect.type, expect.name, keys.publicKey));
  if (!plain) throw new DamagedError(`${where} does not authenticate: it is damaged or was not sealed by this identity's key`, "restore it from an export bundle, or `kosmos config rm` it and set it again");
  const v = CONFIG_SCHEMAS[expect.type].safeParse(JSON.parse(new TextDecoder().decode(plain)));
  if (!v.success) throw new DamagedError(`${where} decrypts but is no valid ${expect.type} instance`, "set it again");
  return v.data;
}

export interface BundleEntry { type: ConfigType; name: string; value: unknown }

const bundleSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  owner: z.string(),
  created: z.string(),
  count: z.number().int().min(0),
  cipher: z.literal("xchacha20poly1305"),
  nonce: z.string(),
  ciphertext: z.string(),
}).strict();
export type Bundle = z.infer<typeof bundleSchema>;

export function sealBundle(keys: KeyPair, entries: BundleEntry[], created: Date): Bundle {
  const createdIso = created.toISOString();
  const { nonce, ciphertext } = sealWithKey(configKey(keys, "bundle"), utf8(JSON.stringify(entries)), aadOf(BUNDLE_FORMAT, keys.publicKey, createdIso, String(entries.length)));
  return { format: BUNDLE_FORMAT, owner: keys.publicKey, created: createdIso, count: entries.length, cipher: "xchacha20poly1305", nonce: b64(nonce), ciphertext: b64(ciphertext) };
}

export function openBundle(keys: KeyPair, text: string): BundleEntry[] {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) {
    throw new ValidationError("not a kosmos config bundle (not JSON)", "give the file `kosmos config export` wrote", { cause: e });
  }
  const b = bundleSchema.safeParse(raw);
  if (!b.success) throw new ValidationError("not a kosmos config bundle", "give the file `kosmos config export` wrote");
  ownerCheck(b.data.owner, keys, "the bundle");
  const plain = openWithKey(configKey(keys, "bundle"), unb64(b.data.nonce), unb64(b.data.ciphertext), aadOf(BUNDLE_FORMAT, b.data.owner, b.data.created, String(b.data.count)));
  if (!plain) throw new DamagedError("the bundle does not authenticate: it is damaged", "export it again from the home it came from");
  const entries = JSON.parse(new TextDecoder().decode(plain)) as BundleEntry[];
  for (const e of entries) {
    if (!isConfigType(e.type) || !CONFIG_SCHEMAS[e.type].safeParse(e.value).success) throw new DamagedError(`the bundle's instance ${String(e.type)}/${String(e.name)} is not valid`);
  }
  return entries;
}

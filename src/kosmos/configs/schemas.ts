// The typed configuration instances the config manager keeps: one zod schema per client type, and
// which of its fields are secrets (masked by `kosmos config get` unless asked, never logged).
// Adding a client type is one entry here.
import { z } from "zod";
import { keyPairFromMnemonic } from "../../core/index.js";

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const httpUrl = z.string().regex(/^https?:\/\/\S+$/, "an http(s) URL");

export const sshConfigSchema = z.object({
  host: z.string().min(1),
  port: port(22),
  user: z.string().min(1).default("root"),
  /** An OpenSSH or PEM private key (its text, not a path: the manager is where it lives). */
  privateKey: z.string().optional(),
  /** The private key's passphrase, if it has one. */
  passphrase: z.string().optional(),
  password: z.string().optional(),
  /** Pin the server: its host key's `SHA256:…` fingerprint (as `ssh-keygen -lf` prints it). */
  hostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/]+=*$/, "a SHA256:… fingerprint").optional(),
}).strict();

export const zdbConfigSchema = z.object({
  host: z.string().min(1).default("127.0.0.1"),
  port: port(9900),
  namespace: z.string().min(1).default("default"),
  password: z.string().optional(),
}).strict();

export const s3ConfigSchema = z.object({
  endpoint: httpUrl,
  region: z.string().min(1).default("us-east-1"),
  bucket: z.string().optional(),
  accessKeyId: z.string().min(1),
  secretAccessKey: z.string().min(1),
  forcePathStyle: z.boolean().default(true),
}).strict();

export const ledgerConfigSchema = z.object({
  url: httpUrl,
}).strict();

export const hubConfigSchema = z.object({
  url: httpUrl,
}).strict();

export const walletConfigSchema = z.object({
  mnemonic: z.string().refine((m) => { try { keyPairFromMnemonic(m); return true; } catch { return false; } }, "a valid BIP39 mnemonic"),
  twinId: z.coerce.number().int().positive().optional(),
}).strict();

export const CONFIG_SCHEMAS = {
  ssh: sshConfigSchema,
  zdb: zdbConfigSchema,
  s3: s3ConfigSchema,
  ledger: ledgerConfigSchema,
  hub: hubConfigSchema,
  wallet: walletConfigSchema,
} as const;

export type ConfigType = keyof typeof CONFIG_SCHEMAS;
export const CONFIG_TYPES = Object.keys(CONFIG_SCHEMAS) as ConfigType[];
/** A stored instance of `T`, defaults filled in. */
export type ConfigOf<T extends ConfigType> = z.output<(typeof CONFIG_SCHEMAS)[T]>;
/** What a caller may give for `T` (defaults optional, numbers may be strings). */
export type ConfigInput<T extends ConfigType> = z.input<(typeof CONFIG_SCHEMAS)[T]>;

export const SECRET_FIELDS: Record<ConfigType, readonly string[]> = {
  ssh: ["privateKey", "passphrase", "password"],
  zdb: ["password"],
  s3: ["secretAccessKey"],
  ledger: [],
  hub: [],
  wallet: ["mnemonic"],
};

export function isConfigType(v: string): v is ConfigType {
  return Object.hasOwn(CONFIG_SCHEMAS, v);
}

/** Instance names become file names: a short, plain word. */
export const instanceNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "1-63 letters, digits, '.', '_' or '-', starting with a letter or digit");

/** The instance with its secret fields replaced by "***" (for showing, not for using). */
export function masked<T extends ConfigType>(type: T, value: ConfigOf<T>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...value };
  for (const f of SECRET_FIELDS[type]) if (out[f] !== undefined) out[f] = "***";
  return out;
}

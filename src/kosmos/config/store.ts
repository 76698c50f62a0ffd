// The kosmos home: `config.json` (plain settings: ledger URL, twin id, public key) beside
// `secrets.enc` (the mnemonic and any other secret, encrypted; mode 0600). Writes are atomic
// (temp file + rename) so an interrupted command never leaves half a file.
import { mkdirSync, readFileSync, writeFileSync, renameSync, existsSync, chmodSync, openSync, fsyncSync, closeSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { keyPairFromMnemonic, type KeyPair, NotFoundError, ValidationError } from "../../core/index.js";
import { decryptSecrets, encryptSecrets, type DEFAULT_KDF } from "./crypto.js";

export const settingsSchema = z.object({
  ledgerUrl: z.string().optional(),
  twinId: z.number().int().positive().optional(),
  publicKey: z.string().optional(),
  /** The flist hub `kosmos flist build` publishes to. */
  hubUrl: z.string().optional(),
}).passthrough();
export type Settings = z.infer<typeof settingsSchema>;

export interface Identity { mnemonic: string; keys: KeyPair }

/** Where a passphrase comes from; `confirm` asks twice (for a new secret store). */
export type PassphraseSource = (purpose: { confirm: boolean }) => Promise<string>;

function writeAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  chmodSync(tmp, mode);
  const fd = openSync(tmp, "r");
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
}

export class ConfigStore {
  readonly settingsPath: string;
  readonly secretsPath: string;
  private cached?: Record<string, unknown>;
  private passphrase?: string;

  constructor(readonly home: string, private readonly askPassphrase: PassphraseSource, private readonly kdf?: typeof DEFAULT_KDF) {
    this.settingsPath = join(home, "config.json");
    this.secretsPath = join(home, "secrets.enc");
  }

  private ensureHome(): void {
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
  }

  settings(): Settings {
    if (!existsSync(this.settingsPath)) return {};
    let raw: unknown;
    try { raw = JSON.parse(readFileSync(this.settingsPath, "utf8")); } catch (e) {
      throw new ValidationError(`${this.settingsPath} is not valid JSON: ${(e as Error).message}`);
    }
    const s = settingsSchema.safeParse(raw);
    if (!s.success) throw new ValidationError(`${this.settingsPath} has invalid settings`);
    return s.data;
  }

  updateSettings(patch: Partial<Settings>): Settings {
    this.ensureHome();
    const next = { ...this.settings(), ...patch };
    writeAtomic(this.settingsPath, JSON.stringify(next, null, 2) + "\n", 0o644);
    return next;
  }

  hasSecrets(): boolean {
    return existsSync(this.secretsPath);
  }

  async secrets(): Promise<Record<string, unknown>> {
    if (this.cached) return this.cached;
    if (!this.hasSecrets()) return {};
    const envelope = JSON.parse(readFileSync(this.secretsPath, "utf8")) as unknown;
    const pass = this.passphrase ?? await this.askPassphrase({ confirm: false });
    this.cached = decryptSecrets(envelope, pass);
    this.passphrase = pass;
    return this.cached;
  }

  async saveSecrets(secrets: Record<string, unknown>): Promise<void> {
    this.ensureHome();
    // A new store asks for the passphrase twice; an existing one must be opened with its own first.
    if (this.hasSecrets() && this.passphrase === undefined) await this.secrets();
    const pass = this.passphrase ?? await this.askPassphrase({ confirm: true });
    writeAtomic(this.secretsPath, JSON.stringify(encryptSecrets(secrets, pass, { kdf: this.kdf })) + "\n", 0o600);
    this.passphrase = pass;
    this.cached = secrets;
  }

  async identity(): Promise<Identity> {
    const s = await this.secrets();
    if (typeof s.mnemonic !== "string") {
      throw new NotFoundError(`no identity in ${this.home}`, "create one with `kosmos identity new` or `kosmos identity import`");
    }
    return { mnemonic: s.mnemonic, keys: keyPairFromMnemonic(s.mnemonic) };
  }

  /** Keep, encrypted, the passwords of the 0-db namespaces a deployment's containers log into
   *  (container name → password), so `kosmos logs` can read them back. Writes only on a change. */
  async rememberLogPasswords(deployment: string, passwords: Record<string, string>): Promise<void> {
    const s = this.hasSecrets() ? await this.secrets() : {};
    const all = (s.logPasswords ?? {}) as Record<string, Record<string, string>>;
    const cur = all[deployment] ?? {};
    if (Object.keys(passwords).every((k) => cur[k] === passwords[k])) return;
    await this.saveSecrets({ ...s, logPasswords: { ...all, [deployment]: { ...cur, ...passwords } } });
  }

  async logPassword(deployment: string, container: string): Promise<string | null> {
    const all = ((await this.secrets()).logPasswords ?? {}) as Record<string, Record<string, string>>;
    return all[deployment]?.[container] ?? null;
  }

  /** Store a mnemonic as this home's identity (validated first, so nothing changes on bad input). */
  async setIdentity(mnemonic: string): Promise<Identity> {
    const keys = keyPairFromMnemonic(mnemonic);
    const words = mnemonic.trim().split(/\s+/).join(" ");
    const s = this.hasSecrets() ? await this.secrets() : {};
    await this.saveSecrets({ ...s, mnemonic: words });
    const settings = this.settings();
    // A different key is a different twin: forget the old twin id.
    this.updateSettings({ publicKey: keys.publicKey, twinId: settings.publicKey === keys.publicKey ? settings.twinId : undefined });
    return { mnemonic: words, keys };
  }
}

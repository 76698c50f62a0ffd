// The config manager: named, typed instances of client configurations in the kosmos home, one file
// each (`configs/TYPE/NAME.json`, mode 0600, written atomically), each sealed under a key derived
// from the identity (envelope.ts) and opened only when read. The SDK and `kosmos config` both use it.
import { readdirSync, readFileSync, existsSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { NotFoundError, ValidationError, ConflictError, formatIssues, type KeyPair } from "../../core/index.js";
import { writeFileAtomic, removeFile } from "../../runtime/index.js";
import { CONFIG_SCHEMAS, CONFIG_TYPES, instanceNameSchema, isConfigType, type ConfigInput, type ConfigOf, type ConfigType } from "./schemas.js";
import { openBundle, openInstance, sealBundle, sealInstance, type BundleEntry } from "./envelope.js";

export interface InstanceRef { type: ConfigType; name: string }

/** The identity the keys come from: the keys themselves, or how to get them (asks the passphrase once, when first needed). */
export type IdentitySource = KeyPair | (() => Promise<KeyPair>);

export function checkType(type: string): ConfigType {
  if (!isConfigType(type)) throw new ValidationError(`unknown config type "${type}"`, `the types are: ${CONFIG_TYPES.join(", ")}`);
  return type;
}

function checkName(name: string): string {
  const r = instanceNameSchema.safeParse(name);
  if (!r.success) throw new ValidationError(`"${name}" is not a config instance name: ${r.error.issues[0]?.message}`);
  return name;
}

/** `value` checked against `type`'s schema, defaults filled in; ValidationError naming every issue. */
export function parseConfig<T extends ConfigType>(type: T, value: unknown, label = "given"): ConfigOf<T> {
  const parsed = CONFIG_SCHEMAS[checkType(type)].safeParse(value);
  if (!parsed.success) throw new ValidationError(`invalid ${type} config ${label}: ${formatIssues(parsed.error)}`);
  return parsed.data as ConfigOf<T>;
}

export class ConfigManager {
  readonly dir: string;
  #keys?: KeyPair;
  readonly #identity: IdentitySource;

  constructor(home: string, identity: IdentitySource) {
    this.dir = join(home, "configs");
    this.#identity = identity;
  }

  async #k(): Promise<KeyPair> {
    this.#keys ??= typeof this.#identity === "function" ? await this.#identity() : this.#identity;
    return this.#keys;
  }

  #path(type: ConfigType, name: string): string {
    return join(this.dir, type, `${name}.json`);
  }

  #ensureDir(type: ConfigType): string {
    const d = join(this.dir, type);
    mkdirSync(d, { recursive: true, mode: 0o700 });
    // mkdir's mode is masked by the umask and leaves existing folders alone: set it.
    chmodSync(this.dir, 0o700);
    chmodSync(d, 0o700);
    return d;
  }

  /** Every instance, or those of one type; reads names only (nothing is decrypted). */
  list(type?: ConfigType): InstanceRef[] {
    const out: InstanceRef[] = [];
    for (const t of type ? [type] : CONFIG_TYPES) {
      const d = join(this.dir, t);
      if (!existsSync(d)) continue;
      for (const f of readdirSync(d).sort()) {
        if (f.endsWith(".json") && !f.startsWith(".")) out.push({ type: t, name: f.slice(0, -5) });
      }
    }
    return out;
  }

  has(type: ConfigType, name: string): boolean {
    return existsSync(this.#path(checkType(type), checkName(name)));
  }

  /** The instance, decrypted now. NotFoundError if there is none; DamagedError/ForbiddenError if its file is not ours to open. */
  async get<T extends ConfigType>(type: T, name: string): Promise<ConfigOf<T>> {
    const path = this.#path(checkType(type), checkName(name));
    let text: string;
    try { text = readFileSync(path, "utf8"); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no ${type} config named "${name}"`, "list them with `kosmos config ls`", { cause: e });
      throw e;
    }
    return openInstance(await this.#k(), text, { type, name }, path) as ConfigOf<T>;
  }

  /**
   * Stores an instance (validated against its type's schema first: nothing is written on bad input).
   * With `merge`, the fields given replace those of the instance already there and the rest stay.
   */
  async set<T extends ConfigType>(type: T, name: string, value: ConfigInput<T> | Record<string, unknown>, opts: { merge?: boolean } = {}): Promise<ConfigOf<T>> {
    checkType(type);
    checkName(name);
    const base = opts.merge && this.has(type, name) ? await this.get(type, name) : {};
    const parsed = parseConfig(type, { ...base, ...value }, `"${name}"`);
    await this.#write(type, name, parsed);
    return parsed;
  }

  async #write(type: ConfigType, name: string, value: unknown): Promise<void> {
    const sealed = sealInstance(await this.#k(), type, name, value);
    this.#ensureDir(type);
    await writeFileAtomic(this.#path(type, name), JSON.stringify(sealed) + "\n", 0o600);
  }

  async remove(type: ConfigType, name: string): Promise<void> {
    if (!this.has(type, name)) throw new NotFoundError(`no ${type} config named "${name}"`, "list them with `kosmos config ls`");
    await removeFile(this.#path(type, name));
  }

  /** One bundle (JSON text) of every instance, sealed under this identity's bundle key. */
  async export(): Promise<string> {
    const entries: BundleEntry[] = [];
    for (const r of this.list()) entries.push({ ...r, value: await this.get(r.type, r.name) });
    return JSON.stringify(sealBundle(await this.#k(), entries, new Date())) + "\n";
  }

  /** Takes a bundle made by `export` with the same identity. Instances already here are kept unless
   *  `overwrite`; with conflicts and no `overwrite`, nothing is written (ConflictError lists them). */
  async import(bundle: string, opts: { overwrite?: boolean } = {}): Promise<{ imported: InstanceRef[] }> {
    const entries = openBundle(await this.#k(), bundle);
    const clash = entries.filter((e) => this.has(e.type, e.name));
    if (clash.length && !opts.overwrite) {
      throw new ConflictError(`this home already has ${clash.map((e) => `${e.type}/${e.name}`).join(", ")}`, "pass --overwrite to replace them with the bundle's, or remove them first");
    }
    for (const e of entries) { checkName(e.name); await this.#write(e.type, e.name, e.value); }
    return { imported: entries.map(({ type, name }) => ({ type, name })) };
  }
}

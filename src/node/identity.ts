// The node's keys: an ed25519 identity (its twin on the ledger) and an X25519 seal key (what users
// seal secrets to). Both are made on first boot and kept 0600 in the data folder.
import { readFile, chmod } from "node:fs/promises";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { keyPairFromSeed, generateSealKeyPair, type KeyPair, type SealKeyPair, ValidationError } from "../core/index.js";
import { writeFileAtomic } from "../runtime/index.js";

export interface NodeIdentity { keys: KeyPair; seal: SealKeyPair }

async function loadOrCreateSecret(path: string, what: string, make: () => string): Promise<string> {
  try {
    const text = (await readFile(path, "utf8")).trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new ValidationError(`${path} does not hold a ${what} (64 hex characters)`, "restore the file from a backup, or move it away to make a new identity");
    await chmod(path, 0o600);
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const value = make();
  await writeFileAtomic(path, value + "\n", 0o600);
  return value;
}

export async function loadOrCreateIdentity(dataDir: string, random: (n: number) => Uint8Array = randomBytes): Promise<NodeIdentity> {
  const seed = await loadOrCreateSecret(join(dataDir, "identity.key"), "ed25519 seed", () => Buffer.from(random(32)).toString("hex"));
  const sealPriv = await loadOrCreateSecret(join(dataDir, "seal.key"), "X25519 private key", () => generateSealKeyPair(random).privateKey);
  return { keys: keyPairFromSeed(seed), seal: generateSealKeyPair(() => Buffer.from(sealPriv, "hex")) };
}

/** A random secret kept 0600 in the data folder (the local 0-db's admin password). */
export async function loadOrCreatePassword(path: string): Promise<string> {
  return loadOrCreateSecret(path, "password", () => randomBytes(32).toString("hex"));
}

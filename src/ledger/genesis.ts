// Block 0: the genesis twin's key, the supply and the periods fixed for the life of the chain, and
// the key file the local grid's faucet signs with.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, keyPairFromSeed, type KeyPair } from "../core/index.js";
import { encodeBlock, ZERO_HASH, type EncodedBlock } from "./block.js";
import { emptyState, type State } from "./state.js";
import type { Block, Genesis } from "./types.js";

export const DEFAULT_SUPPLY = 100_000_000_000_000;

/** Make DIR/genesis.key (0600) unless it exists; true when it was made now. */
export function ensureGenesisKey(dir: string): boolean {
  const keyPath = join(dir, "genesis.key");
  if (existsSync(keyPath)) return false;
  mkdirSync(dir, { recursive: true });
  const kp = generateKeyPair();
  writeFileSync(keyPath, JSON.stringify(kp) + "\n", { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  return true;
}

/** The genesis key in DIR (made first when `make` and missing), or undefined; a damaged key file
 *  fails loudly. */
export function readGenesisKey(dir: string, make: boolean): KeyPair | undefined {
  if (make) ensureGenesisKey(dir);
  const keyPath = join(dir, "genesis.key");
  if (!existsSync(keyPath)) return undefined;
  const key = JSON.parse(readFileSync(keyPath, "utf8")) as KeyPair;
  keyPairFromSeed(key.privateKey);
  return key;
}

/** Block 0 of a new chain: its genesis twin's key, supply and periods. */
export function makeGenesisBlock(publicKey: string, o: { supply?: number; billingPeriod: number; gracePeriod: number; reportInterval: number }, time: number): EncodedBlock {
  const genesis: Genesis = { publicKey, supply: o.supply ?? DEFAULT_SUPPLY, billingPeriod: o.billingPeriod, gracePeriod: o.gracePeriod, reportInterval: o.reportInterval };
  return encodeBlock({ height: 0, prevHash: ZERO_HASH, time, genesis }, [], []);
}

/** The state right after block 0. */
export function genesisState(block: Block): State {
  const s = emptyState(block.genesis!, block.time);
  s.height = 0; s.hash = block.hash;
  return s;
}

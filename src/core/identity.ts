// A user's or node's signing identity: an ed25519 key, optionally from a BIP39 mnemonic.
import { generateMnemonic, mnemonicToSeedSync, validateMnemonic } from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { keyPairFromSeed, type KeyPair } from "./ed25519.js";
import { ValidationError } from "./errors.js";

export function newMnemonic(): string {
  return generateMnemonic(wordlist, 256);
}

/** The ed25519 key of a mnemonic: the first 32 bytes of its BIP39 seed (no passphrase). */
export function keyPairFromMnemonic(mnemonic: string): KeyPair {
  const words = mnemonic.trim().split(/\s+/).join(" ");
  if (!validateMnemonic(words, wordlist)) {
    throw new ValidationError("not a valid BIP39 mnemonic", "check the words and their order (12 or 24 English words)");
  }
  return keyPairFromSeed(mnemonicToSeedSync(words).subarray(0, 32));
}

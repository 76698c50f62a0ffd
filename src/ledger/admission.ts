// What a transaction must be before the ledger queues it: a well-formed, signed transaction
// (core's parseTx) whose signer is a key that can prove something. A small-order key is refused
// here with its own reason, rather than as a signature that happens not to verify.
import { isPublicKeyHex, isUsablePublicKey, parseTx, ValidationError, type Tx } from "../core/index.js";

export function parseSubmitted(raw: unknown): Tx {
  const signer = (raw as { signer?: unknown } | null)?.signer;
  if (isPublicKeyHex(signer) && !isUsablePublicKey(signer)) {
    throw new ValidationError(`signer ${String(signer).slice(0, 12)}… is a small-order or malformed ed25519 key: its signatures prove nothing`, "sign with a key made by `kosmos` (or core's generateKeyPair)");
  }
  return parseTx(raw);
}

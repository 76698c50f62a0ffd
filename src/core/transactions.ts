// Ledger transactions (ARCHITECTURE.md, "Transactions"): `{type, signer, nonce, payload, signature}`,
// signed with signObject by `signer` (an ed25519 public key, hex). The nonce is the signer's previous
// nonce + 1, starting at 1, so a transaction can never be replayed or skipped.
import { z } from "zod";
import { capacitySchema } from "./units.js";
import { deploymentSchema } from "./deployment.js";
import { nameSchema, workloadResultSchema } from "./workloads.js";
import { signObject, verifyObject } from "./signing.js";
import { canonicalBytes } from "./canonical.js";
import { sha256Hex } from "./hash.js";
import { ValidationError, SignatureError } from "./errors.js";

/** Largest accepted transaction, in bytes of canonical JSON. */
export const MAX_TX_BYTES = 256 * 1024;

const id = z.number().int().positive();
const amount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters");
const hex128 = z.string().regex(/^[0-9a-f]{128}$/, "128 lowercase hex characters");

export const payloadSchemas = {
  "twin.create": z.object({}).strict(),
  "transfer": z.object({ to: id, amount }).strict(),
  /** Genesis key only: the local grid's faucet. */
  "mint": z.object({ to: id, amount }).strict(),
  "farm.create": z.object({ name: nameSchema }).strict(),
  "node.register": z.object({
    farmId: id,
    capacity: capacitySchema,
    /** X25519 public key (hex) that secrets in deployments for this node are sealed to. */
    sealKey: hex64,
    /** The address other hosts reach this node at. */
    underlay: z.string().min(1).max(64),
    publicConfig: z.object({ domain: z.string().max(253).optional(), ipv4: z.string().max(64).optional() }).strict().optional(),
  }).strict(),
  "node.report": z.object({ nodeId: id, uptime: z.number().int().min(0), used: capacitySchema }).strict(),
  "contract.create": z.object({ deployment: deploymentSchema, deploymentSignature: hex128 }).strict(),
  "contract.approve": z.object({ contractId: id, version: z.number().int().min(0), deploymentSignature: hex128 }).strict(),
  "contract.update": z.object({ contractId: id, deployment: deploymentSchema, deploymentSignature: hex128 }).strict(),
  "contract.cancel": z.object({ contractId: id }).strict(),
  "contract.result": z.object({ contractId: id, version: z.number().int().min(0), results: z.array(workloadResultSchema).min(1).max(64) }).strict(),
  "name.reserve": z.object({ name: nameSchema }).strict(),
  "name.release": z.object({ name: nameSchema }).strict(),
} as const;

export type TxType = keyof typeof payloadSchemas;
export const TX_TYPES = Object.keys(payloadSchemas) as TxType[];
export type Payload<T extends TxType> = z.infer<(typeof payloadSchemas)[T]>;

export interface UnsignedTx<T extends TxType = TxType> { type: T; signer: string; nonce: number; payload: Payload<T> }
export interface Tx<T extends TxType = TxType> extends UnsignedTx<T> { signature: string }

const envelopeSchema = z.object({
  type: z.enum(TX_TYPES as [TxType, ...TxType[]]),
  signer: hex64,
  nonce: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  payload: z.unknown(),
  signature: hex128,
}).strict();

/** Validate shape, size and signature of an untrusted transaction. Throws ValidationError /
 *  SignatureError with a reason a person can act on; returns the parsed, defaults-filled tx. */
export function parseTx(input: unknown): Tx {
  const env = envelopeSchema.safeParse(input);
  if (!env.success) throw new ValidationError(`malformed transaction: ${formatIssues(env.error)}`);
  const size = canonicalBytes(input).length;
  if (size > MAX_TX_BYTES) throw new ValidationError(`transaction is ${size} bytes, more than the limit of ${MAX_TX_BYTES}`);
  const schema = payloadSchemas[env.data.type];
  const payload = schema.safeParse(env.data.payload);
  if (!payload.success) throw new ValidationError(`invalid ${env.data.type} payload: ${formatIssues(payload.error)}`);
  // The signature covers what the signer sent, before defaults were filled in.
  if (!verifyObject(input as object, env.data.signer)) {
    throw new SignatureError(`signature of ${env.data.type} does not verify for signer ${env.data.signer.slice(0, 12)}…`, "sign the transaction with the signer's own key");
  }
  return { ...env.data, payload: payload.data } as Tx;
}

export function signTx<T extends TxType>(tx: UnsignedTx<T>, privateKeyHex: string): Tx<T> {
  return signObject(tx, privateKeyHex) as Tx<T>;
}

/** The transaction's id: SHA-256 of its canonical form, signature included. */
export function txHash(tx: Tx | object): string {
  return sha256Hex(canonicalBytes(tx));
}

export function formatIssues(err: z.ZodError): string {
  return err.issues.slice(0, 5).map((i) => `${i.path.length ? i.path.join(".") : "(root)"}: ${i.message}`).join("; ");
}

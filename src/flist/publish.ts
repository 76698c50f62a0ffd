// The signed request that publishes an flist under an owner's name. The owner is an ed25519 public
// key (hex); the request carries a timestamp and a nonce, and the hub accepts a name's requests only
// with strictly increasing timestamps, so a captured request cannot be replayed to roll a name back.
import { z } from "zod";
import { signObject, verifyObject, isPublicKeyHex, type KeyPair, SignatureError, ValidationError, ConflictError, DamagedError, formatIssues } from "../core/index.js";
import type { NameRecord } from "./hub-store.js";
import { randomBytes } from "node:crypto";

export const flistNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,127}$/i, "letters, digits, '.', '-' and '_', at most 128");
export const publishRequestSchema = z.object({
  action: z.literal("flist.publish"),
  owner: z.string().refine(isPublicKeyHex, "an ed25519 public key, 64 hex digits"),
  name: flistNameSchema,
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  timestamp: z.number().int().positive(),
  nonce: z.string().min(8).max(64),
  signature: z.string(),
}).strict();
export type PublishRequest = z.infer<typeof publishRequestSchema>;

/** The header a hub serves a named flist with: the owner's signed publish request, base64 JSON. */
export const PUBLISH_HEADER = "x-flist-publish";

/** Maximal clock difference between the publisher and the hub, seconds. */
export const PUBLISH_WINDOW_S = 300;

export function signPublish(keys: KeyPair, name: string, hash: string, now: number = Date.now(), nonce: string = randomBytes(12).toString("hex")): PublishRequest {
  return signObject({ action: "flist.publish" as const, owner: keys.publicKey, name, hash, timestamp: now, nonce }, keys.privateKey);
}

/** Checks that `v` is `owner`'s signed request to publish flist `hash` as `name` (no clock check:
 *  also used on what a hub serves, long after it was signed). */
export function checkSignedPublish(v: unknown, owner: string, name: string, hash: string): PublishRequest {
  const r = publishRequestSchema.safeParse(v);
  if (!r.success) throw new ValidationError(`bad publish request: ${formatIssues(r.error)}`);
  const req = r.data;
  if (req.owner !== owner || req.name !== name) throw new ValidationError(`publish request is for ${req.owner}/${req.name}, not ${owner}/${name}`);
  if (req.hash !== hash) throw new ValidationError(`publish request signs flist ${req.hash}, but the body's flist hashes to ${hash}`);
  if (!verifyObject(req, owner)) throw new SignatureError(`publish request for ${owner}/${name} is not signed by ${owner}`, "only the owner's key may publish under its name");
  return req;
}

/** Checks a publish request against the URL it came to and the name's last accepted timestamp. */
export function checkPublish(v: unknown, owner: string, name: string, hash: string, now: number, lastTimestamp: number | null): PublishRequest {
  const req = checkSignedPublish(v, owner, name, hash);
  if (Math.abs(now - req.timestamp) > PUBLISH_WINDOW_S * 1000) throw new ValidationError(`publish request timestamp is more than ${PUBLISH_WINDOW_S}s away from the hub's clock`, "check the clock");
  if (lastTimestamp !== null && req.timestamp <= lastTimestamp) throw new ConflictError(`publish request for ${owner}/${name} is not newer than the last one (replayed?)`);
  return req;
}

/**
 * A name record as read back from the hub's store, checked before it is served or trusted: it
 * parses, it is for `owner/name`, and it carries the owner's signed request for the very flist hash
 * it names. Anyone who could write the store could otherwise publish under any name. Throws
 * DamagedError (unparsable) or SignatureError (not what the owner signed).
 */
export function checkNameRecord(raw: string, owner: string, name: string): NameRecord {
  let v: unknown;
  try { v = JSON.parse(raw); } catch (e) { throw new DamagedError(`the hub's record of ${owner}/${name} is not JSON`, undefined, { cause: e }); }
  const r = nameRecordSchema.safeParse(v);
  if (!r.success) throw new SignatureError(`the hub's record of ${owner}/${name} carries no valid signed publish request (${formatIssues(r.error)})`, "the owner publishes it again");
  const rec = r.data;
  const req = rec.request;
  if (rec.owner !== owner || rec.name !== name || req.owner !== owner || req.name !== name) throw new SignatureError(`the hub's record of ${owner}/${name} is for ${rec.owner}/${rec.name} (request: ${req.owner}/${req.name})`);
  if (req.hash !== rec.hash) throw new SignatureError(`the hub's record of ${owner}/${name} names flist ${rec.hash}, but its owner signed ${req.hash}`);
  if (req.timestamp !== rec.timestamp) throw new SignatureError(`the hub's record of ${owner}/${name} has timestamp ${rec.timestamp}, but its owner signed ${req.timestamp}`);
  if (!verifyObject(req, owner)) throw new SignatureError(`the hub's record of ${owner}/${name} is not signed by ${owner}`);
  return rec as NameRecord;
}

const nameRecordSchema = z.object({
  owner: z.string(), name: z.string(), hash: z.string().regex(/^[0-9a-f]{64}$/), timestamp: z.number().int(),
  publishedAt: z.string(), size: z.number().int().min(0), files: z.number().int().min(0),
  request: publishRequestSchema,
}).strict();

// etcd v3 JSON gateway (grpc-gateway) encoding: request bodies and response decoding, no I/O.
// Keys and values travel as base64; int64 fields as decimal strings; fields with their default
// value (false, 0, empty) are left out of responses.
import { UnavailableError } from "../../core/index.js";

export interface KeyValue { key: string; value: Buffer; createRevision: number; modRevision: number }
export interface RangeResult { revision: number; kvs: KeyValue[]; more: boolean }
export interface TxnResult { revision: number; succeeded: boolean; /** kvs of the failure branch's range, if any */ kvs: KeyValue[] }
export type WatchMessage =
  | { kind: "created"; revision: number }
  | { kind: "events"; revision: number; puts: KeyValue[] }
  | { kind: "progress"; revision: number }
  | { kind: "canceled"; compactRevision: number; reason: string };

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");
const num = (v: unknown): number => (v === undefined ? 0 : Number(v));

/** The first key after every key that starts with `prefix` (etcd's "range_end" of a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i] < 0xff) { const out = Buffer.from(b.subarray(0, i + 1)); out[i]++; return out; }
  }
  return Buffer.from([0]); // all 0xff: to the end of the key space
}

/** The key of the block at `height`: zero-padded, so key order is height order. */
export function blockKey(prefix: string, height: number): string {
  return `${prefix}/blocks/${String(height).padStart(12, "0")}`;
}

/** Who proposed the block at `height` (a replica's id for this run): two replicas may build the
 *  very same block, and only one of them may answer its clients. */
export function proposerKey(prefix: string, height: number): string {
  return `${prefix}/proposers/${String(height).padStart(12, "0")}`;
}

/** The proposer key's value: the replica's run id and the URL where it takes transactions
 *  (followers send theirs there; empty while the replica is not yet listening). */
export function proposerValue(id: string, url: string): Buffer {
  return Buffer.from(url ? `${id} ${url}` : id);
}

export function parseProposer(v: Buffer): { id: string; url: string } {
  const s = v.toString("utf8");
  const sp = s.indexOf(" ");
  return sp < 0 ? { id: s, url: "" } : { id: s.slice(0, sp), url: s.slice(sp + 1) };
}

export function heightOfProposerKey(prefix: string, key: string): number | undefined {
  return heightUnder(`${prefix}/proposers/`, key);
}

export function heightOfKey(prefix: string, key: string): number | undefined {
  return heightUnder(`${prefix}/blocks/`, key);
}

function heightUnder(head: string, key: string): number | undefined {
  if (!key.startsWith(head)) return undefined;
  const n = Number(key.slice(head.length));
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function rangeRequest(key: string | Buffer, o: { end?: string | Buffer; limit?: number; descending?: boolean } = {}): object {
  return {
    key: b64(key),
    ...(o.end !== undefined ? { range_end: b64(o.end) } : {}),
    ...(o.limit ? { limit: String(o.limit) } : {}),
    ...(o.descending ? { sort_order: "DESCEND", sort_target: "KEY" } : {}),
  };
}

/** Put each of `puts` only if the first key was never created; on failure, read them all. */
export function createIfAbsentRequest(puts: { key: string; value: Buffer }[]): object {
  const k = b64(puts[0].key);
  return {
    compare: [{ key: k, target: "CREATE", create_revision: "0", result: "EQUAL" }],
    success: puts.map((p) => ({ request_put: { key: b64(p.key), value: p.value.toString("base64") } })),
    failure: puts.map((p) => ({ request_range: { key: b64(p.key) } })),
  };
}

export function watchRequest(key: string | Buffer, end: string | Buffer, startRevision: number): object {
  return { create_request: { key: b64(key), range_end: b64(end), start_revision: String(startRevision) } };
}

function decodeKv(kv: Record<string, unknown>): KeyValue {
  return {
    key: Buffer.from(String(kv.key ?? ""), "base64").toString("utf8"),
    value: Buffer.from(String(kv.value ?? ""), "base64"),
    createRevision: num(kv.create_revision), modRevision: num(kv.mod_revision),
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function decodeRange(body: Json): RangeResult {
  return { revision: num(body.header?.revision), kvs: ((body.kvs ?? []) as Json[]).map(decodeKv), more: !!body.more };
}

export function decodeTxn(body: Json): TxnResult {
  const kvs: KeyValue[] = [];
  for (const r of (body.responses ?? []) as Json[]) for (const kv of (r.response_range?.kvs ?? []) as Json[]) kvs.push(decodeKv(kv));
  return { revision: num(body.header?.revision), succeeded: !!body.succeeded, kvs };
}

/** One line of the watch stream (newline-delimited JSON objects). */
export function decodeWatchLine(line: string): WatchMessage {
  const msg = JSON.parse(line) as Json;
  // An error line ends the stream; the replica catches up by range and watches again.
  if (msg.error) throw new UnavailableError(`etcd watch: ${msg.error.message ?? JSON.stringify(msg.error)}`);
  const r = (msg.result ?? {}) as Json;
  const revision = num(r.header?.revision);
  if (r.canceled || r.compact_revision) return { kind: "canceled", compactRevision: num(r.compact_revision), reason: String(r.cancel_reason ?? "") };
  if (r.created) return { kind: "created", revision };
  const events = (r.events ?? []) as Json[];
  if (!events.length) return { kind: "progress", revision };
  // Only puts matter: blocks are never deleted by the ledger (a DELETE has type "DELETE").
  return { kind: "events", revision, puts: events.filter((e) => e.type !== "DELETE").map((e) => decodeKv(e.kv as Json)) };
}

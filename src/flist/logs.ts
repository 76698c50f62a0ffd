// Reading a container's logs back from the 0-db namespace the node streams them into (sequential
// mode: keys are 8-byte little-endian ids from 0, as 0-db 2.0.7's — our 0-db also finds entries an
// older node stored under 4-byte ids by their 8-byte form; each value is {"time","line"}). For `kosmos logs`.
import { Redis } from "ioredis";

export interface LogTargetAddress { address: string; namespace: string; password?: string }
export interface ShippedLine { id: number; time: string; line: string }

function idKey(i: number): Buffer { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(i), 0); return b; }

/**
 * Calls `onLine` for every entry from id `from` (default 0); with `follow`, keeps polling for new
 * ones until `signal` aborts. Resolves with the next id to read.
 */
export async function readShippedLogs(t: LogTargetAddress, opts: { from?: number; follow?: boolean; signal?: AbortSignal; pollMs?: number; onLine: (l: ShippedLine) => void }): Promise<number> {
  const i = t.address.lastIndexOf(":");
  const redis = new Redis({ host: t.address.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(t.address.slice(i + 1)), lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on("error", () => { /* surfaced by the commands that fail */ });
  let next = opts.from ?? 0;
  try {
    await redis.connect();
    await (t.password ? redis.call("SELECT", t.namespace, t.password) : redis.call("SELECT", t.namespace));
    for (;;) {
      const v = await redis.getBuffer(idKey(next));
      if (v) {
        let e: { time?: string; line?: string } = {};
        try { e = JSON.parse(v.toString("utf8")); } catch { e = { line: v.toString("utf8") }; }
        opts.onLine({ id: next, time: e.time ?? "", line: e.line ?? "" });
        next++;
        continue;
      }
      if (!opts.follow || opts.signal?.aborted) return next;
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      if (opts.signal?.aborted) return next;
    }
  } finally { redis.disconnect(); }
}

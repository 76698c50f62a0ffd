// A 0-db client: ioredis connected to one namespace. With a password it authenticates with 0-db's
// challenge (`AUTH SECURE CHALLENGE`, then `SELECT ns SECURE sha1(nonce:password)`), so the password
// never crosses the wire.
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { ForbiddenError, NotFoundError, UnavailableError, toGridError } from "../../core/index.js";
import type { ConfigOf } from "../configs/index.js";

export type ZdbTarget = Pick<ConfigOf<"zdb">, "host" | "port" | "namespace"> & { password?: string };

/**
 * Connected and with the namespace selected. No automatic reconnect: a reconnected socket would be
 * back in the default namespace before a SELECT could run again, and commands would land there;
 * a dropped connection ends the client instead (make a new one).
 */
export async function connectZdb(target: ZdbTarget, opts: { connectTimeoutMs?: number } = {}): Promise<Redis> {
  const where = `0-db ${target.host}:${target.port} namespace ${target.namespace}`;
  const r = new Redis({
    host: target.host, port: target.port, lazyConnect: true, enableReadyCheck: false,
    retryStrategy: () => null, maxRetriesPerRequest: 0, connectTimeout: opts.connectTimeoutMs ?? 5000,
  });
  r.on("error", () => { /* surfaced by the command in flight */ });
  try {
    await r.connect();
  } catch (e) {
    r.disconnect();
    const g = toGridError(e);
    throw g.code === "internal" ? new UnavailableError(`cannot reach ${where}: ${(e as Error).message}`, undefined, { cause: e }) : g;
  }
  try {
    if (target.password) {
      const nonce = String(await r.call("AUTH", "SECURE", "CHALLENGE"));
      await r.call("SELECT", target.namespace, "SECURE", createHash("sha1").update(`${nonce}:${target.password}`).digest("hex"));
    } else {
      await r.call("SELECT", target.namespace);
    }
  } catch (e) {
    r.disconnect();
    const m = (e as Error).message;
    if (/not found/i.test(m)) throw new NotFoundError(`${where}: no such namespace`, "check the zdb config's namespace (`kosmos config get zdb NAME`)", { cause: e });
    if (/denied|protected/i.test(m)) throw new ForbiddenError(`${where}: access denied`, "check the zdb config's password", { cause: e });
    throw toGridError(e);
  }
  return r;
}

// The URL a replica writes beside the blocks it proposes, where the others forward transactions to it.
import { ValidationError } from "../core/index.js";

/** A wildcard bind address reaches this machine only from itself, so it is never advertised. */
function isUnspecified(hostname: string): boolean {
  // URL normalises the spellings: "0", "0.0.0.0" → "0.0.0.0"; "::", "0:0::0" → "[::]".
  return hostname === "0.0.0.0" || hostname === "[::]" || hostname === "";
}

/**
 * The URL to advertise: `advertiseUrl` when given (checked: http(s), a reachable host, no path),
 * otherwise http://HOST:PORT of the listening socket. Throws a ValidationError naming --advertise-url
 * when the result would be a wildcard address.
 */
export function advertisedUrl(o: { host: string; port: number; advertiseUrl?: string }): string {
  if (o.advertiseUrl !== undefined) {
    let u: URL;
    try { u = new URL(o.advertiseUrl); } catch {
      throw new ValidationError(`--advertise-url "${o.advertiseUrl}" is not a URL`, "give it as http://HOST:PORT, the address other replicas reach this one at");
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      throw new ValidationError(`--advertise-url "${o.advertiseUrl}" must be http:// or https://`, "give it as http://HOST:PORT");
    }
    if ((u.pathname !== "/" && u.pathname !== "") || u.search || u.hash || u.username || u.password) {
      throw new ValidationError(`--advertise-url "${o.advertiseUrl}" must have no path, query or credentials`, "give it as http://HOST:PORT");
    }
    if (isUnspecified(u.hostname)) {
      throw new ValidationError(`--advertise-url "${o.advertiseUrl}" names a wildcard address (${u.hostname}), which other replicas cannot reach`,
        "give the address other replicas reach this one at, e.g. --advertise-url http://10.0.0.5:8081");
    }
    return u.origin;
  }
  const shown = o.host.includes(":") && !o.host.startsWith("[") ? `[${o.host}]` : o.host;
  let u: URL;
  try { u = new URL(`http://${shown}:${o.port}`); } catch {
    throw new ValidationError(`--host "${o.host}" cannot be made into a URL to advertise`, "pass --advertise-url http://HOST:PORT");
  }
  if (isUnspecified(u.hostname)) {
    throw new ValidationError(`--host ${o.host} is a wildcard address: other replicas cannot reach this one there`,
      "pass --advertise-url http://HOST:PORT with the address other replicas reach this one at (e.g. http://10.0.0.5:8081)");
  }
  return `http://${shown}:${o.port}`;
}

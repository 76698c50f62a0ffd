// A route: one name a gateway serves and where it goes, made from one gateway workload. The set of
// routes of a node is what the proxy's configuration is generated from.
import { ConflictError, type WorkloadOf } from "../core/index.js";
import { checkBackend, type Backend, type BackendPolicy } from "./backends.js";
import { checkHostname, fqdnOf } from "./hostname.js";

export interface Route {
  /** The workload's id on its node (`${contractId}-${name}`): stable, unique, safe in a config name. */
  id: string;
  fqdn: string;
  backends: Backend[];
  /** Route TLS by SNI to backends that terminate it themselves; else the gateway terminates TLS. */
  tlsPassthrough: boolean;
  /** PEM file (certificate chain + key) for the fqdn, once obtained; without it the name is served over HTTP only. */
  certificate?: string;
}

export type GatewayWorkload = WorkloadOf<"gateway-name-proxy"> | WorkloadOf<"gateway-fqdn-proxy">;

/** The route of a gateway workload on a gateway of `domain`; throws ValidationError for a bad name or backend. */
export function routeOf(id: string, w: GatewayWorkload, domain: string, policy: BackendPolicy): Route {
  const fqdn = w.type === "gateway-name-proxy" ? fqdnOf(w.data.name, domain) : checkHostname(w.data.fqdn, "fqdn");
  // A user's own domain cannot be a name under the gateway's domain: those are the name contracts'.
  if (w.type === "gateway-fqdn-proxy" && (fqdn === domain || fqdn.endsWith(`.${domain}`))) {
    throw new ConflictError(`fqdn ${fqdn} is under the gateway's own domain ${domain}`, "use a gateway-name-proxy for names under the gateway's domain");
  }
  return { id, fqdn, backends: w.data.backends.map((b) => checkBackend(b, policy)), tlsPassthrough: w.data.tlsPassthrough };
}

/** Check that no two routes serve one name (the older route keeps it); returns the route that holds `fqdn`, if any other. */
export function holderOf(routes: Iterable<Route>, fqdn: string, exceptId: string): Route | undefined {
  for (const r of routes) if (r.fqdn === fqdn && r.id !== exceptId) return r;
  return undefined;
}

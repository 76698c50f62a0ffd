// Zero-GW's door: gateway workloads → routes → the configuration of the node's HAProxy. Pure: the
// process that runs it lives in the node (src/node/gateway).
export { checkHostname, fqdnOf } from "./hostname.js";
export { type Backend, type BackendPolicy, type Cidr, checkBackend, parseCidr, inCidr, ipv4ToInt } from "./backends.js";
export { type Route, type GatewayWorkload, routeOf, holderOf } from "./routes.js";
export { type HaproxyOptions, renderHaproxyConfig, renderCrtList, backendName } from "./haproxy.js";

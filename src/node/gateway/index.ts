// The node's gateway: the supervised HAProxy and the routes it serves (config from src/gateway).
export { type GatewayConfig, GatewayService, cleanupGateway } from "./service.js";
export { HaproxyProcess } from "./haproxy-process.js";
export { adminCommand, liveBackends, serverStates } from "./admin.js";
export { type AcmeConfig, obtainCertificate } from "./acme.js";

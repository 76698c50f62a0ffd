// The node's overlay networks (Zero-Net): the system wrappers (wireguard-go and its socket,
// namespaces, bridge, veths, routes) and the manager that puts them together per network workload.
export { NetworkManager, type NetworkSpec, type NetworkRecord, KEEPALIVE_S } from "./manager.js";
export { attach, detach, OVERLAY_MTU, type Attachment } from "./attach.js";
export { networkNames, attachIfName, socketPath, CONTAINER_IF, type NetworkNames } from "./names.js";
export { publicKeyOf } from "./keys.js";
export { cleanupNetworks, type NetworkCleanup } from "./cleanup.js";
export { wgPids } from "./wg.js";

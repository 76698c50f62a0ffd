// Zero-Net on the Kosmos side (pure apart from key generation): subnets per node, peer lists,
// the relay for hidden nodes and the user's access config.
export { generateWgKeyPair, deriveWgKeyPair, type WgKeyPair } from "./keys.js";
export { allocateSubnets, accessSubnet, checkRange, nextAccessAddress, peersFor, relayOf, SUBNET_PREFIX, type AccessPeer, type Member, type Peer } from "./plan.js";
export { accessConfigText, type AccessConfig } from "./access.js";
export { deployMultiNode, isMultiNode, partsOf, listenPorts, type MultiContext, type MultiResult, type PartMeta } from "./deploy.js";
export { networkAccess, type AccessResult } from "./access-peer.js";

// The network provisioner against the shared provisioner contract, as root: a real namespace,
// bridge and wireguard-go per case (the conformance suite runs in the test's own namespace, so the
// listen port is a random high one).
import { seal } from "../../src/core/index.js";
import { createNetworkProvisioner } from "../../src/node/provisioners/network.js";
import { generateWgKeyPair } from "../../src/kosmos/network/keys.js";
import { CONFORMANCE_SEAL_KEYS, runConformance } from "../node/provisioner-conformance.js";

const peer = generateWgKeyPair();

runConformance({
  name: "network",
  make: () => createNetworkProvisioner(),
  workload: () => ({
    name: "net", type: "network", version: 0, description: "",
    data: {
      ipRange: "10.231.0.0/16", subnet: "10.231.1.0/24", wgListenPort: 20000 + Math.floor(Math.random() * 40000),
      wgPrivateKey: seal(generateWgKeyPair().privateKey, CONFORMANCE_SEAL_KEYS.publicKey),
      peers: [{ subnet: "10.231.2.0/24", wgPublicKey: peer.publicKey, allowedIps: ["10.231.2.0/24"], endpoint: "127.0.0.1:9" }],
    },
  }),
  // An update changes the peers (one more node joins): reconfigured in place.
  updated: (w) => ({
    ...w, version: 1,
    data: { ...w.data, peers: [...w.data.peers, { subnet: "10.231.3.0/24", wgPublicKey: generateWgKeyPair().publicKey, allowedIps: ["10.231.3.0/24"] }] },
  }),
  registry: (p) => ({ network: p }),
  skip: { capacity: "a network reserves no capacity units (workloadCapacity is zero), so no network is ever too big for a node" },
});

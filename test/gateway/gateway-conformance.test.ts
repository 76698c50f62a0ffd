// Both gateway provisioners against the shared provisioner contract, as root: a real HAProxy on a
// free loopback port per case, the backend a busybox httpd in a namespace this test makes.
import { after, before } from "node:test";
import { createGatewayNameProvisioner } from "../../src/node/provisioners/gateway-name-proxy.js";
import { createGatewayFqdnProvisioner } from "../../src/node/provisioners/gateway-fqdn-proxy.js";
import { GatewayHost } from "../../src/node/provisioners/gateway-shared.js";
import type { Workload } from "../../src/core/index.js";
import { runConformance } from "../node/provisioner-conformance.js";
import { freePort, tempDir } from "../support.js";
import { backendNs, type BackendNs } from "./backend-ns.js";

let backend: BackendNs;
let ports: [number, number];
const hooks: Array<() => void | Promise<void>> = [];
before(async () => {
  backend = await backendNs({ after: (fn) => hooks.push(fn) }, tempDir({ after: (fn) => hooks.push(fn) }, "gw-conf-www"), "conformance\n");
  ports = [await freePort(), await freePort()];
});
after(async () => { for (const h of hooks.splice(0).reverse()) await h(); });

const config = () => ({ domain: "gw.test", ipv4: "198.51.100.1", bind: "127.0.0.1", httpPort: ports[0], httpsPort: ports[1] });
const network = (): Workload => ({
  name: "net", type: "network", version: 0, description: "",
  data: { ipRange: backend.range, subnet: backend.range.replace(/\.0\.0\/16$/, ".1.0/24"), wgPrivateKey: { sealed: "AA==" }, wgListenPort: 1, peers: [] },
});

runConformance({
  name: "gateway-name-proxy",
  make: () => createGatewayNameProvisioner(new GatewayHost(config())),
  workload: () => ({ name: "gw", type: "gateway-name-proxy", version: 0, description: "", data: { name: "hello", backends: [backend.url], tlsPassthrough: false } }),
  updated: (w) => ({ ...w, version: 1, data: { ...w.data, tlsPassthrough: true } }),
  get siblings() { return [network()]; },
  registry: (p) => ({ "gateway-name-proxy": p }),
  skip: { capacity: "a gateway reserves no capacity units (workloadCapacity is zero)" },
});

runConformance({
  name: "gateway-fqdn-proxy",
  make: () => createGatewayFqdnProvisioner(new GatewayHost(config())),
  workload: () => ({ name: "gw", type: "gateway-fqdn-proxy", version: 0, description: "", data: { fqdn: "shop.example.org", backends: [backend.url], tlsPassthrough: false } }),
  updated: (w) => ({ ...w, version: 1, data: { ...w.data, fqdn: "www.shop.example.org" } }),
  get siblings() { return [network()]; },
  registry: (p) => ({ "gateway-fqdn-proxy": p }),
  skip: { capacity: "a gateway reserves no capacity units (workloadCapacity is zero)" },
});

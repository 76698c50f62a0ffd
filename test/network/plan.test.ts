// Kosmos's side of a network, pure: subnets per node (stable as the network grows), peer lists for
// public and hidden nodes and the user's access, the access config, and the bad ranges refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GridError, allocateHosts as hostAddresses, cidrOverlaps as overlaps, parseCidr } from "../../src/core/index.js";
import { accessConfigText, accessSubnet, allocateSubnets, checkRange, generateWgKeyPair, nextAccessAddress, peersFor, type Member } from "../../src/kosmos/network/index.js";

const invalid = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof GridError && e.code === "invalid" && re.test(e.message));

test("ranges: too small or not a network is refused; overlap is detected", () => {
  invalid(() => checkRange("10.20.0.0/24"), /too small/);
  invalid(() => checkRange("10.20.0.0/23"), /too small/);
  checkRange("10.20.0.0/22");
  invalid(() => checkRange("10.20.1.0/16"), /host bits/);
  assert.ok(overlaps(parseCidr("10.20.0.0/16"), parseCidr("10.20.5.0/24")));
  assert.ok(!overlaps(parseCidr("10.20.0.0/16"), parseCidr("10.21.0.0/16")));
});

test("subnets: a /24 per node, kept when the network grows, the last /24 left for access", () => {
  const a = allocateSubnets("10.20.0.0/16", [7, 3]);
  assert.deepEqual([...a], [[7, "10.20.1.0/24"], [3, "10.20.2.0/24"]]);
  const b = allocateSubnets("10.20.0.0/16", [3, 9, 7], a);
  assert.equal(b.get(7), "10.20.1.0/24");
  assert.equal(b.get(3), "10.20.2.0/24");
  assert.equal(b.get(9), "10.20.3.0/24");
  assert.equal(accessSubnet("10.20.0.0/16"), "10.20.255.0/24");
  // A /22 holds two node subnets (the first /24 reads as the range, the last is the access one).
  assert.equal(allocateSubnets("10.20.0.0/22", [1, 2]).size, 2);
  invalid(() => allocateSubnets("10.20.0.0/22", [1, 2, 3]), /no \/24 left/);
  assert.equal(nextAccessAddress("10.20.0.0/16", ["10.20.255.2"]), "10.20.255.3");
});

test("peers: public nodes mesh; a hidden node goes through the relay; access peers hang off the relay", () => {
  const k = () => generateWgKeyPair().publicKey;
  const p1: Member = { nodeId: 1, subnet: "10.20.1.0/24", publicKey: k(), endpoint: "10.1.0.11:51820" };
  const p2: Member = { nodeId: 2, subnet: "10.20.2.0/24", publicKey: k(), endpoint: "10.1.0.12:51820" };
  const h3: Member = { nodeId: 3, subnet: "10.20.3.0/24", publicKey: k() };
  const all = [p1, p2, h3];
  const access = [{ publicKey: k(), address: "10.20.255.2" }];
  const range = "10.20.0.0/16";
  const at1 = peersFor(p1, all, range, access), at2 = peersFor(p2, all, range, access), at3 = peersFor(h3, all, range, access);
  // The relay (node 1): node 2 with its endpoint, the hidden node without one, the access peer.
  assert.deepEqual(at1.map((p) => [p.wgPublicKey, p.allowedIps, p.endpoint]), [
    [p2.publicKey, ["10.20.2.0/24"], p2.endpoint], [h3.publicKey, ["10.20.3.0/24"], undefined], [access[0].publicKey, ["10.20.255.2/32"], undefined],
  ]);
  // Node 2 reaches the hidden node and the access peer through the relay.
  assert.deepEqual(at2, [{ subnet: p1.subnet, wgPublicKey: p1.publicKey, allowedIps: ["10.20.1.0/24", "10.20.3.0/24", "10.20.255.2/32"], endpoint: p1.endpoint }]);
  // The hidden node: one peer, the relay, with the whole range.
  assert.deepEqual(at3, [{ subnet: p1.subnet, wgPublicKey: p1.publicKey, allowedIps: [range], endpoint: p1.endpoint }]);
  invalid(() => peersFor(h3, [h3, { ...p2, endpoint: undefined }], range), /every node of the network is hidden/);
});

test("the access config is a standard wg-quick file", () => {
  const me = generateWgKeyPair(), relay = generateWgKeyPair();
  const text = accessConfigText({ privateKey: me.privateKey, address: "10.20.255.2", ipRange: "10.20.0.0/16", relay: { publicKey: relay.publicKey, endpoint: "10.1.0.11:51820" } });
  assert.match(text, /^\[Interface\]\nPrivateKey = .{44}\nAddress = 10\.20\.255\.2\/16\n\n\[Peer\]\nPublicKey = .{44}\nEndpoint = 10\.1\.0\.11:51820\nAllowedIPs = 10\.20\.0\.0\/16\nPersistentKeepalive = 25\n$/);
});

test("the deployment file: networks checked before anything is signed", async () => {
  const { parseDeploymentText } = await import("../../src/kosmos/spec/index.js");
  const base = (nets: string, extra = "") => [
    "name: d",
    `networks: ${nets}`,
    "containers:",
    `  - {name: a, flist: "http://hub/x", memory: 64MiB, rootfsSize: 16MiB, network: net${extra}}`,
  ].join("\n");
  const refused = (text: string, re: RegExp) => assert.throws(() => parseDeploymentText(text), (e: unknown) => e instanceof GridError && e.code === "invalid" && re.test(e.message), re.source);
  assert.equal(parseDeploymentText(base("[{name: net, ipRange: 10.20.0.0/16}]")).networks[0].ipRange, "10.20.0.0/16");
  refused(base("[{name: other, ipRange: 10.20.0.0/16}]"), /containers\[0\]\.network: no network named "net" in this file/);
  refused(base("[{name: net, ipRange: 10.20.0.0/24}]"), /networks\[0\]\.ipRange: range 10\.20\.0\.0\/24 is too small/);
  refused(base("[{name: net, ipRange: 10.20.0.0/16}, {name: n2, ipRange: 10.20.128.0/17}]"), /networks\[1\]\.ipRange: 10\.20\.128\.0\/17 overlaps network "net"/);
  refused(base("[{name: net, ipRange: 10.20.0.1/16}]"), /host bits/);
  refused(base("[{name: net, ipRange: 10.20.0.0/16}, {name: a, ipRange: 10.21.0.0/16}]"), /"a" is already the name of/);
  refused(base("[{name: net, ipRange: 10.20.0.0/16}]").replace(", network: net", ", ip: 10.20.1.5"), /an overlay address needs a `network`/);
});

test("container addresses on the Kosmos side: outside the node's subnet or taken is refused", () => {
  assert.deepEqual([...hostAddresses("10.20.2.0/24", [{ name: "a" }, { name: "b", ip: "10.20.2.2" }])], [["b", "10.20.2.2"], ["a", "10.20.2.3"]]);
  invalid(() => hostAddresses("10.20.2.0/24", [{ name: "a", ip: "10.20.1.5" }]), /not a usable address of its node's subnet 10\.20\.2\.0\/24/);
  invalid(() => hostAddresses("10.20.2.0/24", [{ name: "a", ip: "10.20.2.7" }, { name: "b", ip: "10.20.2.7" }]), /taken/);
  invalid(() => hostAddresses("10.20.2.0/24", [{ name: "a", ip: "10.20.2.1" }]), /not a usable address of its node's subnet/); // the gateway
});

test("listen ports: a node keeps its own, new nodes get distinct free ones", async () => {
  const { listenPorts } = await import("../../src/kosmos/network/index.js");
  const part = (nodeId: number, port: number) => ({ nodeId, deployment: { workloads: [{ name: "net", type: "network", data: { wgListenPort: port } }] } }) as never;
  const fresh = listenPorts([], "net", [1, 2, 3]);
  assert.equal(new Set(fresh.values()).size, 3, "distinct: nodes sharing one address do not collide");
  for (const p of fresh.values()) assert.ok(p >= 20000 && p <= 65535);
  const grown = listenPorts([part(1, 30000), part(2, 30001)], "net", [1, 2, 3]);
  assert.deepEqual([...grown], [[1, 30000], [2, 30001], [3, 30002]]);
});

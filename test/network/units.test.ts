// The pure parts of the node's networks: CIDR arithmetic and container address allocation, the
// wireguard-go control protocol's requests and answers, key derivation, and the names' limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { allocateHosts as allocate, parseCidr, cidrWithin as within } from "../../src/core/index.js";
import { parseGet, sameConfig, setRequest } from "../../src/node/network/uapi.js";
import { publicKeyOf } from "../../src/node/network/keys.js";
import { attachIfName, networkNames } from "../../src/node/network/names.js";
import { generateWgKeyPair } from "../../src/kosmos/network/keys.js";
import { GridError } from "../../src/core/index.js";

test("CIDRs: parsed, host bits refused, containment", () => {
  assert.deepEqual(parseCidr("10.20.0.0/16"), { base: (10 << 24 | 20 << 16) >>> 0, prefix: 16 });
  for (const bad of ["10.20.0.1/16", "10.20.0.0/33", "10.300.0.0/16", "10.20.0.0", "x/8"]) {
    assert.throws(() => parseCidr(bad), (e: unknown) => e instanceof GridError && e.code === "invalid", bad);
  }
  assert.ok(within(parseCidr("10.20.3.0/24"), parseCidr("10.20.0.0/16")));
  assert.ok(!within(parseCidr("10.21.3.0/24"), parseCidr("10.20.0.0/16")));
  assert.ok(!within(parseCidr("10.0.0.0/8"), parseCidr("10.20.0.0/16")));
});

test("container addresses: asked ones kept and checked, the rest the lowest free in order", () => {
  const got = allocate("10.20.1.0/24", [{ name: "a" }, { name: "b", ip: "10.20.1.2" }, { name: "c" }]);
  assert.deepEqual([...got], [["b", "10.20.1.2"], ["a", "10.20.1.3"], ["c", "10.20.1.4"]]);
  // Appending a container never moves the earlier ones.
  const more = allocate("10.20.1.0/24", [{ name: "a" }, { name: "b", ip: "10.20.1.2" }, { name: "c" }, { name: "d" }]);
  for (const n of ["a", "b", "c"]) assert.equal(more.get(n), got.get(n));
  const invalid = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof GridError && e.code === "invalid" && re.test(e.message));
  invalid(() => allocate("10.20.1.0/24", [{ name: "x", ip: "10.20.2.5" }]), /not a usable address of its node's subnet/);
  invalid(() => allocate("10.20.1.0/24", [{ name: "x", ip: "10.20.1.1" }]), /not a usable address/); // the gateway
  invalid(() => allocate("10.20.1.0/24", [{ name: "x", ip: "10.20.1.255" }]), /not a usable address/); // broadcast
  invalid(() => allocate("10.20.1.0/24", [{ name: "x", ip: "10.20.1.9" }, { name: "y", ip: "10.20.1.9" }]), /taken/);
  invalid(() => allocate("10.20.1.0/30", [{ name: "x" }]), /too small/);
  invalid(() => allocate("10.20.1.0/29", Array.from({ length: 6 }, (_, i) => ({ name: `c${i}` }))), /no address left/);
  assert.equal(allocate("10.20.1.0/29", Array.from({ length: 5 }, (_, i) => ({ name: `c${i}` }))).get("c4"), "10.20.1.6");
});

test("keys: the public key derived on the node is the one wireguard-tools derives", () => {
  const k = generateWgKeyPair();
  assert.equal(publicKeyOf(k.privateKey), k.publicKey);
  const wg = execFileSync("wg", ["pubkey"], { input: k.privateKey + "\n", encoding: "utf8" }).trim();
  assert.equal(wg, k.publicKey);
  assert.throws(() => publicKeyOf("not-a-key"), (e: unknown) => e instanceof GridError && e.code === "invalid");
});

test("control protocol: the set request carries hex keys and replaces peers; get answers parse back", () => {
  const me = generateWgKeyPair(), peer = generateWgKeyPair();
  const cfg = { privateKey: me.privateKey, listenPort: 51820, peers: [{ publicKey: peer.publicKey, endpoint: "10.1.1.2:51821", allowedIps: ["10.20.2.0/24", "10.20.9.0/24"], keepalive: 25 }] };
  const req = setRequest(cfg);
  assert.ok(req.startsWith("set=1\n") && req.endsWith("\n\n"));
  assert.ok(req.includes(`private_key=${Buffer.from(me.privateKey, "base64").toString("hex")}\n`));
  assert.ok(!req.includes(me.privateKey), "never the base64 form");
  assert.ok(req.includes("replace_peers=true\n") && req.includes("replace_allowed_ips=true\n"));
  assert.equal(req.split("\n").filter((l) => l.startsWith("allowed_ip=")).length, 2);
  // What wireguard-go answers to get=1 has the same fields (and more): it parses back to the same config.
  const answer = req.replace("set=1\n", "").replace("replace_peers=true\n", "").replace("replace_allowed_ips=true\n", "").replace(/\n\n$/, "\n")
    + "last_handshake_time_sec=0\nrx_bytes=0\ntx_bytes=0\nprotocol_version=1\nerrno=0\n\n";
  const got = parseGet(answer);
  assert.equal(got.errno, 0);
  assert.ok(sameConfig(got.config, cfg));
  assert.ok(!sameConfig(got.config, { ...cfg, peers: [] }));
  assert.ok(sameConfig(got.config, { ...cfg, peers: [{ ...cfg.peers[0], allowedIps: ["10.20.9.0/24", "10.20.2.0/24"] }] }), "order does not matter");
});

test("control protocol: an update goes in place (peers removed one by one, key and port only when changed)", () => {
  const me = generateWgKeyPair(), a = generateWgKeyPair(), b = generateWgKeyPair(), c = generateWgKeyPair();
  const hexOf = (k: string) => Buffer.from(k, "base64").toString("hex");
  const current = { privateKey: me.privateKey, listenPort: 51820, peers: [
    { publicKey: a.publicKey, endpoint: "10.1.1.2:51820", allowedIps: ["10.20.2.0/24"], keepalive: 25 },
    { publicKey: b.publicKey, endpoint: "192.168.9.9:40000", allowedIps: ["10.20.3.0/24"], keepalive: 0 }, // learned endpoint (hidden node)
  ] };
  const want = { privateKey: me.privateKey, listenPort: 51820, peers: [
    { publicKey: b.publicKey, allowedIps: ["10.20.3.0/24"], keepalive: 0 },
    { publicKey: c.publicKey, endpoint: "10.1.1.4:51820", allowedIps: ["10.20.4.0/24"], keepalive: 25 },
  ] };
  const req = setRequest(want, current);
  assert.ok(!req.includes("replace_peers") && !req.includes("private_key=") && !req.includes("listen_port="));
  assert.ok(req.includes(`public_key=${hexOf(a.publicKey)}\nremove=true\n`), "the peer that went is removed");
  assert.ok(!req.includes("endpoint=192.168.9.9"), "a learned endpoint is left alone");
  assert.ok(req.includes(`public_key=${hexOf(c.publicKey)}\nendpoint=10.1.1.4:51820\n`));
  // A learned endpoint does not make the configs differ.
  assert.ok(sameConfig({ ...current, peers: [current.peers[1]] }, { ...want, peers: [want.peers[0]] }));
  assert.ok(!sameConfig(current, want));
  assert.ok(setRequest(want, { ...current, listenPort: 1 }).includes("listen_port=51820\n"));
});

test("names: at most 15 characters, different per node folder, contract and workload", () => {
  const a = networkNames("/var/lib/zos-a", 7, "net"), b = networkNames("/var/lib/zos-b", 7, "net"), c = networkNames("/var/lib/zos-a", 8, "net");
  for (const n of [a, b, c]) { assert.ok(n.wg.length <= 15 && n.netns.length <= 15); }
  assert.equal(new Set([a.wg, b.wg, c.wg, networkNames("/var/lib/zos-a", 7, "net2").wg]).size, 4);
  assert.ok(attachIfName("7-web").length <= 15);
});

// The overlay's CIDR arithmetic and container address allocation (src/core/cidr.ts), which Kosmos
// plans with and the node checks with: the same rules on both sides.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  GridError, allocateHosts, cidrContains, cidrOverlaps, cidrSize, cidrWithin, formatCidr, gatewayOf, intToIp, ipToInt, parseCidr,
} from "../../src/core/index.js";

function invalid(f: () => unknown, re: RegExp): void {
  assert.throws(f, (e: unknown) => e instanceof GridError && e.code === "invalid" && re.test(e.message));
}

test("addresses: to and from 32-bit numbers, bad ones refused", () => {
  assert.equal(ipToInt("10.20.1.2"), 0x0a140102);
  assert.equal(ipToInt("255.255.255.255"), 0xffffffff);
  assert.equal(intToIp(0xffffffff), "255.255.255.255");
  assert.equal(intToIp(ipToInt("192.168.0.1")), "192.168.0.1");
  for (const bad of ["10.20.1", "10.20.1.256", "10.20.1.x", "10.20.1.2.3", "", "1e1.0.0.0"]) invalid(() => ipToInt(bad), /is not an IPv4 address/);
});

test("CIDRs: parsed and formatted, host bits and bad prefixes refused", () => {
  assert.deepEqual(parseCidr("10.20.0.0/16"), { base: 0x0a140000, prefix: 16 });
  assert.equal(formatCidr(parseCidr("10.20.3.0/24")), "10.20.3.0/24");
  assert.deepEqual(parseCidr("0.0.0.0/0"), { base: 0, prefix: 0 });
  assert.equal(cidrSize(parseCidr("10.20.0.0/22")), 1024);
  invalid(() => parseCidr("10.20.0.1/16"), /host bits set/);
  assert.throws(() => parseCidr("10.20.0.1/16"), (e: GridError) => e.hint === "the network is 10.20.0.0/16");
  for (const bad of ["10.20.0.0/33", "10.20.0.0", "x/8", "10.20.0.0/-1"]) invalid(() => parseCidr(bad), /not an IPv4 CIDR|not an IPv4 address/);
});

test("containment, nesting and overlap", () => {
  const range = parseCidr("10.20.0.0/16");
  assert.ok(cidrContains(range, ipToInt("10.20.255.255")));
  assert.ok(!cidrContains(range, ipToInt("10.21.0.0")));
  assert.ok(cidrWithin(parseCidr("10.20.3.0/24"), range));
  assert.ok(cidrWithin(range, range));
  assert.ok(!cidrWithin(parseCidr("10.0.0.0/8"), range), "a bigger block is not within");
  assert.ok(!cidrWithin(parseCidr("10.21.3.0/24"), range));
  assert.ok(cidrOverlaps(range, parseCidr("10.20.5.0/24")) && cidrOverlaps(parseCidr("10.20.5.0/24"), range), "symmetric");
  assert.ok(cidrOverlaps(parseCidr("10.0.0.0/8"), range));
  assert.ok(!cidrOverlaps(range, parseCidr("10.21.0.0/16")));
  assert.equal(intToIp(gatewayOf(parseCidr("10.20.7.0/24"))), "10.20.7.1");
});

test("host addresses: asked ones kept and checked, the others lowest free in order", () => {
  const got = allocateHosts("10.20.1.0/24", [{ name: "a" }, { name: "b", ip: "10.20.1.2" }, { name: "c" }]);
  assert.deepEqual([...got], [["b", "10.20.1.2"], ["a", "10.20.1.3"], ["c", "10.20.1.4"]]);
  // An appended container moves nobody.
  const more = allocateHosts("10.20.1.0/24", [{ name: "a" }, { name: "b", ip: "10.20.1.2" }, { name: "c" }, { name: "d" }]);
  assert.deepEqual(["a", "b", "c"].map((n) => more.get(n)), ["10.20.1.3", "10.20.1.2", "10.20.1.4"]);
  assert.equal(more.get("d"), "10.20.1.5");
  invalid(() => allocateHosts("10.20.1.0/24", [{ name: "x", ip: "10.20.2.5" }]), /container x: address 10\.20\.2\.5 is not a usable address of its node's subnet 10\.20\.1\.0\/24/);
  invalid(() => allocateHosts("10.20.1.0/24", [{ name: "x", ip: "10.20.1.1" }]), /not a usable address/); // the gateway
  invalid(() => allocateHosts("10.20.1.0/24", [{ name: "x", ip: "10.20.1.0" }]), /not a usable address/); // the network
  invalid(() => allocateHosts("10.20.1.0/24", [{ name: "x", ip: "10.20.1.255" }]), /not a usable address/); // broadcast
  invalid(() => allocateHosts("10.20.1.0/24", [{ name: "x", ip: "10.20.1.9" }, { name: "y", ip: "10.20.1.9" }]), /container y: .*taken/);
  invalid(() => allocateHosts("10.20.1.0/30", [{ name: "x" }]), /too small/);
  invalid(() => allocateHosts("10.20.1.0/29", Array.from({ length: 6 }, (_, i) => ({ name: `c${i}` }))), /no address left for container c5/);
  assert.equal(allocateHosts("10.20.1.0/29", Array.from({ length: 5 }, (_, i) => ({ name: `c${i}` }))).get("c4"), "10.20.1.6");
});

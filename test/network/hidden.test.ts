// A hidden node and the user's own access, as root, real processes: three zos nodes, the third in
// a namespace behind a NAT of its own (no endpoint to offer). Its container reaches the others'
// (and they reach it) through the relay, the first public node, as the real grid's hidden nodes
// do. A "laptop" namespace on the underlay brings the generated access config up with the real
// `wg-quick` and reaches every container by its overlay address. Peers come from Kosmos's planner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { seal, type Workload } from "../../src/core/index.js";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { accessConfigText, allocateSubnets, generateWgKeyPair, nextAccessAddress, peersFor, type Member } from "../../src/kosmos/network/index.js";
import { wgPids } from "../../src/node/network/index.js";
import { waitFor } from "../support.js";
import { container, containerNetns, createContract, deploymentFor, fetchOver, newUser, ping, run, testGrid, waitAll } from "./grid.js";

const root = process.getuid?.() === 0;
const RANGE = "10.78.0.0/16";

test("a hidden node joins through the relay; the user's wg-quick access reaches every container", { skip: !root && "needs root", timeout: 240_000 }, async (t) => {
  const g = await testGrid(t, 3, { hidden: [3] });
  const user = await newUser(g.client);
  const subnets = allocateSubnets(RANGE, g.nodes.map((n) => n.nodeId));
  const keys = g.nodes.map(() => generateWgKeyPair());
  const members: Member[] = g.nodes.map((n, i) => ({
    nodeId: n.nodeId, subnet: subnets.get(n.nodeId)!, publicKey: keys[i].publicKey, ...(n.index === 3 ? {} : { endpoint: `${n.net.ip}:51820` }),
  }));
  const laptop = generateWgKeyPair();
  const access = [{ publicKey: laptop.publicKey, address: nextAccessAddress(RANGE, []) }];
  const contracts: number[] = [];
  for (const [i, n] of g.nodes.entries()) {
    const net: Workload = {
      name: "net", type: "network", version: 0, description: "",
      data: { ipRange: RANGE, subnet: members[i].subnet, wgListenPort: 51820, wgPrivateKey: seal(keys[i].privateKey, n.sealKey), peers: peersFor(members[i], members, RANGE, access) },
    };
    contracts.push(await createContract(user, deploymentFor(user, n.nodeId, [net, container(`web${n.index}`, g, "net")])));
  }
  const ips: string[] = [];
  for (const [i, c] of contracts.entries()) ips.push((await waitAll(g.client, c, ["net", `web${i + 1}`])).results[`web${i + 1}`].data.overlayIp as string);
  assert.deepEqual(ips, ["10.78.1.2", "10.78.2.2", "10.78.3.2"]);
  const ns = await Promise.all(g.nodes.map((n, i) => containerNetns(n, contracts[i], `web${n.index}`)));

  // The hidden node really is hidden: nothing on the underlay reaches its address.
  assert.equal((await ping(g.nodes[1].net.netns, g.nodes[2].net.ip)).ok, false, "the hidden node's address is not reachable from node 2");

  const reach = async (from: string, to: string, what: string) => {
    await waitFor(`${what}: ping → ${to}`, async () => (await ping(from, to)).ok || undefined, { timeoutMs: 20_000, stepMs: 250 });
    const f = await fetchOver(from, to);
    assert.equal(f.out, EXAMPLE_PAGE, `${what}: TCP → ${to}: ${f.out}`);
  };
  // The hidden node starts the conversation (its keepalive opens the NAT); then both ways, with
  // the non-relay public node too (two hops: node 2 → relay → hidden node).
  await reach(ns[2], ips[0], "hidden → relay");
  await reach(ns[2], ips[1], "hidden → node 2 via the relay");
  await reach(ns[1], ips[2], "node 2 → hidden via the relay");
  await reach(ns[0], ips[2], "relay → hidden");

  // The user's machine: the access config brought up with the real wg-quick in a laptop namespace.
  const lap = g.spareNs(9);
  const iface = `wl${lap.vethHost.slice(-8)}`.slice(0, 15);
  // Runs after the grid's own teardown (hooks run in order): whatever a failed test left of it.
  t.after(async () => {
    for (const p of await wgPids(iface)) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
    rmSync(`/var/run/wireguard/${iface}.sock`, { force: true });
  });
  const relay = members[0];
  const conf = accessConfigText({ privateKey: laptop.privateKey, address: access[0].address, ipRange: RANGE, relay: { publicKey: relay.publicKey, endpoint: relay.endpoint! } });
  writeFileSync(join(g.dir, `${iface}.conf`), conf, { mode: 0o600 });
  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "up", join(g.dir, `${iface}.conf`)], { env: { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" } });
  for (const [i, ip] of ips.entries()) await reach(lap.netns, ip, `laptop → node ${i + 1}'s container`);
  // And a container reaches the laptop (its /32 is routed back through the relay; the laptop runs
  // no server, so ICMP).
  await waitFor("node 2's container → laptop", async () => (await ping(ns[1], access[0].address)).ok || undefined, { timeoutMs: 10_000, stepMs: 250 });
  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "down", join(g.dir, `${iface}.conf`)]);
  assert.deepEqual(await wgPids(iface), [], "wg-quick down stopped the laptop's wireguard-go");
});

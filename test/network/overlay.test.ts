// Zero-Net end to end, as root, real processes: two zos nodes each in its own namespace on a shared
// underlay bridge, one network spanning both (one contract per node, keys sealed to each node).
// Containers reach each other over the overlay (ICMP and TCP, both ways); a second network with
// the very same addresses on node 1 cannot reach the first, and a container without a network has
// no overlay route; kill -9 of zos leaves the overlay up and the new zos adopts it (same
// wireguard-go, same addresses); a peer update reconfigures in place; cancel leaves nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { networkNames, wgPids } from "../../src/node/network/index.js";
import { sh } from "../../src/node/container/sys.js";
import { waitFor } from "../support.js";
import {
  container, containerNetns, createContract, deploymentFor, fetchOver, netNode, networkWorkload, newUser, ping,
  testGrid, updateContract, waitAll,
} from "./grid.js";
import { generateWgKeyPair } from "../../src/kosmos/network/keys.js";

const root = process.getuid?.() === 0;
const RANGE = "10.77.0.0/16";

async function netnsAll(): Promise<string[]> {
  return (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}
async function linksIn(netns: string): Promise<string> { return sh("ip", ["-n", netns, "-o", "link", "show"]).catch(() => ""); }

test("two nodes, one network: overlay both ways, isolation, kill -9 adoption, peer update, cancel leaves nothing", { skip: !root && "needs root", timeout: 240_000 }, async (t) => {
  const g = await testGrid(t, 2);
  const [n1, n2] = g.nodes;
  const user = await newUser(g.client);
  const a1 = netNode(n1, "10.77.1.0/24"), a2 = netNode(n2, "10.77.2.0/24");
  const mesh = [a1, a2];
  const c1 = await createContract(user, deploymentFor(user, n1.nodeId, [networkWorkload("net", RANGE, a1, mesh), container("web1", g, "net"), container("plain", g)]));
  const c2 = await createContract(user, deploymentFor(user, n2.nodeId, [networkWorkload("net", RANGE, a2, mesh), container("web2", g, "net", "10.77.2.20")]));
  // A second network (another user) on node 1 with the very same range and subnet as the first.
  const other = await newUser(g.client);
  const b1 = netNode(n1, "10.77.1.0/24", 51830);
  const c3 = await createContract(other, deploymentFor(other, n1.nodeId, [networkWorkload("net", RANGE, b1, [b1]), container("intruder", g, "net")]));

  const r1 = await waitAll(g.client, c1, ["net", "web1", "plain"]);
  const r2 = await waitAll(g.client, c2, ["net", "web2"]);
  const r3 = await waitAll(g.client, c3, ["net", "intruder"]);
  assert.equal(r1.results.net.data.wgPublicKey, a1.keys.publicKey, "the node derived the public key of the sealed private key");
  assert.equal(r1.results.web1.data.overlayIp, "10.77.1.2", "allocated: the subnet's first host after the gateway");
  assert.equal(r2.results.web2.data.overlayIp, "10.77.2.20", "the address it asked for");
  assert.equal(r3.results.intruder.data.overlayIp, "10.77.1.2", "the same address, in another network");
  // The private key never shows in clear on the ledger or in the nodes' logs.
  const onLedger = JSON.stringify(await g.client.contract(c1)) + JSON.stringify(await g.client.contract(c2));
  for (const k of [a1.keys.privateKey, a2.keys.privateKey]) {
    assert.ok(!onLedger.includes(k));
    for (const n of g.nodes) assert.ok(!n.stderr().includes(k) && !n.stderr().includes(Buffer.from(k, "base64").toString("hex")));
  }

  const ns1 = await containerNetns(n1, c1, "web1"), ns2 = await containerNetns(n2, c2, "web2");
  const nsPlain = await containerNetns(n1, c1, "plain"), nsIntruder = await containerNetns(n1, c3, "intruder");
  // Both ways, ICMP and TCP (the containers' own httpd), across the two nodes' wireguard-go.
  const both = async (what: string) => {
    for (const [from, to] of [[ns1, "10.77.2.20"], [ns2, "10.77.1.2"]]) {
      const p = await waitFor(`${what}: ping ${from} → ${to}`, async () => { const r = await ping(from, to); return r.ok ? r : undefined; }, { timeoutMs: 15_000, stepMs: 200 });
      assert.match(p.out, /1 packets received/);
      const f = await fetchOver(from, to);
      assert.equal(f.out, EXAMPLE_PAGE, `${what}: TCP ${from} → ${to}: ${f.out}`);
    }
  };
  await both("first deploy");

  // Isolation: the other network has the same addresses but none of the peers.
  assert.equal((await ping(nsIntruder, "10.77.2.20")).ok, false, "a second network cannot reach the first");
  assert.equal((await fetchOver(nsIntruder, "10.77.2.20")).ok, false);
  assert.doesNotMatch(await sh("ip", ["-n", nsPlain, "route", "show"]), /10\.77\./, "a container without a network has no overlay route");
  assert.equal((await ping(nsPlain, "10.77.2.20")).ok, false);
  // The node's own services are not reachable from the overlay: whatever arrives over WireGuard is
  // in the network's namespace, which has no route to the node's underlay.
  const netOf = (n: typeof n1, c: number) => networkNames(n.dir, c, "net");
  assert.doesNotMatch(await sh("ip", ["-n", netOf(n1, c1).netns, "route", "show"]), new RegExp(n1.net.ip.replace(/\.\d+$/, "").replace(/\./g, "\\.")), "no route to the underlay inside the network");
  assert.equal((await ping(netOf(n1, c1).netns, n1.net.ip)).ok, false, "the node's underlay address is unreachable from the overlay");

  // kill -9 of node 1's zos: the overlay stays up meanwhile; the new zos adopts the same process.
  const wg1 = netOf(n1, c1).wg;
  const pidsBefore = await wgPids(wg1);
  assert.equal(pidsBefore.length, 1);
  await n1.kill("SIGKILL");
  assert.equal((await ping(ns2, "10.77.1.2")).ok, true, "the overlay works while zos is down");
  const n1b = await g.restart(n1);
  await waitFor("node 1 re-checked its workloads", async () => /adopted running container|workload provisioned|"web1"/.test(n1b.stderr()) || undefined, { timeoutMs: 20_000 });
  const again = await waitAll(g.client, c1, ["net", "web1"]);
  assert.equal(again.results.web1.data.overlayIp, "10.77.1.2");
  assert.deepEqual(await wgPids(wg1), pidsBefore, "wireguard-go adopted, not restarted");
  await both("after kill -9");

  // wireguard-go killed behind the node's back: the periodic check brings it back with key and peers.
  for (const p of await wgPids(netOf(n2, c2).wg)) process.kill(p, "SIGKILL");
  await waitFor("node 2 restarted its wireguard-go", async () => (await wgPids(netOf(n2, c2).wg)).length === 1 || undefined, { timeoutMs: 45_000, stepMs: 250 });
  await both("after wireguard-go was killed");

  // A peer update (a third, not yet existing node joins on node 2's side): reconfigured in place,
  // the same wireguard-go keeps serving and the existing peers keep working.
  const ghost = { subnet: "10.77.3.0/24", wgPublicKey: generateWgKeyPair().publicKey, allowedIps: ["10.77.3.0/24"], endpoint: "10.0.0.9:51820" };
  const w2 = networkWorkload("net", RANGE, a2, mesh, 1);
  if (w2.type !== "network") throw new Error("unreachable");
  w2.data.peers.push(ghost);
  const pids2 = await wgPids(netOf(n2, c2).wg);
  await updateContract(user, c2, deploymentFor(user, n2.nodeId, [w2, container("web2", g, "net", "10.77.2.20")], 1));
  await waitFor("the route to the new peer", async () => /10\.77\.3\.0\/24/.test(await sh("ip", ["-n", netOf(n2, c2).netns, "route", "show"])) || undefined, { timeoutMs: 20_000 });
  assert.deepEqual(await wgPids(netOf(n2, c2).wg), pids2, "reconfigured over the socket, not restarted");
  await both("after a peer update");

  // Cancel everything: no namespace, interface or wireguard-go of these networks is left.
  const names = [netOf(n1, c1), netOf(n2, c2), networkNames(n1.dir, c3, "net")];
  const containerNs = [ns1, ns2, nsPlain, nsIntruder];
  await user.signer.send("contract.cancel", { contractId: c1 });
  await user.signer.send("contract.cancel", { contractId: c2 });
  await other.signer.send("contract.cancel", { contractId: c3 });
  await waitAll(g.client, c1, ["net", "web1", "plain"], "deleted");
  await waitAll(g.client, c2, ["net", "web2"], "deleted");
  await waitAll(g.client, c3, ["net", "intruder"], "deleted");
  const left = await netnsAll();
  for (const n of names) {
    assert.ok(!left.includes(n.netns), `${n.netns} removed`);
    assert.deepEqual(await wgPids(n.wg), [], `no wireguard-go for ${n.wg}`);
    for (const node of g.nodes) assert.doesNotMatch(await linksIn(node.net.netns), new RegExp(n.wg));
  }
  for (const ns of containerNs) assert.ok(!left.includes(ns), `container namespace ${ns} removed`);
  assert.deepEqual((await readdir("/var/run/wireguard").catch(() => [] as string[])).filter((f) => names.some((n) => f.startsWith(n.wg))), []);
});

// Kosmos's side of Zero-Net end to end, as root, real processes: a deployment file with a network
// and containers on two (then three, then two) nodes becomes a contract per node, shown under one
// name; the containers reach each other over the overlay; `networkAccess` (what `kosmos network
// access` runs) adds the user's machine, whose config brought up with wg-quick reaches them;
// a container added on a third node updates the other nodes' peers, removing it cancels that
// node's part and its peer goes everywhere; cancel removes every part.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "../../src/core/index.js";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { Kosmos, parseDeploymentText } from "../../src/kosmos/index.js";
import { networkAccess, partsOf } from "../../src/kosmos/network/index.js";
import { wgPids } from "../../src/node/network/index.js";
import { waitFor } from "../support.js";
import { containerNetns, fetchOver, ping, run, testGrid } from "./grid.js";

const root = process.getuid?.() === 0;

test("kosmos: one file, a contract per node, overlay, access, a node added then removed, cancel", { skip: !root && "needs root", timeout: 300_000 }, async (t) => {
  const g = await testGrid(t, 3);
  const [n1, n2, n3] = g.nodes;
  const k = new Kosmos({ ledgerUrl: g.ledger.url, keys: generateKeyPair(), client: g.client });
  await k.faucet(1_000_000_000);
  const twinId = await k.twinId();
  const file = (extra: string) => parseDeploymentText([
    "name: duo",
    "networks: [{name: net, ipRange: 10.80.0.0/16}]",
    "containers:",
    `  - {name: a, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n1.nodeId}}`,
    `  - {name: b, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n2.nodeId}, ip: 10.80.2.9}`,
    extra,
  ].join("\n"));

  const t0 = performance.now();
  const r = await k.deploy(file(""), { timeoutMs: 90_000 });
  assert.equal(r.status, "created");
  assert.deepEqual(r.parts!.map((p) => p.nodeId), [n1.nodeId, n2.nodeId], "a contract per node");
  const ipOf = (name: string) => r.workloads.find((w) => w.name === name)!.data.overlayIp;
  assert.equal(ipOf("a"), "10.80.1.2");
  assert.equal(ipOf("b"), "10.80.2.9");
  const [ca, cb] = r.parts!.map((p) => p.contractId);
  const nsA = await containerNetns(n1, ca, "a"), nsB = await containerNetns(n2, cb, "b");
  await waitFor("a → b over the overlay", async () => (await ping(nsA, "10.80.2.9")).ok || undefined, { timeoutMs: 15_000, stepMs: 100 });
  const firstPacketMs = Math.round(performance.now() - t0);
  t.diagnostic(`kosmos deploy (2 nodes) → first packet a → b: ${firstPacketMs} ms`);
  assert.equal((await fetchOver(nsB, "10.80.1.2")).out, EXAMPLE_PAGE, "b → a over TCP");
  assert.equal((await k.deploy(file(""))).status, "unchanged", "deploying the same file again changes nothing");
  const shown = await k.get("duo");
  assert.deepEqual(shown.parts?.map((p) => p.contractId), [ca, cb], "show: one deployment, its parts");
  assert.deepEqual(shown.workloads.map((w) => w.name).sort(), ["a", "b", "net", "net"]);
  assert.deepEqual((await k.list()).filter((d) => d.name === "duo").length, 2, "ls: a row per node under the one name");

  // The user's machine joins: a peer on the relay, routed by the others.
  const acc = await networkAccess({ client: g.client, signer: g.client.signer(k.keys), keys: k.keys }, twinId, "duo");
  assert.equal(acc.added, true);
  assert.equal(acc.relay.nodeId, n1.nodeId);
  assert.doesNotMatch(JSON.stringify(await partsOf(g.client, twinId, "duo")), new RegExp(acc.config.match(/PrivateKey = (.*)/)![1].replace(/[+/]/g, "\\$&")), "the access private key is nowhere on the ledger");
  const again = await networkAccess({ client: g.client, signer: g.client.signer(k.keys), keys: k.keys }, twinId, "duo");
  assert.deepEqual([again.added, again.config], [false, acc.config], "asking again prints the same config, changes nothing");
  const lap = g.spareNs(9);
  const iface = `wk${g.net.tag}`;
  const conf = join(g.dir, `${iface}.conf`);
  t.after(async () => { for (const p of await wgPids(iface)) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } } rmSync(`/var/run/wireguard/${iface}.sock`, { force: true }); });
  writeFileSync(conf, acc.config, { mode: 0o600 });
  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "up", conf], { env: { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" } });
  for (const ip of ["10.80.1.2", "10.80.2.9"]) {
    await waitFor(`laptop → ${ip}`, async () => (await ping(lap.netns, ip)).ok || undefined, { timeoutMs: 15_000, stepMs: 200 });
    assert.equal((await fetchOver(lap.netns, ip)).out, EXAMPLE_PAGE);
  }

  // A container on a third node: node 3 gets a part; nodes 1 and 2 get node 3 as a peer.
  const third = `  - {name: c, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n3.nodeId}}`;
  const r3 = await k.deploy(file(third), { timeoutMs: 90_000 });
  assert.equal(r3.status, "updated");
  assert.deepEqual(r3.parts!.map((p) => p.nodeId), [n1.nodeId, n2.nodeId, n3.nodeId]);
  const nsC = await containerNetns(n3, r3.parts![2].contractId, "c");
  await waitFor("c → b", async () => (await ping(nsC, "10.80.2.9")).ok || undefined, { timeoutMs: 15_000, stepMs: 200 });
  await waitFor("a → c", async () => (await ping(nsA, "10.80.3.2")).ok || undefined, { timeoutMs: 15_000, stepMs: 200 });
  await waitFor("laptop → c (through the relay)", async () => (await ping(lap.netns, "10.80.3.2")).ok || undefined, { timeoutMs: 15_000, stepMs: 200 });
  const peersOn = async (contractId: number) => {
    const w = (await g.client.contract(contractId)).deployment.workloads.find((x) => x.name === "net");
    return w?.type === "network" ? w.data.peers.map((p) => p.subnet).sort() : [];
  };
  assert.ok((await peersOn(cb)).includes("10.80.1.0/24"));
  // Node 2 reaches node 3 directly (both public), and node 1 (the relay) too.
  assert.deepEqual(await peersOn(cb), ["10.80.1.0/24", "10.80.3.0/24"]);

  // Removed again: node 3's part is cancelled, its peer leaves nodes 1 and 2.
  const r2 = await k.deploy(file(""), { timeoutMs: 90_000 });
  assert.deepEqual(r2.parts!.map((p) => p.nodeId), [n1.nodeId, n2.nodeId]);
  assert.equal((await g.client.contract(r3.parts![2].contractId)).state, "deleted");
  assert.deepEqual(await peersOn(cb), ["10.80.1.0/24"]);
  assert.equal((await ping(lap.netns, "10.80.2.9")).ok, true, "the access peer survived the redeploys");

  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "down", conf]);
  await k.cancel("duo");
  for (const c of [ca, cb]) await waitFor(`contract ${c} deleted with its results`, async () => {
    const x = await g.client.contract(c);
    return x.state === "deleted" && Object.values(x.results).every((w) => w.state === "deleted") || undefined;
  }, { timeoutMs: 30_000, stepMs: 200 });
  assert.deepEqual(await partsOf(g.client, twinId, "duo"), []);
});

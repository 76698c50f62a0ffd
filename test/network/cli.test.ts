// The kosmos command line with a network, as root, real processes (two zos nodes in their own
// namespaces): a file naming a network it does not declare exits 2 before anything is signed;
// `kosmos deploy FILE` puts one container on each node; `kosmos show --json` is one deployment
// with its two parts; `kosmos network access` prints a wg-quick config that reaches both
// containers from a laptop namespace; `kosmos cancel` removes both parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { wgPids } from "../../src/node/network/index.js";
import { runBin } from "../kosmos/helpers.js";
import { waitFor } from "../support.js";
import { fetchOver, ping, run, testGrid } from "./grid.js";

const root = process.getuid?.() === 0;

test("kosmos CLI: deploy a two-node network, show, network access, cancel", { skip: !root && "needs root", timeout: 240_000 }, async (t) => {
  const g = await testGrid(t, 2);
  const [n1, n2] = g.nodes;
  const user = { KOSMOS_HOME: join(g.dir, "user"), KOSMOS_PASSPHRASE: "pass", KOSMOS_LEDGER: g.ledger.url };
  assert.equal((await runBin("kosmos", ["identity", "new"], user)).code, 0);
  assert.equal((await runBin("kosmos", ["wallet", "faucet", "1000000000"], user)).code, 0);
  const file = (network: string) => [
    "name: web2",
    "networks: [{name: net, ipRange: 10.82.0.0/16}]",
    "containers:",
    `  - {name: front, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: ${network}, node: ${n1.nodeId}}`,
    `  - {name: back, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n2.nodeId}}`,
  ].join("\n");
  const path = join(g.dir, "web2.yaml");

  writeFileSync(path, file("nett"));
  const bad = await runBin("kosmos", ["deploy", path, "--yes"], user);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /containers\[0\]\.network: no network named "nett" in this file/);
  assert.equal((await runBin("kosmos", ["ls", "--json"], user)).json().length, 0, "nothing was signed");

  writeFileSync(path, file("net"));
  const d = await runBin("kosmos", ["deploy", path, "--yes", "--json"], user, undefined, 120_000);
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual(d.json().parts.map((p: { nodeId: number }) => p.nodeId), [n1.nodeId, n2.nodeId]);
  const shown = (await runBin("kosmos", ["show", "web2", "--json"], user)).json();
  assert.equal(shown.parts.length, 2);
  const ips = Object.fromEntries(shown.workloads.filter((w: { type: string }) => w.type === "container").map((w: { name: string; data: { overlayIp: string } }) => [w.name, w.data.overlayIp]));
  assert.deepEqual(ips, { front: "10.82.1.2", back: "10.82.2.2" });

  const acc = await runBin("kosmos", ["network", "access", "web2"], user, undefined, 120_000);
  assert.equal(acc.code, 0, acc.stderr);
  assert.match(acc.stdout, /^\[Interface\]\nPrivateKey = /);
  const lap = g.spareNs(9);
  const iface = `wc${g.net.tag}`;
  t.after(async () => { for (const p of await wgPids(iface)) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } } rmSync(`/var/run/wireguard/${iface}.sock`, { force: true }); });
  const conf = join(g.dir, `${iface}.conf`);
  writeFileSync(conf, acc.stdout, { mode: 0o600 });
  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "up", conf], { env: { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: "wireguard-go", WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" } });
  for (const ip of Object.values(ips) as string[]) {
    await waitFor(`laptop → ${ip}`, async () => (await ping(lap.netns, ip)).ok || undefined, { timeoutMs: 15_000, stepMs: 200 });
    assert.equal((await fetchOver(lap.netns, ip)).out, EXAMPLE_PAGE);
  }
  await run("ip", ["netns", "exec", lap.netns, "wg-quick", "down", conf]);

  const c = await runBin("kosmos", ["cancel", "web2"], user);
  assert.equal(c.code, 0, c.stderr);
  assert.equal((await runBin("kosmos", ["ls", "--json"], user)).json().length, 0, "every part cancelled");
});

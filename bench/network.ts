// Zero-Net figures, each beside its anchor measured in the same run (run as root):
//   node dist/bench/network.js [--json] [--seconds 5]
// Two zos nodes in their own namespaces on one underlay bridge, one network, a container on each:
//  - TCP throughput (iperf3) container → container over the overlay, against wireguard-go alone
//    between the same two node namespaces (the floor of this design: same userspace WireGuard,
//    no bridge, no veth, no second namespace) and against the plain veth + bridge underlay path;
//  - ping RTT the same three ways;
//  - time from `kosmos deploy` of the file (two contracts) to the first packet between the containers.
// The containers' side of each measurement runs in the container's own network namespace with the
// host's iperf3 and busybox (the packets take exactly the container's path).
import { spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair } from "../src/core/index.js";
import { Kosmos, parseDeploymentText } from "../src/kosmos/index.js";
import { generateWgKeyPair } from "../src/kosmos/network/index.js";
import { wgPids } from "../src/node/network/index.js";
import type { AfterHooks } from "../test/support.js";
import { containerNetns, inNs, ping, run, testGrid, waitAll } from "../test/network/grid.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const seconds = Number(args[args.indexOf("--seconds") + 1]) || 5;
const say = (s: string) => { if (!json) console.log(s); };

const hooks: Array<() => void | Promise<void>> = [];
const t: AfterHooks = { after: (fn) => { hooks.push(fn); } };

/** iperf3 server in `serverNs` on `ip`, client from `clientNs`: bits per second received. A server
 *  that is not listening after a while is replaced by one on another port (seen once under load). */
async function iperf(serverNs: string, clientNs: string, ip: string): Promise<number> {
  let last = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = String(5201 + Math.floor(Math.random() * 1000));
    const srv = spawn("ip", ["netns", "exec", serverNs, "iperf3", "-s", "-B", ip, "-p", port], { stdio: ["ignore", "ignore", "pipe"] });
    let srvErr = "";
    srv.stderr!.on("data", (d: Buffer) => { srvErr += d.toString(); });
    try {
      const until = Date.now() + 8000;
      while (Date.now() < until) {
        const r = await inNs(clientNs, ["iperf3", "-c", ip, "-p", port, "-t", String(seconds), "-J"], (seconds + 10) * 1000);
        const j = (() => { try { return JSON.parse(r.out) as { end?: { sum_received?: { bits_per_second: number } }; error?: string }; } catch { return null; } })();
        if (r.ok && j?.end?.sum_received) return j.end.sum_received.bits_per_second;
        last = `${j?.error ?? r.out} (server: ${srvErr.trim() || "no message"})`;
        await new Promise((res) => setTimeout(res, 100)); // the server is not listening yet
      }
    } finally { srv.kill("SIGKILL"); }
  }
  throw new Error(`iperf3 ${clientNs} → ${ip}: ${last}`);
}

async function rtt(fromNs: string, to: string): Promise<number> {
  const r = await inNs(fromNs, ["busybox", "ping", "-c", "20", "-i", "0.1", to], 30_000);
  const m = /min\/avg\/max = [\d.]+\/([\d.]+)\//.exec(r.out);
  if (!m) throw new Error(`ping ${to}: ${r.out}`);
  return Number(m[1]);
}

const results: Record<string, number> = {};
try {
  const g = await testGrid(t, 2);
  const [n1, n2] = g.nodes;
  const RANGE = "10.79.0.0/16";

  // `kosmos deploy` (the SDK's, as the CLI runs it) → first packet: the file submitted as two
  // contracts, then the first ping between the containers that answers.
  const k = new Kosmos({ ledgerUrl: g.ledger.url, keys: generateKeyPair(), client: g.client });
  await k.faucet(1_000_000_000);
  const spec = parseDeploymentText([
    "name: bench",
    `networks: [{name: net, ipRange: ${RANGE}}]`,
    "containers:",
    `  - {name: c1, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n1.nodeId}}`,
    `  - {name: c2, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n2.nodeId}}`,
  ].join("\n"));
  const t0 = performance.now();
  const r = await k.deploy(spec, { wait: false });
  const [c1, c2] = r.parts!.map((p) => p.contractId);
  let ns1 = "";
  for (;;) {
    ns1 ||= await containerNetns(n1, c1, "c1").catch(() => "");
    if (ns1 && (await inNs(ns1, ["busybox", "ping", "-c", "1", "-W", "1", "10.79.2.2"])).ok) break;
    if (performance.now() - t0 > 60_000) throw new Error("no first packet in 60 s");
    await new Promise((res) => setTimeout(res, 20));
  }
  results.deployToFirstPacketMs = Math.round(performance.now() - t0);
  await waitAll(g.client, c1, ["net", "c1"]);
  await waitAll(g.client, c2, ["net", "c2"]);
  const ns2 = await containerNetns(n2, c2, "c2");

  // Bare wireguard-go between the two node namespaces (its interfaces stay there).
  const bare = [{ node: n1, ip: "10.98.0.1", keys: generateWgKeyPair(), port: 51900 }, { node: n2, ip: "10.98.0.2", keys: generateWgKeyPair(), port: 51900 }];
  const ifn = (i: number) => `wb${g.net.tag}${i}`;
  hooks.unshift(async () => {
    for (const i of [0, 1]) {
      for (const p of await wgPids(ifn(i))) process.kill(p, "SIGKILL");
      rmSync(`/var/run/wireguard/${ifn(i)}.sock`, { force: true }); // a killed wireguard-go leaves it
    }
  });
  for (const [i, b] of bare.entries()) {
    const other = bare[1 - i];
    await run("ip", ["netns", "exec", b.node.net.netns, "wireguard-go", ifn(i)], { env: { ...process.env, WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" } });
    const keyFile = join(g.dir, `bare${i}.key`);
    writeFileSync(keyFile, b.keys.privateKey, { mode: 0o600 });
    await run("ip", ["netns", "exec", b.node.net.netns, "wg", "set", ifn(i), "private-key", keyFile, "listen-port", String(b.port),
      "peer", other.keys.publicKey, "endpoint", `${other.node.net.ip}:${other.port}`, "allowed-ips", `${other.ip}/32`]);
    await run("ip", ["-n", b.node.net.netns, "addr", "add", `${b.ip}/24`, "dev", ifn(i)]);
    await run("ip", ["-n", b.node.net.netns, "link", "set", ifn(i), "up"]);
  }

  await ping(n1.net.netns, "10.98.0.2");
  // Alternated rounds, medians: the machine is shared, and a neighbour's burst should not land on
  // one path only.
  const ROUNDS = Number(args[args.indexOf("--rounds") + 1]) || 3;
  say(`TCP throughput, ${ROUNDS} alternated rounds of ${seconds} s (iperf3), medians:`);
  const runs: Record<"overlay" | "bare" | "veth", number[]> = { overlay: [], bare: [], veth: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.overlay.push(await iperf(ns2, ns1, "10.79.2.2"));
    runs.bare.push(await iperf(n2.net.netns, n1.net.netns, "10.98.0.2"));
    runs.veth.push(await iperf(n2.net.netns, n1.net.netns, n2.net.ip));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  results.overlayBps = median(runs.overlay);
  results.bareWgBps = median(runs.bare);
  results.vethBps = median(runs.veth);
  const gbit = (b: number) => `${(b / 1e9).toFixed(2)} Gbit/s`;
  say(`  overlay (container → container): ${gbit(results.overlayBps)}  [${runs.overlay.map(gbit).join(", ")}]`);
  say(`  bare wireguard-go (node → node): ${gbit(results.bareWgBps)}  [${runs.bare.map(gbit).join(", ")}]  → overlay/bare = ${(results.overlayBps / results.bareWgBps).toFixed(2)} (bar ≥ 0.9)`);
  say(`  plain veth + bridge (node → node): ${gbit(results.vethBps)}  → overlay/veth = ${(results.overlayBps / results.vethBps).toFixed(3)}`);
  results.overlayOverBare = results.overlayBps / results.bareWgBps;
  results.overlayOverVeth = results.overlayBps / results.vethBps;

  results.overlayRttMs = await rtt(ns1, "10.79.2.2");
  results.bareWgRttMs = await rtt(n1.net.netns, "10.98.0.2");
  results.vethRttMs = await rtt(n1.net.netns, n2.net.ip);
  say("ping RTT (avg of 20):");
  say(`  overlay ${results.overlayRttMs} ms, bare wireguard-go ${results.bareWgRttMs} ms, veth ${results.vethRttMs} ms`);
  say(`kosmos deploy (a file, two nodes) → first packet between the containers: ${results.deployToFirstPacketMs} ms (bar < 2000)`);
  if (json) console.log(JSON.stringify(results));
} finally {
  for (const h of hooks) await h();
}

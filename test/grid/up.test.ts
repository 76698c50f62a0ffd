// The local grid end to end, real processes: `grid up --json --nodes 2` → the example's 0-db answers
// redis-cli with its password (and refuses a wrong one), its web container (node 1) serves its page
// to this host, its probe container (node 2) fetched that page over the private network (the web's
// own log, read back from its 0-db, shows the probe's overlay address asking; the probe's log, shipped
// from node 2 into a 0-db on node 1, says it fetched) → kosmos ls/show list
// it → down/up comes back (page served again) → cancel → gone → `grid down` leaves no process,
// container, mount, namespace, link or WireGuard socket.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, waitFor } from "../kosmos/helpers.js";
import { LedgerClient } from "../../src/ledger/client/index.js";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { networkNames, socketPath } from "../../src/node/network/index.js";
import { cgroupsOf, containerState, fetchPage } from "./helpers.js";

const root = process.getuid?.() === 0;

function redis(host: string, port: number, ...cmds: string[][]): string {
  // One redis-cli session: SELECT then the commands, each on its own line.
  const input = cmds.map((c) => c.join(" ")).join("\n") + "\n";
  const r = spawnSync("redis-cli", ["-h", host, "-p", String(port)], { input, encoding: "utf8", timeout: 10_000 });
  return (r.stdout ?? "") + (r.stderr ?? "");
}

function leftovers(dir: string, tag: string): { pids: string; netns: string; links: string } {
  const pg = spawnSync("pgrep", ["-f", dir], { encoding: "utf8" });
  const pids = (pg.stdout ?? "").split("\n").filter((p) => p && Number(p) !== process.pid).join(" ");
  const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n").filter((l) => l.includes(tag)).join(" ");
  const links = execFileSync("ip", ["-o", "link"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n").filter((l) => l.includes(tag)).join(" ");
  return { pids, netns, links };
}

test("grid up → 0-db works with its password, the web page is served → kosmos ls/show → down/up comes back → cancel → down leaves nothing", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "grid-e2e-"));
  const data = join(dir, "g");
  const password = "e2e-" + Math.random().toString(36).slice(2);
  const env = { HELLO_ZDB_PASSWORD: password };
  t.after(async () => {
    await runBin("grid", ["down", "--data", data], {}, undefined, 60_000);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = await runBin("grid", ["up", "--json", "--nodes", "2", "--data", data], env, undefined, 120_000);
  assert.equal(up.code, 0, up.stderr);
  const r = up.json();
  assert.equal(r.nodes.length, 2);
  assert.equal(new Set(r.nodes.map((n: { underlay: string }) => n.underlay)).size, 2, "each node has its own address");
  if (root) for (const n of r.nodes) assert.match(n.netns, /^grid-[0-9a-f]{6}-n\d$/);
  assert.match(r.ledger, /^http:\/\//);
  assert.equal(r.deployment.name, "hello");
  const zdb = r.deployment.workloads.find((w: { type: string }) => w.type === "zdb");
  assert.equal(zdb.state, "ok");
  const { namespace, ips, port } = zdb.data as { namespace: string; ips: string[]; port: number };
  assert.ok(r.nodes.some((n: { underlay: string }) => n.underlay === ips[0]), "the 0-db is at one of the nodes' addresses");
  assert.match(up.stderr, /starting the ledger/, "progress on stderr");
  assert.equal(statSync(join(data, "user", ".passphrase")).mode & 0o777, 0o600);

  // The web container: its IP and URL, and its page fetched from this host.
  type C = { name: string; node: number; ip: string; overlayIp: string | null; url: string | null };
  const containers = r.deployment.containers as C[];
  assert.deepEqual(containers.map((c) => c.name).sort(), ["probe", "web"]);
  const web = containers.find((c) => c.name === "web") as C & { url: string };
  const probe = containers.find((c) => c.name === "probe")!;
  assert.match(web.ip, /^100\.\d+\.\d+\.\d+$/);
  assert.equal(web.url, `http://${web.ip}/`);
  assert.equal(r.deployment.workloads.find((w: { name: string }) => w.name === "web").state, "ok");
  assert.match(r.hub, /^http:\/\//);
  assert.equal(await fetchPage(web.url), EXAMPLE_PAGE);

  // The two-node private network: web on node 1, the probe on node 2, each with an address of its
  // node's /24, and the probe fetched web's page over it (what grid up read back from the probe).
  assert.deepEqual([web.node, probe.node], [r.nodes[0].id, r.nodes[1].id]);
  assert.equal(web.overlayIp, "10.20.1.10");
  assert.match(probe.overlayIp ?? "", /^10\.20\.2\.\d+$/);
  assert.deepEqual(r.deployment.overlay, { probe: "probe", probeNode: probe.node, target: "web", targetNode: web.node, url: "http://10.20.1.10/", status: 200, samePage: true });
  assert.equal(await fetchPage(`http://${probe.ip}/fetched.html`), EXAMPLE_PAGE, "the probe serves the page it fetched");
  assert.match(up.stderr, /probe \(node \d+\) fetched http:\/\/10\.20\.1\.10\/ from web \(node \d+\) over the network: 200/);
  const firstNode = r.nodes.find((n: { underlay: string }) => n.underlay === ips[0]);
  const nodeData = join(data, "nodes", `n${r.nodes.indexOf(firstNode) + 1}`);
  const before = containerState(data, nodeData, firstNode.netns);
  assert.equal(before.runc.length, 1, "one runc container");
  assert.equal(before.pids.length, 1, "one httpd process in a root under the grid");
  assert.ok(cgroupsOf(before.runc).length >= 1, "its cgroups");
  assert.ok(before.mounts.some((m) => m.endsWith("/rootfs")), "its overlay root is mounted (visible from the host)");
  assert.ok(before.netns.length >= 1, "its network namespace is visible from the host");

  // The 0-db answers with the right password, refuses a wrong one.
  const ok = redis(ips[0], port, ["SELECT", namespace, password], ["SET", "k", "v"], ["GET", "k"]);
  assert.match(ok, /OK[\s\S]*v/, ok);
  const wrong = redis(ips[0], port, ["SELECT", namespace, "not-the-password"]);
  assert.doesNotMatch(wrong, /^OK/m, wrong);
  assert.match(wrong, /ERR|denied|password/i);

  // The hub's store: written only with the password the launcher keeps 0600, which no command line
  // shows; the hub and the daemons run with a raised open-file limit.
  const state = JSON.parse(readFileSync(join(data, "grid.json"), "utf8")) as { hub: { host: string; zdbPort: number } };
  const hubPwFile = join(data, "hub", "zdb.password");
  assert.equal(statSync(hubPwFile).mode & 0o777, 0o600);
  const hubPw = readFileSync(hubPwFile, "utf8").trim();
  assert.ok(hubPw.length >= 24);
  const anon = redis(state.hub.host, state.hub.zdbPort, ["SET", `n:${"a".repeat(64)}/forged`, "{}"]);
  assert.match(anon, /read-only/, `an anonymous write into the hub's store is refused: ${anon}`);
  const cmdlines = spawnSync("ps", ["-eo", "args"], { encoding: "utf8" }).stdout;
  assert.ok(!cmdlines.includes(hubPw), "the hub's password is on no command line");
  const zhubPid = Number(readFileSync(join(data, "run", "zhub.pid"), "utf8"));
  const nofile = Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${zhubPid}/limits`, "utf8"))?.[1]);
  const ours = Number(/Max open files\s+\d+\s+(\d+)/.exec(readFileSync("/proc/self/limits", "utf8"))?.[1]);
  assert.ok(nofile >= Math.min(65536, ours), `zhub's open-file limit is raised as far as this machine allows (${nofile}, our hard limit ${ours})`);

  // The ledger holds no clear-text password.
  const ledger = new LedgerClient(r.ledger);
  assert.ok(!JSON.stringify(await ledger.contracts({})).includes(password));

  // kosmos as the demo user, with the env lines the launcher prints.
  const user = { KOSMOS_HOME: join(data, "user"), KOSMOS_PASSPHRASE: readFileSync(join(data, "user", ".passphrase"), "utf8").trim(), KOSMOS_LEDGER: r.ledger };
  const ls = await runBin("kosmos", ["ls", "--json"], user);
  assert.equal(ls.code, 0, ls.stderr);
  const rows = ls.json() as Array<{ name: string; contractId: number; nodeId: number }>;
  assert.deepEqual(rows.map((d) => [d.name, d.nodeId]), [["hello", web.node], ["hello", probe.node]], "one contract per node, under one name");
  assert.equal(rows[0].contractId, r.deployment.contractId);
  const show = await runBin("kosmos", ["show", "hello", "--json"], user);
  assert.equal(show.json().workloads.find((w: { name: string }) => w.name === "db").data.namespace, namespace);
  assert.equal(show.json().parts.length, 2);
  // The web's own log (shipped into the `logs` 0-db on its node): the probe asked from its overlay address.
  await waitFor("web's log to show the probe's request over the network", async () => {
    const logs = await runBin("kosmos", ["logs", "hello", "web"], { ...user, KOSMOS_LOGS_PASSWORD: password });
    return logs.code === 0 && logs.stdout.includes(`[::ffff:${probe.overlayIp}]`) && logs.stdout.includes("response:200");
  }, { timeoutMs: 20_000 });
  // The probe's own output, shipped by node 2 into a 0-db on node 1 (a container logging across nodes).
  assert.ok(containers.every((c) => (c as C & { logs: boolean }).logs), "both containers stream their output");
  await waitFor("the probe's log, from node 1's 0-db, to say it fetched over the network", async () => {
    const logs = await runBin("kosmos", ["logs", "hello", "probe"], { ...user, KOSMOS_LOGS_PASSWORD: password });
    return logs.code === 0 && /fetched http:\/\/10\.20\.1\.10\/ over the network/.test(logs.stdout);
  }, { timeoutMs: 20_000 });
  const nets = rows.map((row, i) => networkNames(join(data, "nodes", `n${i + 1}`), row.contractId, "net"));
  const present0 = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  for (const n of nets) assert.ok(present0.includes(n.netns) && existsSync(socketPath(n.wg)), `network namespace ${n.netns} and wireguard socket ${n.wg} are there`);

  // Up again while up: it just reports, with the same deployment.
  const again = await runBin("grid", ["up", "--json", "--nodes", "2", "--data", data], env, undefined, 60_000);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.json().deployment.contractId, r.deployment.contractId);
  assert.match(again.stderr, /already running/);

  // Down, then up: the same grid comes back (same node ids, same contract, the data still there).
  const firstDown = await runBin("grid", ["down", "--data", data], {}, undefined, 60_000);
  assert.equal(firstDown.code, 0, firstDown.stderr);
  assert.equal((await runBin("grid", ["status", "--json", "--data", data], {})).json().running, false);
  const back = await runBin("grid", ["up", "--json", "--nodes", "2", "--data", data], env, undefined, 120_000);
  assert.equal(back.code, 0, back.stderr);
  assert.deepEqual(back.json().nodes.map((n: { id: number }) => n.id), r.nodes.map((n: { id: number }) => n.id));
  assert.equal(back.json().deployment.contractId, r.deployment.contractId, "found by name, not deployed twice");
  assert.match(back.stderr, /already deployed/);
  await waitFor("the 0-db to answer with the data written before down", () => /OK[\s\S]*v/.test(redis(ips[0], port, ["SELECT", namespace, password], ["GET", "k"])), { timeoutMs: 15_000 });
  const backWeb = back.json().deployment.containers.find((c: { name: string }) => c.name === "web") as { url: string };
  assert.equal(await fetchPage(backWeb.url), EXAMPLE_PAGE, "the container runs again after down/up");
  assert.equal(back.json().deployment.overlay?.status, 200, "the probe fetches over the network again after down/up");
  assert.equal(containerState(data, nodeData, firstNode.netns).runc.length, 1);

  // Cancel: the contract is gone and the namespace with it.
  const cancel = await runBin("kosmos", ["cancel", "hello", "--json"], user);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.deepEqual((await runBin("kosmos", ["ls", "--json"], user)).json(), []);
  await waitFor("the namespace to be removed", () => !/OK/.test(redis(ips[0], port, ["SELECT", namespace, password])), { timeoutMs: 15_000 });
  await waitFor("the container to be removed", () => containerState(data, nodeData, firstNode.netns).runc.length === 0, { timeoutMs: 15_000 });

  // Down: nothing left.
  const status = await runBin("grid", ["status", "--json", "--data", data], {});
  assert.equal(status.json().running, true);
  const tag = r.nodes[0].netns ? r.nodes[0].netns.split("-")[1] : "none";
  const down = await runBin("grid", ["down", "--data", data], {}, undefined, 60_000);
  assert.equal(down.code, 0, down.stderr);
  const left = leftovers(data, tag);
  assert.deepEqual(left, { pids: "", netns: "", links: "" });
  const after = containerState(data, nodeData, null);
  assert.deepEqual({ runc: after.runc, mounts: after.mounts, pids: after.pids, cgroups: cgroupsOf(before.runc) }, { runc: [], mounts: [], pids: [], cgroups: [] });
  const present = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  for (const n of before.netns) assert.ok(!present.includes(n), `container namespace ${n} is gone`);
  for (const n of nets) assert.ok(!present.includes(n.netns) && !existsSync(socketPath(n.wg)), `network namespace ${n.netns} and wireguard socket ${n.wg} are gone`);
  assert.equal((await runBin("grid", ["status", "--json", "--data", data], {})).json().running, false);
  assert.ok(existsSync(join(data, "ledger")), "the data stays for the next up");
});

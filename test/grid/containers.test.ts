// Containers on the local grid, real processes: the example's web container logs its requests into
// its 0-db (read back with `kosmos logs`); a deployment's secret env reaches its container but never
// the ledger nor the node's logs; the node is `kill -9`ed with containers running and `grid up`
// restarts it: exactly those containers run (adopted, not duplicated) and still serve; `grid down`
// leaves no container, process, mount or namespace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, readFileSync, readdirSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runBin, waitFor } from "../kosmos/helpers.js";
import { LedgerClient } from "../../src/ledger/client/index.js";
import { EXAMPLE_PAGE } from "../../src/flist/index.js";
import { cgroupsOf, containerState, fetchPage } from "./helpers.js";

/** Every log file of a grid: the daemons' (DIR/logs) and the node's own, containers' output included. */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, inLogs: boolean) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      // A container's root (its tmpfs layer and the overlay) is the container's, not a log.
      if (st.isDirectory()) { if (name !== "rw" && name !== "rootfs" && name !== "flist-cache") walk(p, inLogs || name === "logs"); }
      else if (inLogs || /\.(log|out)(\.\d+)?$/.test(name)) out.push(p);
    }
  };
  walk(dir, false);
  return out;
}

test("container logs in 0-db, secret env kept off the ledger and logs, kill -9 of the node adopts exactly its containers, down leaves nothing", { timeout: 150_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "grid-ct-"));
  const data = join(dir, "g");
  const password = "pw-" + Math.random().toString(36).slice(2);
  const secret = "tok-" + Math.random().toString(36).slice(2) + Math.random().toString(36).slice(2);
  t.after(async () => {
    await runBin("grid", ["down", "--data", data], {}, undefined, 60_000);
    rmSync(dir, { recursive: true, force: true });
  });

  const up = await runBin("grid", ["up", "--json", "--nodes", "1", "--data", data], { HELLO_ZDB_PASSWORD: password }, undefined, 120_000);
  assert.equal(up.code, 0, up.stderr);
  const r = up.json();
  const web = r.deployment.containers[0] as { ip: string; url: string };
  const nodeNetns: string | null = r.nodes[0].netns;
  const nodeData = join(data, "nodes", "n1");
  const user = { KOSMOS_HOME: join(data, "user"), KOSMOS_PASSPHRASE: readFileSync(join(data, "user", ".passphrase"), "utf8").trim(), KOSMOS_LEDGER: r.ledger, KOSMOS_HUB: r.hub };

  // The httpd's log lines, streamed by the node into the `logs` 0-db, read back with kosmos logs.
  for (let i = 0; i < 3; i++) assert.equal(await fetchPage(web.url), EXAMPLE_PAGE);
  const lines = await waitFor("3 request lines in the 0-db", async () => {
    const l = await runBin("kosmos", ["logs", "hello", "web", "--json"], user);
    assert.equal(l.code, 0, l.stderr);
    const got = (l.json() as Array<{ time: string; line: string }>).filter((x) => /response:200/.test(x.line));
    return got.length >= 3 ? got : undefined;
  }, { timeoutMs: 20_000 });
  assert.ok(lines.every((x) => !Number.isNaN(Date.parse(x.time))), "each line has its time");
  const human = await runBin("kosmos", ["logs", "hello", "web"], user);
  assert.match(human.stdout, /^\d{4}-\d\d-\d\dT\S+ .*response:200$/m);
  const noPw = await runBin("kosmos", ["logs", "hello", "web"], { ...user, KOSMOS_HOME: join(dir, "other-home"), KOSMOS_PASSPHRASE: "x" });
  assert.notEqual(noPw.code, 0, "another home has no identity nor password: refused");
  const noSuch = await runBin("kosmos", ["logs", "hello", "nope"], user);
  assert.match(noSuch.stderr, /no container named "nope"[\s\S]*its containers: web/);

  // A deployment with a secret env: it reaches the container, not the ledger nor any log file.
  const flist = (JSON.parse(readFileSync(join(data, "grid.json"), "utf8")) as { hub: { example: { address: string } } }).hub.example.address;
  const file = join(dir, "secret.yaml");
  writeFileSync(file, [
    "name: secretive",
    "containers:",
    "  - name: sec",
    "    flist: { env: APP_FLIST }",
    `    entrypoint: /bin/sh -c 'echo "$TOKEN" > /www/t.txt; echo starting with $PLAIN; exec /bin/httpd -f -v -p 80 -h /www'`,
    "    env: { PLAIN: visible }",
    "    secretEnv: { TOKEN: { env: APP_TOKEN } }",
    "    memory: 32MiB",
    "    rootfsSize: 32MiB",
    "    http: 80",
    "",
  ].join("\n"));
  const dep = await runBin("kosmos", ["deploy", file, "--json", "--timeout", "60"], { ...user, APP_FLIST: flist, APP_TOKEN: secret }, undefined, 90_000);
  assert.equal(dep.code, 0, dep.stderr);
  const sec = dep.json().workloads.find((w: { name: string }) => w.name === "sec") as { url: string; data: { ip: string } };
  assert.equal(sec.url, `http://${sec.data.ip}/`);
  assert.match(dep.stderr, /sec: (init|ok)/, "deploy shows the container's progress");
  // Reachable from this host once `grid up` has routed it (a container deployed after up: up again).
  const routed = await runBin("grid", ["up", "--json", "--data", data], { HELLO_ZDB_PASSWORD: password }, undefined, 60_000);
  assert.equal(routed.code, 0, routed.stderr);
  assert.equal((await fetchPage(`${sec.url}t.txt`)).trim(), secret, "the container got its secret, opened on the node");
  const contracts = await (await fetch(`${r.ledger}/contracts`)).text();
  assert.ok(contracts.includes("secretive") && contracts.includes("TOKEN"), "the contract is there, with its sealed TOKEN");
  assert.ok(!contracts.includes(secret), "the secret is not on the ledger");
  const logs = logFiles(data);
  assert.ok(logs.some((f) => f.endsWith("zos-n1.log")) && logs.some((f) => f.endsWith("output.log")), `node and container logs were scanned: ${logs.join(" ")}`);
  for (const f of logs) assert.ok(!readFileSync(f, "utf8").includes(secret), `${f} holds the secret`);
  assert.ok(logs.some((f) => readFileSync(f, "utf8").includes("starting with visible")), "the container's output is in its log");

  // kill -9 the node with both containers running; `grid up` restarts it.
  const before = containerState(data, nodeData, nodeNetns);
  assert.equal(before.runc.length, 2);
  assert.equal(before.pids.length, 2);
  assert.ok(cgroupsOf(before.runc).length >= 2, "each container has its cgroups (memory, cpu, pids...)");
  execFileSync("kill", ["-9", readFileSync(join(data, "run", "zos-n1.pid"), "utf8").trim()]);
  const again = await runBin("grid", ["up", "--json", "--data", data], { HELLO_ZDB_PASSWORD: password }, undefined, 120_000);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /starting node 1/);
  await waitFor("the node to adopt both containers", () => (readFileSync(join(data, "logs", "zos-n1.log"), "utf8").match(/adopted running container/g) ?? []).length >= 2, { timeoutMs: 30_000 });
  const after = containerState(data, nodeData, nodeNetns);
  assert.deepEqual(after.runc.sort(), before.runc.sort(), "exactly the same containers");
  assert.deepEqual(after.pids.sort(), before.pids.sort(), "the same processes: adopted, not started twice");
  assert.equal(await fetchPage(again.json().deployment.containers[0].url), EXAMPLE_PAGE);
  assert.equal((await fetchPage(`${sec.url}t.txt`)).trim(), secret);

  // Down: nothing of the containers is left.
  const down = await runBin("grid", ["down", "--json", "--data", data], {}, undefined, 60_000);
  assert.equal(down.code, 0, down.stderr);
  assert.equal(down.json().containers.length, 2);
  const gone = containerState(data, nodeData, null);
  assert.deepEqual({ runc: gone.runc, pids: gone.pids, mounts: gone.mounts, cgroups: cgroupsOf(before.runc) }, { runc: [], pids: [], mounts: [], cgroups: [] });
  const netns = execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
  for (const n of before.netns) assert.ok(!netns.includes(n), `${n} is gone`);
  assert.ok(existsSync(join(data, "ledger")));
  const ledger = new LedgerClient(r.ledger);
  await assert.rejects(ledger.status(), "the ledger is stopped too");
});

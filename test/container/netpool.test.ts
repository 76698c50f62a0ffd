// Network namespaces prepared in advance: a start takes one (and gets its IP reachable from the
// node), the pool is topped up, a node killed with prepared namespaces takes them back on its next
// start (dropping one that vanished), and shutdown plus deprovision leave no namespace behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type WorkloadOf } from "../../src/core/index.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { netnsIp } from "../../src/node/container/netns.js";
import { sh } from "../../src/node/container/sys.js";
import { waitFor } from "../flist/helpers.js";
import { captureLogger, ctxFor, netnsList, useExampleHub } from "./helpers.js";

const fx = useExampleHub("netpool-test-");

async function poolNames(dataDir: string): Promise<string[]> {
  return (await readdir(join(dataDir, "container", ".netpool")).catch(() => [] as string[])).map((n) => n.replace(/\.json$/, "")).sort();
}

// A node process that prepares its pool, starts one container, prints what it has, and waits to be killed.
const NODE = `
const [helpers, prov, dataDir, flist, entrypoint] = process.argv.slice(1);
const { captureLogger, ctxFor } = await import(helpers);
const { ContainerProvisioner } = await import(prov);
const { log } = captureLogger();
const w = { name: "web", version: 0, description: "", type: "container", data: { flist, entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 << 20, rootfsSize: 16 << 20, mounts: [] } };
const p = new ContainerProvisioner({ pollMs: 50 });
await p.init(dataDir, log);
const m = p.manager(dataDir, log);
await m.pool.ready();
const before = (await import("node:fs")).readdirSync(dataDir + "/container/.netpool").map((n) => n.replace(/\\.json$/, ""));
const r = await p.provision(ctxFor(dataDir, 21, [w], log), w);
await m.pool.ready();
console.log(JSON.stringify({ ip: r.ip, before }));
setInterval(() => {}, 1000);
`;

test("a start takes a prepared namespace; the pool is refilled, taken back after a kill -9, and removed on shutdown", async () => {
  const dataDir = join(fx.work, "node");
  const { log } = captureLogger();
  const w: WorkloadOf<"container"> = { name: "web", version: 0, description: "", type: "container", data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 << 20, rootfsSize: 16 << 20, mounts: [] } };
  const ctx = ctxFor(dataDir, 21, [w], log);
  const p = new ContainerProvisioner({ pollMs: 50 });
  const seen = new Set<string>();
  const child = spawn(process.execPath, ["--input-type=module", "-e", NODE, new URL("./helpers.js", import.meta.url).href, new URL("../../src/node/provisioners/container.js", import.meta.url).href, dataDir, fx.example.address, fx.example.entrypoint], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((res, rej) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => { out += d.toString(); if (out.includes("\n")) res(out.split("\n")[0]); });
      child.once("exit", (code) => rej(new Error(`the node process exited (${code}) before starting its container`)));
    });
    const { ip, before } = JSON.parse(line) as { ip: string; before: string[] };
    assert.equal(before.length, 2, "two namespaces prepared before any start");
    before.forEach((n) => seen.add(n));
    const m = p.manager(dataDir, log);
    const state = JSON.parse(await readFile(join(m.dir(ctx.workloadId), "state.json"), "utf8")) as { netns: string; ip: string };
    assert.ok(before.includes(state.netns), "the container got a prepared namespace");
    assert.equal(ip, state.ip);
    assert.equal(await netnsIp(state.netns), ip);
    assert.equal((await waitFor("httpd to answer", () => fetch(`http://${ip}/`), { timeoutMs: 5000, stepMs: 10 })).status, 200);
    const refilled = await poolNames(dataDir);
    assert.equal(refilled.length, 2, "topped up after the start");
    assert.ok(!refilled.includes(state.netns), "the container's namespace is no longer the pool's");
    refilled.forEach((n) => seen.add(n));
    for (const n of refilled) assert.match(String(await netnsIp(n)), /^100\.\d+\.\d+\.\d+$/, `${n} is ready with an address`);

    // kill -9: the prepared namespaces stay behind. One of them vanishes meanwhile.
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    await sh("ip", ["netns", "del", refilled[0]]);
    await p.init(dataDir, log);
    await m.pool.ready();
    assert.equal(m.pool.available, 2);
    const taken = await poolNames(dataDir);
    assert.ok(taken.includes(refilled[1]), "an intact prepared namespace is taken back, not leaked");
    assert.ok(!taken.includes(refilled[0]), "a vanished one is replaced");
    assert.ok(!taken.includes(state.netns), "a container's namespace is never handed out again");
    taken.forEach((n) => seen.add(n));
    // The restarted node adopts the container; deprovision removes its namespace.
    assert.equal((await p.provision(ctx, w)).ip, ip);
    await p.deprovision(ctx, w);
    assert.equal(await netnsIp(state.netns), null);
  } finally {
    child.kill("SIGKILL");
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
  assert.deepEqual(await poolNames(dataDir), [], "no record left");
  const left = await netnsList();
  assert.deepEqual([...seen].filter((n) => left.includes(n)), [], "no prepared namespace left");
});

test("a node that runs no container prepares no namespace", async () => {
  const dataDir = join(fx.work, "idle");
  const { log } = captureLogger();
  const p = new ContainerProvisioner({ pollMs: 50 });
  await p.init(dataDir, log);
  assert.equal(p.manager(dataDir, log).pool.available, 0);
  assert.deepEqual(await poolNames(dataDir), []);
  await p.shutdown();
});

test("a prepared namespace removed behind the pool's back is not handed out", async () => {
  const dataDir = join(fx.work, "vanish");
  const { log } = captureLogger();
  const w: WorkloadOf<"container"> = { name: "web", version: 0, description: "", type: "container", data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 << 20, rootfsSize: 16 << 20, mounts: [] } };
  const ctx = ctxFor(dataDir, 23, [w], log);
  const p = new ContainerProvisioner({ pollMs: 50, netPool: 1 });
  try {
    const m = p.manager(dataDir, log);
    await m.pool.ready();
    const [gone] = await poolNames(dataDir);
    await sh("ip", ["netns", "del", gone]);
    const r = await p.provision(ctx, w);
    const state = JSON.parse(await readFile(join(m.dir(ctx.workloadId), "state.json"), "utf8")) as { netns: string };
    assert.notEqual(state.netns, gone);
    assert.equal((await waitFor("httpd to answer", () => fetch(`http://${r.ip}/`), { timeoutMs: 5000, stepMs: 10 })).status, 200);
    assert.ok(!(await poolNames(dataDir)).includes(gone), "its record is dropped");
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
});

test("without a pool every start makes its own namespace", async () => {
  const dataDir = join(fx.work, "nopool");
  const { log } = captureLogger();
  const w: WorkloadOf<"container"> = { name: "web", version: 0, description: "", type: "container", data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 << 20, rootfsSize: 16 << 20, mounts: [] } };
  const ctx = ctxFor(dataDir, 22, [w], log);
  const p = new ContainerProvisioner({ pollMs: 50, netPool: 0 });
  try {
    await p.init(dataDir, log);
    const r = await p.provision(ctx, w);
    const page = await waitFor("httpd to answer", () => fetch(`http://${r.ip}/`), { timeoutMs: 5000, stepMs: 10 });
    assert.equal(page.status, 200);
    await p.manager(dataDir, log).pool.ready();
    assert.deepEqual(await poolNames(dataDir), []);
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
});

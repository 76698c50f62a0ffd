import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { seal, type GridError, type WorkloadOf } from "../../src/core/index.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { cgroupDirs } from "../../src/node/container/cgroups.js";
import { netNames } from "../../src/node/container/netns.js";
import { waitFor } from "../support.js";
import { captureLogger, ctxFor, mountsUnder, netnsList, exists, sealKeys, useExampleHub } from "./helpers.js";

const MiB = 1024 * 1024;
const fx = useExampleHub("container-test-");

function container(name: string, data: Partial<WorkloadOf<"container">["data"]>): WorkloadOf<"container"> {
  return { name, version: 0, description: "", type: "container", data: { flist: fx.example.address, entrypoint: fx.example.entrypoint, env: {}, secretEnv: {}, cpu: 1, memory: 64 * MiB, rootfsSize: 32 * MiB, mounts: [], ...data } };
}

/** Asserts nothing of the container is left: process, runc state, mounts, netns (the one it had,
 * `netns`, and the one its key names), cgroups, folder. */
async function assertGone(dataDir: string, workloadId: string, pid: number | null, p: ContainerProvisioner, netns: string | null = null): Promise<void> {
  const m = p.manager(dataDir, captureLogger().log);
  if (pid) await waitFor("the container process to be gone", async () => !(await exists(`/proc/${pid}/stat`)) || (await readFile(`/proc/${pid}/stat`, "utf8")).includes(") Z"), { timeoutMs: 5000 });
  assert.deepEqual(await mountsUnder(join(dataDir, "container")), [], "no mount left");
  const left = await netnsList();
  assert.ok(!left.includes(netNames(`${dataDir}\0${workloadId}`).netns), "netns removed");
  if (netns) assert.ok(!left.includes(netns), `its netns ${netns} removed`);
  assert.deepEqual(await cgroupDirs(m.cgroupPath(workloadId)), [], "cgroups removed");
  assert.equal(await exists(m.dir(workloadId)), false, "folder removed");
  const runcRoot = join(dataDir, "container", ".runc");
  assert.deepEqual((await readdir(runcRoot).catch(() => [])).filter((x) => x.endsWith(workloadId)), [], "no runc state");
}

/** The page, once httpd listens: a start resolves when the container's process runs, which may be
 * a moment before it has bound its port. */
function served(ip: string): Promise<Response> {
  return waitFor(`httpd in the container to answer on ${ip}`, () => fetch(`http://${ip}/`), { timeoutMs: 5000, stepMs: 10 });
}

/** The network namespace a container was given (from its saved state). */
async function netnsOf(dataDir: string, id: string, p: ContainerProvisioner): Promise<string> {
  const m = p.manager(dataDir, captureLogger().log);
  return (JSON.parse(await readFile(join(m.dir(id), "state.json"), "utf8")) as { netns: string }).netns;
}

async function pidOf(dataDir: string, id: string, p: ContainerProvisioner): Promise<number> {
  const m = p.manager(dataDir, captureLogger().log);
  const s = JSON.parse(await readFile(join(dataDir, "container", ".runc", m.runcId(id), "state.json"), "utf8")) as { init_process_pid: number };
  return s.init_process_pid;
}

test("the busybox flist serves its page from the container's IP; secrets reach the container only", async () => {
  const dataDir = join(fx.work, "node-web");
  const { log, text } = captureLogger();
  const progress: string[] = [];
  const secret = `s3cr3t-${Date.now()}-value`;
  const w = container("web", { env: { GREETING: "hi" }, secretEnv: { API_TOKEN: seal(secret, sealKeys.publicKey) } });
  const ctx = ctxFor(dataDir, 11, [w], log, progress);
  const p = new ContainerProvisioner({ pollMs: 50 });
  let pid: number | null = null, netns: string | null = null;
  try {
    const r = await p.provision(ctx, w);
    netns = await netnsOf(dataDir, ctx.workloadId, p);
    assert.equal(r.state, "running");
    assert.match(String(r.ip), /^100\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
    assert.ok(progress.some((m) => /^fetching flist: \d+% of /.test(m)), `progress posted: ${progress.join(" | ")}`);
    const res = await served(String(r.ip));
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Hello from a container on the grid/);
    pid = await pidOf(dataDir, ctx.workloadId, p);
    const environ = (await readFile(`/proc/${pid}/environ`, "utf8")).split("\0");
    assert.ok(environ.includes(`API_TOKEN=${secret}`), "the secret is in the container's environment");
    assert.ok(environ.includes("GREETING=hi"));
    // Not in the node's logs, nor in any file the node wrote (the container's tmpfs included).
    assert.ok(!text().includes(secret), "secret not in logs");
    const grep = async (dir: string): Promise<string[]> => {
      const hits: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const f = join(dir, e.name);
        if (e.isDirectory()) hits.push(...await grep(f));
        else if (e.isFile() && (await stat(f)).size < 64 * MiB && (await readFile(f)).includes(secret)) hits.push(f);
      }
      return hits;
    };
    assert.deepEqual(await grep(dataDir), [], "secret not on disk");
    assert.deepEqual(await p.check(ctx), { ok: true });
    // Idempotent: provisioning again adopts the same process.
    const again = await p.provision(ctx, w);
    assert.equal(again.ip, r.ip);
    assert.equal(await pidOf(dataDir, ctx.workloadId, p), pid);
    // Pause and resume (grace).
    await p.pause(ctx, w);
    assert.match(await readFile(`/proc/${pid}/status`, "utf8"), /State:\s+[DS]/);
    await assert.rejects(fetch(`http://${r.ip}/`, { signal: AbortSignal.timeout(300) }));
    const resumed = await p.resume(ctx, w);
    assert.equal(resumed.state, "running");
    assert.equal((await fetch(`http://${r.ip}/`)).status, 200);
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
  await assertGone(dataDir, ctx.workloadId, pid, p, netns);
  await p.deprovision(ctx, w); // idempotent
});

test("over its memory limit: killed, restarted, and the result says so", async () => {
  const dataDir = join(fx.work, "node-oom");
  const { log } = captureLogger();
  const w = container("hog", { memory: 16 * MiB, entrypoint: `/bin/sh -c "echo started; dd if=/dev/zero of=/dev/null bs=48M count=1; exec sleep 1000"` });
  const ctx = ctxFor(dataDir, 12, [w], log);
  const p = new ContainerProvisioner({ pollMs: 50, backoff: { baseMs: 100, maxMs: 1000 } });
  let netns: string | null = null;
  try {
    await p.provision(ctx, w);
    netns = await netnsOf(dataDir, ctx.workloadId, p);
    // The container is restarted by the node itself: its check reports the kill (nothing to make again).
    const health = await waitFor("the OOM kill to be noticed", async () => { const h = await p.check(ctx); return h.report ? h : null; }, { timeoutMs: 15_000 });
    assert.equal(health.ok, true);
    assert.match(health.report!.message, /out of memory \(over its 16 MiB limit\); restarted/);
    assert.equal(health.report!.data.exitCode, 137);
    assert.match(String(health.report!.data.output), /started/, "the result carries its last output");
    const m = p.manager(dataDir, log);
    await waitFor("the restart", () => (m.status(ctx.workloadId)?.state === "running" && m.status(ctx.workloadId)!.restarts >= 1));
    const r = await p.provision(ctx, w);
    assert.ok(Number(r.oomKills) >= 1);
    assert.match(String(r.message), /out of memory/);
    const out = await readFile(join(m.dir(ctx.workloadId), "logs", "output.log"), "utf8");
    assert.ok(out.split("\n").filter((l) => l === "started").length >= 2, "it ran again after the kill");
  } finally {
    await p.deprovision(ctx, w);
    await p.shutdown();
  }
  await assertGone(dataDir, ctx.workloadId, null, p, netns);
});

test("after a node restart: a running container is adopted, a dead one recreated", async () => {
  const dataDir = join(fx.work, "node-restart");
  const { log } = captureLogger();
  const w = container("web", {});
  const ctx = ctxFor(dataDir, 13, [w], log);
  const first = new ContainerProvisioner({ pollMs: 50 });
  const r = await first.provision(ctx, w);
  const pid = await pidOf(dataDir, ctx.workloadId, first);
  const netns = await netnsOf(dataDir, ctx.workloadId, first);
  await first.shutdown(); // the node goes away; runc containers outlive it
  const second = new ContainerProvisioner({ pollMs: 50 });
  try {
    assert.equal((await second.check(ctx)).ok, false, "the new node process does not know it yet");
    const again = await second.provision(ctx, w);
    assert.equal(again.ip, r.ip);
    assert.equal(await pidOf(dataDir, ctx.workloadId, second), pid, "adopted, not restarted");
    await second.shutdown();
    process.kill(pid, "SIGKILL"); // dies while no node watches
    await waitFor("the process to go", async () => !(await exists(`/proc/${pid}/cmdline`)) || (await readFile(`/proc/${pid}/stat`, "utf8")).includes(") Z"));
    const third = new ContainerProvisioner({ pollMs: 50 });
    const re = await third.provision(ctx, w);
    assert.equal(re.ip, r.ip);
    assert.notEqual(await pidOf(dataDir, ctx.workloadId, third), pid, "recreated");
    assert.equal((await served(String(re.ip))).status, 200);
    await third.deprovision(ctx, w);
    await third.shutdown();
  } finally {
    await second.deprovision(ctx, w);
  }
  await assertGone(dataDir, ctx.workloadId, pid, second, netns);
});

test("start failures say why, with a permanent code (not retried): missing entrypoint, bad flist", async () => {
  const dataDir = join(fx.work, "node-bad");
  const { log } = captureLogger();
  const p = new ContainerProvisioner({ pollMs: 50 });
  const w1 = container("noexec", { entrypoint: "/bin/does-not-exist --flag" });
  const ctx1 = ctxFor(dataDir, 14, [w1], log);
  await assert.rejects(p.provision(ctx1, w1), (e: GridError) => /entrypoint \/bin\/does-not-exist is not in the flist/.test(e.message) && e.code === "invalid" && !e.transient);
  await p.deprovision(ctx1, w1);
  await assertGone(dataDir, ctx1.workloadId, null, p);
  const w2 = container("noflist", { flist: `${fx.hubUrl}/flists/${fx.keys.publicKey}/no-such-flist` });
  const ctx2 = ctxFor(dataDir, 15, [w2], log);
  await assert.rejects(p.provision(ctx2, w2), (e: GridError) => /bad flist .*not found/.test(e.message) && e.code === "not_found" && !e.transient);
  await p.deprovision(ctx2, w2);
  await assertGone(dataDir, ctx2.workloadId, null, p);
  await p.shutdown();
});

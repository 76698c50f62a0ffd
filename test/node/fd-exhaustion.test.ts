// Fault: zos runs out of file descriptors while it provisions (its files, mkfs, mount). The step
// fails as `exhausted` (transient), zos stays up, and once descriptors are back the same workload
// is retried to ok — no crash, no workload left failed for good.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { MiB } from "../../src/core/index.js";
import { newUser, deployment, createContract, waitResult, nodeFixture, waitFor } from "./grid.js";
import { pidAlive, run } from "./helpers.js";

test("out of descriptors while provisioning: zos survives, the step is retried to ok", { skip: process.getuid?.() !== 0 && "needs root (volumes are loop mounts)" }, async (t) => {
  const { client, zos } = await nodeFixture(t, "fd-exhaustion");
  const pid = zos.proc.child.pid!;
  const user = await newUser(client);
  // Leave zos no descriptor to spare: every new file, pipe or socket fails with EMFILE.
  // (A new descriptor takes the lowest free number below the limit: the limit goes to the first gap.)
  const open = new Set((await readdir(`/proc/${pid}/fd`)).map(Number));
  let gap = 0;
  while (open.has(gap)) gap++;
  // Only the soft limit moves (raising a hard limit back needs CAP_SYS_RESOURCE, which root in a
  // container may lack).
  const limits = (await readFile(`/proc/${pid}/limits`, "utf8")).split("\n").find((l) => l.startsWith("Max open files"))!.split(/\s+/);
  const [soft, hard] = [limits[3], limits[4]];
  await run("prlimit", [`--pid=${pid}`, `--nofile=${gap}:${hard}`]);
  let restored = false;
  const restore = async () => { if (!restored) { restored = true; await run("prlimit", [`--pid=${pid}`, `--nofile=${soft}:${hard}`]); } };
  t.after(restore);

  // The contract is created by the user (its own descriptors): zos learns of it on its open stream.
  const contractId = await createContract(user, deployment(user, zos.nodeId, [{ name: "vol", type: "volume", version: 0, description: "", data: { size: 16 * MiB } }]));
  await waitFor("zos to hit EMFILE on the workload's step", () => /"code":"exhausted"/.test(zos.proc.stderr()), { timeoutMs: 20_000 }).catch((e) => { console.error(zos.proc.stderr().slice(-6000)); throw e; });
  assert.ok(pidAlive(pid), "zos is alive while out of descriptors");
  const line = zos.proc.stderr().split("\n").find((l) => l.includes('"code":"exhausted"'))!;
  t.diagnostic(`zos logged: ${line.slice(0, 300)}`);
  assert.match(line, /"workload":"\d+-vol".*will retry/);

  await restore();
  const c = await waitResult(client, contractId, "vol", "ok", 30_000);
  assert.equal((c.results.vol.data as { size: number }).size, 16 * MiB);
  assert.ok(pidAlive(pid));
  assert.equal(zos.proc.child.exitCode, null);
});

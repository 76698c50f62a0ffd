// The node across crashes and downtime: kill -9 in the middle of provisioning converges to exactly
// one of everything; changes made on the ledger while the node was down are caught up on start;
// a deployment over the node's free capacity gets an `error` result with the reason, at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readdir, readFile } from "node:fs/promises";
import { GiB, MiB } from "../../src/core/index.js";
import {
  stopProc, newUser, restartZos, zdbWorkload, deployment, createContract, waitResult, nsList, workloadFiles,
  waitFor, nodeFixture,
} from "./grid.js";

/** Processes serving this node's 0-db data folder (there must never be two). */
async function zdbProcesses(nodeDir: string): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const cmd = await readFile(`/proc/${p}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes("bin/zdb") && cmd.includes(join(nodeDir, "zdb", "data"))) out.push(Number(p));
  }
  return out;
}

test("kill -9 mid-provisioning, downtime, and a capacity shortfall", async (t) => {
  const n = await nodeFixture(t, "restart");
  const { client, ledger, farmId, zdbPort, nodeDir } = n;
  const nodeId = n.zos.nodeId;
  const { sealKey } = await client.node(nodeId);
  const user = await newUser(client);

  // 1. kill -9 while provisioning: as soon as the first write-ahead record is on disk.
  const names = ["a", "b", "c", "d", "e", "f"];
  const d = deployment(user, nodeId, [
    ...names.map((n) => zdbWorkload(n, `pw-${n}`, sealKey, 16 * MiB)),
    { name: "vol", type: "volume", version: 0, description: "", data: { size: 64 * MiB } },
  ]);
  const c1 = await createContract(user, d);
  await waitFor("a write-ahead record", async () => (await workloadFiles(nodeDir)).length > 0, { timeoutMs: 10_000, stepMs: 2 });
  n.zos.proc.child.kill("SIGKILL");
  await new Promise((r) => n.zos.proc.child.once("exit", r));
  const restartedAt = Date.now();
  n.zos = await restartZos(ledger.url, farmId, n.zos);
  assert.equal(n.zos.nodeId, nodeId, "re-registration keeps the node id");
  for (const n of [...names, "vol"]) await waitResult(client, c1, n, "ok");
  t.diagnostic(`converged ${Date.now() - restartedAt} ms after restart`);
  const ns = await nsList(zdbPort);
  for (const n of names) assert.equal(ns.filter((x) => x === `${c1}-${n}`).length, 1, `one namespace ${c1}-${n}`);
  assert.equal(ns.length, names.length + 1, `only the default namespace besides: ${ns.join(",")}`);
  assert.equal((await zdbProcesses(nodeDir)).length, 1, "exactly one 0-db process");
  assert.equal((await workloadFiles(nodeDir)).length, names.length + 1);

  // 2. Changes made while the node is down are caught up when it comes back.
  await stopProc(n.zos.proc);
  await user.signer.send("contract.cancel", { contractId: c1 });
  const c2 = await createContract(user, deployment(user, nodeId, [zdbWorkload("later", "pw-later", sealKey, 16 * MiB)]));
  n.zos = await restartZos(ledger.url, farmId, n.zos);
  await waitResult(client, c2, "later", "ok");
  await waitFor("cancelled namespaces removed", async () => {
    const now = await nsList(zdbPort);
    return names.every((n) => !now.includes(`${c1}-${n}`)) && now.includes(`${c2}-later`);
  }, { timeoutMs: 15_000 });
  await waitFor("cancelled records removed", async () => (await workloadFiles(nodeDir)).length === 1, { timeoutMs: 15_000 });

  // 3. Capacity: the ledger accepted a deployment while the node offered 10 GiB of HDD; the node
  //    comes back offering 1 GiB, so it refuses with the reason, within seconds.
  await stopProc(n.zos.proc);
  const c3 = await createContract(user, deployment(user, nodeId, [zdbWorkload("big", "pw-big", sealKey, 5 * GiB)]));
  n.zos = { ...n.zos, args: n.zos.args.map((a) => (a === "10GiB" ? "1GiB" : a)) };
  const t0 = Date.now();
  n.zos = await restartZos(ledger.url, farmId, n.zos);
  const c = await waitResult(client, c3, "big", "error", 5_000);
  t.diagnostic(`capacity error ${Date.now() - t0} ms after start`);
  assert.match(c.results.big.message, /not enough capacity on node \d+: workload big needs 5 GiB of HDD but only .* is free/);
  assert.ok(!(await nsList(zdbPort)).includes(`${c3}-big`));
  // The workload that fits still runs.
  assert.equal((await client.contract(c2)).results.later.state, "ok");
});

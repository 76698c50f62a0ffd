// A contract that runs out of funds: its workloads are paused during grace (the 0-db namespace no
// longer opens with the user's password), then removed when the ledger deletes the contract.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GiB } from "../../src/core/index.js";
import {
  newUser, zdbWorkload, deployment, createContract, waitResult, nsList, waitFor, nodeFixture,
} from "./grid.js";
import { redisCli } from "./helpers.js";

test("out of funds: paused in grace, resumed when paid, deleted when grace runs out", async (t) => {
  const { client, zdbPort, zos } = await nodeFixture(t, "billing", { ledgerArgs: ["--billing-period", "1", "--grace-period", "3"], zos: { extra: ["--hru", "2000GiB"] } });
  const { sealKey } = await client.node(zos.nodeId);
  const user = await newUser(client, 1);
  const contractId = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("db", "pw-db", sealKey, 1000 * GiB)]));
  const ns = `${contractId}-db`;
  await waitFor("contract in grace", async () => (await client.contract(contractId)).state === "grace", { timeoutMs: 15_000 });
  const paused = await waitResult(client, contractId, "db", "paused");
  assert.equal(paused.state, "grace");
  assert.equal(await redisCli(zdbPort, "SELECT", ns, "pw-db"), "Access denied");
  assert.ok((await nsList(zdbPort)).includes(ns), "paused, not removed: the data stays during grace");

  // Another user in the same spot pays up during grace: the workload comes back with its password.
  const other = await newUser(client, 1);
  const c2 = await createContract(other, deployment(other, zos.nodeId, [zdbWorkload("db", "pw-other", sealKey, 1000 * GiB)]));
  await waitResult(client, c2, "db", "paused");
  await client.faucet(other.twinId, 1_000_000_000);
  await waitFor("contract resumed", async () => (await client.contract(c2)).state === "active", { timeoutMs: 15_000 });
  await waitResult(client, c2, "db", "ok");
  assert.equal(await redisCli(zdbPort, "SELECT", `${c2}-db`, "pw-other"), "OK");

  const deleted = await waitResult(client, contractId, "db", "deleted", 15_000);
  assert.equal(deleted.state, "deleted");
  assert.equal(deleted.deletedReason, "out of funds");
  await waitFor("namespace removed", async () => !(await nsList(zdbPort)).includes(ns), { timeoutMs: 15_000 });
});

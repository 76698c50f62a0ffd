// The ledger goes away under a running node and comes back: the node reconnects, resumes the event
// stream where it left off, and acts on what happens after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MiB } from "../../src/core/index.js";
import {
  startLedger, stopProc, newUser, zdbWorkload, deployment, createContract, waitResult, nsList, nodeFixture,
} from "./grid.js";
import { redisCli } from "./helpers.js";

test("kill -9 of bcdb under a running node: the node reconnects and acts on new events", async (t) => {
  const n = await nodeFixture(t, "outage");
  const { ledgerDir, zdbPort, zos } = n;
  const { sealKey } = await n.ledger.client.node(zos.nodeId);
  const user = await newUser(n.ledger.client);
  const c1 = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("one", "pw-one", sealKey, 16 * MiB)]));
  await waitResult(n.ledger.client, c1, "one", "ok");

  await stopProc(n.ledger.proc, "SIGKILL");
  // The workloads keep running while the ledger is away.
  assert.equal(await redisCli(zdbPort, "SELECT", `${c1}-one`, "pw-one"), "OK");
  n.ledger = await startLedger(ledgerDir, [], n.ledger.port);
  user.signer = n.ledger.client.signer(user.keys);

  const c2 = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("two", "pw-two", sealKey, 16 * MiB)]));
  await waitResult(n.ledger.client, c2, "two", "ok", 20_000);
  await user.signer.send("contract.cancel", { contractId: c1 });
  await waitResult(n.ledger.client, c1, "one", "deleted");
  const ns = await nsList(zdbPort);
  assert.ok(ns.includes(`${c2}-two`));
  assert.ok(!ns.includes(`${c1}-one`));
  assert.equal(zos.proc.child.exitCode, null, "the node never exited");
});

// The ledger goes away under a running node and comes back: the node reconnects, resumes the event
// stream where it left off, and acts on what happens after.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { MiB } from "../../src/core/index.js";
import {
  startLedger, stopProc, newUser, newFarm, startZos, cleanupNode, zdbWorkload, deployment, createContract, waitResult, nsList,
  tempDir, freePort,
} from "./grid.js";
import { redisCli } from "./helpers.js";

test("kill -9 of bcdb under a running node: the node reconnects and acts on new events", async (t) => {
  const tmp = await tempDir("zos-e2e-outage");
  const ledgerDir = join(tmp.path, "ledger");
  let ledger = await startLedger(ledgerDir);
  const zdbPort = await freePort();
  const nodeDir = join(tmp.path, "node");
  let zos: Awaited<ReturnType<typeof startZos>> | undefined;
  t.after(async () => { await stopProc(zos?.proc); await cleanupNode(nodeDir); await stopProc(ledger.proc); await tmp.remove(); });
  const farmId = await newFarm(ledger.client);
  zos = await startZos(ledger.url, farmId, nodeDir, { zdbPort });
  const { sealKey } = await ledger.client.node(zos.nodeId);
  const user = await newUser(ledger.client);
  const c1 = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("one", "pw-one", sealKey, 16 * MiB)]));
  await waitResult(ledger.client, c1, "one", "ok");

  await stopProc(ledger.proc, "SIGKILL");
  // The workloads keep running while the ledger is away.
  assert.equal(await redisCli(zdbPort, "SELECT", `${c1}-one`, "pw-one"), "OK");
  ledger = await startLedger(ledgerDir, [], ledger.port);
  user.signer = ledger.client.signer(user.keys);

  const c2 = await createContract(user, deployment(user, zos.nodeId, [zdbWorkload("two", "pw-two", sealKey, 16 * MiB)]));
  await waitResult(ledger.client, c2, "two", "ok", 20_000);
  await user.signer.send("contract.cancel", { contractId: c1 });
  await waitResult(ledger.client, c1, "one", "deleted");
  const ns = await nsList(zdbPort);
  assert.ok(ns.includes(`${c2}-two`));
  assert.ok(!ns.includes(`${c1}-one`));
  assert.equal(zos.proc.child.exitCode, null, "the node never exited");
});

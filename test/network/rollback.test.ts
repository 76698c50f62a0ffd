// A node that refuses its part, as root with real processes: between Kosmos's plan and its
// signatures another user takes node 2's capacity, so the ledger refuses node 2's contract. The
// contract already created on node 1 in that run is cancelled (rolled back), the error names node
// 2 and the reason, and once the capacity is free again (the other contract gone from the node)
// the same deploy succeeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { GridError, generateKeyPair, MiB } from "../../src/core/index.js";
import { Kosmos, parseDeploymentText } from "../../src/kosmos/index.js";
import { deployMultiNode, partsOf } from "../../src/kosmos/network/index.js";
import { access } from "node:fs/promises";
import { networkNames, wgPids } from "../../src/node/network/index.js";
import { waitFor } from "../support.js";
import { container, createContract, deploymentFor, newUser, testGrid, waitAll } from "./grid.js";

const root = process.getuid?.() === 0;

test("a part refused by the ledger rolls back the run's new contracts; the deploy can be retried", { skip: !root && "needs root", timeout: 180_000 }, async (t) => {
  const g = await testGrid(t, 2);
  const [n1, n2] = g.nodes;
  const keys = generateKeyPair();
  const k = new Kosmos({ ledgerUrl: g.ledger.url, keys, client: g.client });
  await k.faucet(1_000_000_000);
  const twinId = await k.twinId();
  const spec = parseDeploymentText([
    "name: pair",
    "networks: [{name: net, ipRange: 10.81.0.0/16}]",
    "containers:",
    `  - {name: a, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n1.nodeId}}`,
    `  - {name: b, flist: "${g.flist}", entrypoint: "${g.entrypoint}", memory: 64MiB, rootfsSize: 16MiB, network: net, node: ${n2.nodeId}}`,
  ].join("\n"));
  const other = await newUser(g.client);
  let squatter = 0;
  const ctx = { client: g.client, signer: g.client.signer(keys), keys };
  const err = await deployMultiNode(ctx, twinId, spec, {
    // After the plan, before the signatures: someone takes every CPU of node 2.
    confirm: async () => {
      const hog = container("hog", g);
      if (hog.type === "container") { hog.data.cpu = 8; hog.data.memory = 64 * MiB; }
      squatter = await createContract(other, deploymentFor(other, n2.nodeId, [hog]));
      return true;
    },
  }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof GridError, String(err));
  assert.equal(err.code, "capacity");
  assert.match(err.message, new RegExp(`node ${n2.nodeId} refused its part of "pair": node ${n2.nodeId} cannot hold this deployment`));
  assert.match(err.message, /rolled back: cancelled the new contract\(s\) \d+/);
  const mine = (await g.client.contracts({ twinId })).filter((c) => c.deployment.metadata.includes('"pair"'));
  assert.equal(mine.length, 1, "node 1's part was created in the run");
  assert.equal(mine[0].state, "deleted", "and cancelled: nothing new is left");
  assert.deepEqual(await partsOf(g.client, twinId, "pair"), []);
  // Node 1 may have started the rolled-back part's network: it goes, nothing of it stays.
  const x = networkNames(n1.dir, mine[0].id, "net");
  await waitFor("the rolled-back network gone from node 1", async () => (await wgPids(x.wg)).length === 0 && !(await access(`/run/netns/${x.netns}`).then(() => true, () => false)) || undefined, { timeoutMs: 30_000, stepMs: 200 });

  // The capacity comes back: the same file deploys.
  await other.signer.send("contract.cancel", { contractId: squatter });
  await waitAll(g.client, squatter, ["hog"], "deleted", 60_000);
  const r = await k.deploy(spec, { timeoutMs: 90_000 });
  assert.equal(r.status, "created");
  assert.deepEqual(r.parts!.map((p) => p.nodeId), [n1.nodeId, n2.nodeId]);
  await k.cancel("pair");
});

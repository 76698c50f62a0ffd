// The network provisioner's pause/resume and `zos cleanup` after a node that did not deprovision
// (kill -9), as root, driving the provisioner directly: paused means the interface is down (the
// namespace, process and config stay); cleanup stops wireguard-go and removes the namespace from
// the records on disk, and a second cleanup finds nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { generateSealKeyPair, seal, type WorkloadOf } from "../../src/core/index.js";
import { createNetworkProvisioner } from "../../src/node/provisioners/network.js";
import { cleanupNode } from "../../src/node/cleanup.js";
import { networkNames, wgPids } from "../../src/node/network/index.js";
import { sh } from "../../src/node/container/sys.js";
import { generateWgKeyPair } from "../../src/kosmos/network/keys.js";
import { ctxFor, sealKeys } from "../container/helpers.js";
import { quietLog, tempDir } from "../node/helpers.js";

const root = process.getuid?.() === 0;

function network(): WorkloadOf<"network"> {
  return {
    name: "net", type: "network", version: 0, description: "",
    data: { ipRange: "10.232.0.0/16", subnet: "10.232.1.0/24", wgListenPort: 20000 + Math.floor(Math.random() * 40000), wgPrivateKey: seal(generateWgKeyPair().privateKey, sealKeys.publicKey), peers: [] },
  };
}

test("pause takes the interface down, resume brings it back; zos cleanup removes what a killed node left", { skip: !root && "needs root", timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "znet-life-");
  const p = createNetworkProvisioner();
  const w = network();
  const ctx = { ...ctxFor(dir, 41, [w, { name: "c", type: "container", version: 0, description: "", data: { flist: "x", entrypoint: "", env: {}, secretEnv: {}, cpu: 1, memory: 1, rootfsSize: 1, mounts: [] } }], quietLog), workloadId: "41-net" };
  const n = networkNames(dir, 41, "net");
  t.after(async () => { await p.deprovision(ctx, w); });
  const data = await p.provision(ctx, w);
  assert.equal(data.subnet, "10.232.1.0/24");
  const link = () => sh("ip", ["-n", n.netns, "-o", "link", "show", "dev", n.wg]);
  assert.match(await link(), /[<,]UP[,>]/);
  await p.pause(ctx, w);
  assert.doesNotMatch(await link(), /[<,]UP[,>]/, "paused: the interface is down");
  assert.equal((await p.check(ctx, w)).ok, true, "paused is not broken");
  assert.deepEqual(await p.resume(ctx, w), data);
  assert.match(await link(), /[<,]UP[,>]/);

  // A wrongly sealed key is a clear validation error, before anything is made.
  const bad = { ...w, name: "bad", data: { ...w.data, wgPrivateKey: seal(generateWgKeyPair().privateKey, generateSealKeyPair().publicKey) } };
  await assert.rejects(p.provision({ ...ctx, workloadId: "41-bad" }, bad), /cannot be opened with this node's seal key/);

  // The node "dies" here (no deprovision): cleanup works from the records alone.
  const pids = await wgPids(n.wg);
  assert.equal(pids.length, 1);
  const r = await cleanupNode(dir, { log: quietLog });
  assert.ok(r.netns.includes(n.netns));
  assert.deepEqual(r.processes, pids);
  assert.deepEqual(await wgPids(n.wg), []);
  assert.equal(await access(`/run/netns/${n.netns}`).then(() => true, () => false), false);
  assert.equal(await access(`/var/run/wireguard/${n.wg}.sock`).then(() => true, () => false), false);
  const again = await cleanupNode(dir, { log: quietLog });
  assert.deepEqual([again.netns, again.processes], [[], []], "idempotent");
});

// The launcher's naming (pure) and, as root, its bridge/namespace plumbing for real: a process in a
// node's namespace is reachable from the host at the node's own address, and removal leaves nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gridNet, nodeNet } from "../../src/grid/naming.js";
import { ensureBridge, ensureNodeNs, removeNodeNs, removeBridge, netnsList, linkExists, subnetInUse } from "../../src/grid/netns.js";

test("names fit in 15 characters and differ between grids; addresses are in the grid's /24", () => {
  const a = gridNet("/tmp/grid-a"), b = gridNet("/tmp/grid-b");
  assert.notEqual(a.tag, b.tag);
  assert.notEqual(a.bridge, b.bridge);
  assert.deepEqual(gridNet("/tmp/grid-a"), a, "deterministic: the same folder gets the same grid");
  assert.notEqual(gridNet("/tmp/grid-a", 1).subnet, a.subnet, "a later attempt walks to another subnet");
  for (const net of [a, b]) {
    assert.ok(net.bridge.length <= 15);
    assert.match(net.subnet, /^10\.(2[0-4]\d)\.\d{1,3}\.0\/24$/);
    const names = new Set<string>([net.bridge]);
    for (let i = 1; i <= 200; i++) {
      const n = nodeNet(net, i);
      for (const name of [n.vethHost, n.vethPeer]) { assert.ok(name.length <= 15, name); assert.ok(!names.has(name)); names.add(name); }
      assert.equal(n.ip, `${net.bridgeIp.slice(0, -2)}.${10 + i}`);
    }
  }
  assert.throws(() => nodeNet(a, 0));
  assert.throws(() => nodeNet(a, 201));
});

const root = process.getuid?.() === 0;

test("bridge + namespace + veth: reachable from the host, idempotent, removed without a trace", { skip: !root && "needs root" }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "grid-net-"));
  const net = gridNet(dir);
  const n1 = nodeNet(net, 1);
  const cleanup = () => { removeNodeNs(n1); removeBridge(net); rmSync(dir, { recursive: true, force: true }); };
  t.after(cleanup);
  assert.equal(subnetInUse(net.subnet, net.bridge), false);
  ensureBridge(net);
  ensureNodeNs(net, n1);
  ensureBridge(net);
  ensureNodeNs(net, n1); // twice: repairs nothing, breaks nothing
  assert.ok(netnsList().includes(n1.netns));
  assert.ok(linkExists(net.bridge) && linkExists(n1.vethHost));

  const srv = spawn("ip", ["netns", "exec", n1.netns, process.execPath, "-e",
    `const s=require("net").createServer(c=>c.end("hi from "+process.argv[1]));s.listen(0,"${n1.ip}",()=>console.log(s.address().port))`, n1.ip], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => { srv.kill("SIGKILL"); });
  const port = Number(await new Promise<string>((r) => createInterface({ input: srv.stdout! }).once("line", r)));
  const got = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const c = connect(port, n1.ip);
    c.on("data", (d) => { buf += d; });
    c.on("end", () => resolve(buf));
    c.on("error", reject);
  });
  assert.equal(got, `hi from ${n1.ip}`);
  srv.kill("SIGKILL");
  await new Promise((r) => srv.once("exit", r));

  removeNodeNs(n1);
  removeBridge(net);
  assert.ok(!netnsList().includes(n1.netns));
  assert.ok(!linkExists(net.bridge));
  assert.ok(!linkExists(n1.vethHost));
});

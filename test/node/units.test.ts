// The node's pure pieces: machine facts parsed, reserves applied, flags validated, durable files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readdir, stat, readFile } from "node:fs/promises";
import { GiB, MiB, workloadCapacity, type Workload } from "../../src/core/index.js";
import { parseCpuinfo, parseMeminfo, applyReserve, detectCapacity } from "../../src/node/capacity.js";
import { parseMountinfo } from "../../src/node/provisioners/volume.js";
import { parseNsinfo } from "../../src/node/provisioners/zdb.js";
import { zosCommand, type ZosConfig } from "../../src/node/cli.js";
import { Cursor } from "../../src/node/cursor.js";
import { loadOrCreateIdentity } from "../../src/node/identity.js";
import { tempDir } from "./helpers.js";

test("capacity: /proc parsing, the node's reserve, flag overrides", async (t) => {
  assert.equal(parseCpuinfo("processor\t: 0\nmodel name\t: x\n\nprocessor\t: 1\n"), 2);
  assert.equal(parseMeminfo("MemTotal:       16384000 kB\nMemFree: 1 kB\n"), 16384000 * 1024);
  assert.throws(() => parseMeminfo("nothing"), /MemTotal/);
  const r = applyReserve({ cru: 4, mru: 16 * GiB, sru: 100 * GiB, hru: 0 });
  assert.equal(r.mru, 16 * GiB - Math.floor(1.6 * GiB));
  assert.equal(r.sru, 95 * GiB);
  assert.equal(r.hru, 0);
  assert.equal(applyReserve({ cru: 1, mru: GiB / 2, sru: 0, hru: 0 }).mru, 0, "never negative");
  const dir = tempDir(t, "zos-cap");
  {
    const { capacity, detected } = await detectCapacity(dir, { hru: 5 * GiB });
    assert.ok(detected.cru >= 1 && detected.mru > 0 && detected.sru + detected.hru > 0);
    assert.equal(capacity.hru, 5 * GiB);
    assert.equal(capacity.cru, detected.cru);
  }
});

test("parsers: mountinfo and NSINFO", () => {
  assert.deepEqual(parseMountinfo("36 35 98:0 /mnt1 /mnt/with\\040space rw - ext3 /dev/root rw\n"), ["/mnt/with space"]);
  const info = parseNsinfo("# namespace\nname: 7-db\nmode: userkey\npublic: no\n");
  assert.equal(info.get("mode"), "userkey");
  assert.equal(info.get("name"), "7-db");
});

test("zos flags: parsed into a config; bad values refused with a reason", async () => {
  let got: ZosConfig | undefined;
  const parse = (args: string[]) => zosCommand(async (c) => { got = c; }).exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }).parseAsync(args, { from: "user" });
  await parse(["--ledger", "http://127.0.0.1:1/", "--data", "d", "--farm", "3", "--underlay", "10.0.0.2", "--hru", "2GiB", "--metrics-port", "0"]);
  assert.equal(got!.ledger, "http://127.0.0.1:1");
  assert.equal(got!.farmId, 3);
  assert.deepEqual(got!.capacity, { hru: 2 * GiB });
  assert.equal(got!.zdbPort, 9900);
  assert.equal(got!.metricsPort, 0);
  assert.equal(got!.reportIntervalMs, 10_000);
  assert.ok(got!.dataDir.startsWith("/"));
  await assert.rejects(parse(["--ledger", "x", "--data", "d", "--farm", "zero", "--underlay", "a"]), /not a whole number/);
  await assert.rejects(parse(["--ledger", "x", "--data", "d", "--farm", "1", "--underlay", "a", "--hru", "lots"]), /not a size/);
  await assert.rejects(parse(["--data", "d", "--farm", "1", "--underlay", "a"]), /--ledger/);
});

test("durable files: identity kept across boots (0600), cursor monotonic and atomic", async (t) => {
  const dir = tempDir(t, "zos-files");
  {
    const a = await loadOrCreateIdentity(dir);
    const b = await loadOrCreateIdentity(dir);
    assert.deepEqual(a, b);
    assert.equal((await stat(join(dir, "seal.key"))).mode & 0o777, 0o600);
    const c = new Cursor(dir);
    assert.equal(await c.load(), null);
    await c.set(5);
    await c.set(3);
    assert.equal(JSON.parse(await readFile(join(dir, "cursor.json"), "utf8")).height, 5);
    assert.equal(await new Cursor(dir).load(), 5);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith(".tmp")), [], "no temporary files left");
  }
});

test("a container's writable root is a tmpfs: reserved (and billed) as memory, not SSD", () => {
  const w: Workload = { name: "c", type: "container", version: 0, description: "", data: { flist: "x", entrypoint: "", env: {}, secretEnv: {}, cpu: 2, memory: 256 * MiB, rootfsSize: 64 * MiB, mounts: [] } };
  assert.deepEqual(workloadCapacity(w), { cru: 2, mru: 320 * MiB, sru: 0, hru: 0 });
});

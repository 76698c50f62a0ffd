import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Redis } from "ioredis";
import { generateKeyPair, seal, type WorkloadOf } from "../../src/core/index.js";
import { publishExampleFlist, readShippedLogs, type ShippedLine } from "../../src/flist/index.js";
import { ContainerProvisioner } from "../../src/node/provisioners/container.js";
import { freePort, startRedis, startHub, waitFor, ROOT } from "../flist/helpers.js";
import { captureLogger, ctxFor, mountsUnder, sealKeys } from "./helpers.js";

test("a container's output is kept on the node and streamed into a 0-db namespace (seq mode)", async (t) => {
  const work = await mkdtemp(join(tmpdir(), "container-logs-"));
  const redis = await startRedis();
  const hub = await startHub(redis.url);
  const port = await freePort();
  const zdb = spawn(process.execPath, [resolve(ROOT, "bin/zdb"), "--listen", "127.0.0.1", "--port", String(port), "--data", join(work, "zdata"), "--index", join(work, "zindex"), "--admin", "adm"], { stdio: "ignore" });
  const p = new ContainerProvisioner({ pollMs: 50 });
  t.after(async () => {
    await p.shutdown();
    zdb.kill("SIGKILL");
    await hub.stop(); await redis.stop();
    assert.deepEqual(await mountsUnder(work), []);
    await rm(work, { recursive: true, force: true });
  });
  const admin = await waitFor("0-db", async () => {
    const r = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on("error", () => {});
    try { await r.connect(); return r; } catch { r.disconnect(); return null; }
  });
  await admin.call("AUTH", "adm");
  await admin.call("NSNEW", "ctlogs");
  await admin.call("NSSET", "ctlogs", "mode", "seq");
  await admin.call("NSSET", "ctlogs", "password", "pw");
  admin.disconnect();
  const ex = await publishExampleFlist({ hub: hub.url, keys: generateKeyPair() });
  const w: WorkloadOf<"container"> = { name: "talker", version: 0, description: "", type: "container", data: {
    flist: ex.address, entrypoint: `/bin/sh -c "echo line-one; echo line-two >&2; exec sleep 1000"`, env: {}, secretEnv: {}, cpu: 1, memory: 32 << 20, rootfsSize: 16 << 20, mounts: [],
    logs: { address: `127.0.0.1:${port}`, namespace: "ctlogs", password: seal("pw", sealKeys.publicKey) },
  } };
  const { log, text } = captureLogger();
  const ctx = ctxFor(join(work, "node"), 21, [w], log);
  try {
    await p.provision(ctx, w);
    const lines: ShippedLine[] = [];
    await waitFor("both lines in 0-db", async () => {
      lines.length = 0;
      await readShippedLogs({ address: `127.0.0.1:${port}`, namespace: "ctlogs", password: "pw" }, { onLine: (l) => lines.push(l) });
      return lines.length >= 2;
    }, { timeoutMs: 10_000, stepMs: 100 });
    assert.deepEqual(lines.map((l) => l.line), ["line-one", "line-two"]);
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.time))));
    const onNode = await readFile(join(p.manager(ctx.dataDir, log).dir(ctx.workloadId), "logs", "output.log"), "utf8");
    assert.equal(onNode, "line-one\nline-two\n");
    assert.ok(!text().includes('"pw"'), "the namespace password is not logged");
  } finally {
    await p.deprovision(ctx, w);
  }
});

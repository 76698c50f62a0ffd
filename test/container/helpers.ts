// A WorkloadContext for driving the container provisioner directly (no ledger, no node daemon),
// and the checks that a container left nothing behind.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { generateKeyPair, generateSealKeyPair, type Deployment, type KeyPair, type SealKeyPair, type Workload } from "../../src/core/index.js";
import { publishExampleFlist, type PublishResult } from "../../src/flist/index.js";
import { startRedis, startHub, type Proc } from "../flist/helpers.js";
import type { WorkloadContext } from "../../src/node/provisioners/types.js";
import { sh } from "../../src/node/container/sys.js";

export const sealKeys: SealKeyPair = generateSealKeyPair();

export function captureLogger(): { log: pino.Logger; text: () => string } {
  let buf = "";
  const out = new Writable({ write(c, _e, cb) { buf += c.toString(); cb(); } });
  return { log: pino({ level: "debug" }, out), text: () => buf };
}

export function ctxFor(dataDir: string, contractId: number, workloads: Workload[], log: pino.Logger, progress: string[] = []): WorkloadContext {
  const deployment = { version: 0, twinId: 1, nodeId: 1, metadata: "", description: "", signatureRequirement: { requests: [{ twinId: 1, weight: 1, required: false }], weightRequired: 1 }, workloads } as Deployment;
  const c = workloads.find((w) => w.type === "container")!;
  return {
    nodeId: 1, contractId, twinId: 1, workloadId: `${contractId}-${c.name}`, deployment, dataDir, underlay: "127.0.0.1",
    sealKeys, log, progress: (m) => { progress.push(m); }, signal: new AbortController().signal,
  };
}

/** Every mount point under `prefix`. */
export async function mountsUnder(prefix: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return text.split("\n").filter(Boolean).map((l) => l.split(" ")[4]).filter((m) => m.startsWith(prefix));
}

export async function netnsList(): Promise<string[]> {
  return (await sh("ip", ["netns", "list"])).split("\n").map((l) => l.split(" ")[0]).filter(Boolean);
}

export async function exists(p: string): Promise<boolean> { return stat(p).then(() => true, () => false); }

/** What a container test file shares: a Redis-backed hub with the busybox example flist published
 *  by `keys`, and a work folder that must hold no mount when the file's tests are done. */
export interface ExampleHub { hubUrl: string; work: string; keys: KeyPair; example: PublishResult & { entrypoint: string } }

/** Registers the file-level before/after that set the ExampleHub up and tear it down. Call it at
 *  the top level of a test file; the fields are filled in before its first test runs. */
export function useExampleHub(prefix: string): ExampleHub {
  const fx = { keys: generateKeyPair() } as ExampleHub;
  let redis: Proc | undefined, hub: Proc | undefined;
  before(async () => {
    redis = await startRedis();
    hub = await startHub(redis.url);
    fx.hubUrl = hub.url;
    fx.work = await mkdtemp(join(tmpdir(), prefix));
    fx.example = await publishExampleFlist({ hub: hub.url, keys: fx.keys });
  });
  after(async () => {
    await hub?.stop();
    await redis?.stop();
    if (fx.work) {
      assert.deepEqual(await mountsUnder(fx.work), [], "no mount left under the test folder");
      await rm(fx.work, { recursive: true, force: true });
    }
  });
  return fx;
}

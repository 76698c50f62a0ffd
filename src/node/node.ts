// One node, put together: identity, registration, the local store, provisioners, the engine, the
// watcher that feeds it, results, uptime reports and metrics. `startNode` is what `bin/zos` runs;
// the bench starts many simulated nodes in one process with it.
import { join } from "node:path";
import type { Logger } from "pino";
import { describeError, GridError, UnavailableError, type Capacity, type KeyPair } from "../core/index.js";
import { ensureDir, removeFile, writeFileAtomic } from "../runtime/index.js";
import { lockDataDir } from "./lock.js";
import { loadOrCreateIdentity } from "./identity.js";
import { detectCapacity, type CapacityOverrides } from "./capacity.js";
import { WorkloadStore } from "./store.js";
import { Cursor } from "./cursor.js";
import { createRegistry, provisionersOf } from "./provisioners/index.js";
import { ResultPoster } from "./results.js";
import { Engine } from "./engine.js";
import { ApprovalVerifier } from "./verify.js";
import { Watcher } from "./watcher.js";
import { Reporter } from "./reporter.js";
import { NodeMetrics } from "./metrics.js";
import type { NodeLedger, NodeSigner } from "./ledger.js";
import type { GatewayConfig } from "./gateway/index.js";

export interface NodeOptions {
  ledger: NodeLedger;
  signerFor(keys: KeyPair): NodeSigner;
  dataDir: string;
  farmId: number;
  underlay: string;
  capacity?: CapacityOverrides;
  zdbPort?: number;
  /** 0 = no metrics server. */
  metricsPort?: number;
  reportIntervalMs?: number;
  simulate?: boolean;
  log: Logger;
  zdbBin?: string;
  /** A gateway node: registered as its public config, served by its HAProxy. */
  gateway?: GatewayConfig;
}

export interface RunningNode {
  nodeId: number;
  twinId: number;
  capacity: Capacity;
  stop(): Promise<void>;
}

async function untilDone<T>(log: Logger, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      // A refusal is final (bad farm id, …); an unreachable or busy ledger is worth waiting for.
      if (err instanceof GridError && !err.transient && err.code !== "internal" && err.code !== "bad_nonce") throw err;
      const ms = Math.min(5000, 200 * 2 ** attempt);
      log.warn({ err: describeError(err), retryInMs: ms }, `${what} failed; retrying`);
      await new Promise((r) => setTimeout(r, ms));
    }
  }
}

export async function startNode(o: NodeOptions): Promise<RunningNode> {
  const log = o.log;
  await ensureDir(o.dataDir);
  const pidFile = await lockDataDir(o.dataDir);
  const identity = await loadOrCreateIdentity(o.dataDir);
  const { capacity, detected } = await detectCapacity(o.dataDir, o.capacity);
  log.info({ capacity, detected, simulate: !!o.simulate }, "capacity");

  const signer = o.signerFor(identity.keys);
  const twinId = await untilDone(log, "twin creation", () => signer.ensureTwin());
  await untilDone(log, "node registration", () => signer.send("node.register", {
    farmId: o.farmId, capacity, sealKey: identity.seal.publicKey, underlay: o.underlay,
    ...(o.gateway ? { publicConfig: { domain: o.gateway.domain, ipv4: o.gateway.ipv4 } } : {}),
  }));
  const node = await untilDone(log, "node lookup", async () => {
    const found = (await o.ledger.nodes({ farmId: o.farmId })).find((n) => n.twinId === twinId);
    // Registered but not listed yet (a replica behind the leader): worth waiting for.
    if (!found) throw new UnavailableError(`node of twin ${twinId} not found in farm ${o.farmId} after registering`);
    return found;
  });
  const nodeId = node.id;
  await writeFileAtomic(join(o.dataDir, "node.json"), JSON.stringify({ nodeId, twinId, farmId: o.farmId, underlay: o.underlay }));
  log.info({ nodeId, twinId, farmId: o.farmId }, "registered");

  const store = new WorkloadStore(o.dataDir);
  const cursor = new Cursor(o.dataDir);
  await cursor.load();
  const zdbPort = o.zdbPort ?? 9900;
  const registry = createRegistry({ simulate: !!o.simulate, zdb: { listen: o.underlay, port: zdbPort, bin: o.zdbBin }, gateway: o.gateway });
  for (const p of provisionersOf(registry)) await p.init?.(o.dataDir, log);

  let ledgerTime = 0;
  const results = new ResultPoster(signer, log, () => ledgerTime);
  let metrics: NodeMetrics | undefined;
  const engine = new Engine({
    nodeId, dataDir: o.dataDir, underlay: o.underlay, sealKeys: identity.seal, capacity, log, registry, store, results,
    onError: () => metrics?.reconcileErrors.inc(),
  });
  results.restrict((id, version, name, state) => engine.allowsResult(id, version, name, state));
  metrics = new NodeMetrics(() => engine.counts());
  await engine.load();
  const watcher = new Watcher({
    ledger: o.ledger, nodeId, engine, verifier: new ApprovalVerifier(o.ledger, nodeId), cursor, log,
    onBlock: (height, time) => { ledgerTime = Math.max(ledgerTime, time); metrics?.lastHeight.set(height); },
  });
  await watcher.start();
  engine.startChecks();
  const reporter = new Reporter(signer, nodeId, () => engine.reserved(), log);
  reporter.start(o.reportIntervalMs ?? 10_000);
  if (o.metricsPort) await metrics.listen(o.underlay, o.metricsPort, log.child({ component: "metrics" }));

  let stopping: Promise<void> | undefined;
  return {
    nodeId, twinId, capacity,
    stop: () => stopping ??= (async () => {
      reporter.stop();
      await watcher.stop();
      await engine.stop();
      results.close();
      for (const p of provisionersOf(registry)) await p.shutdown?.().catch((err) => log.warn({ err: describeError(err) }, "provisioner shutdown failed"));
      await metrics?.close();
      await removeFile(pidFile).catch(() => {});
    })(),
  };
}

// The node daemon's door: `zos` (bin/zos runs main) and startNode for launchers and benches.
import pino from "pino";
import { describeError, GridError } from "../core/index.js";
import { LedgerClient } from "../ledger/client/index.js";
import { cleanupCommand, zosCommand } from "./cli.js";
import { startNode } from "./node.js";
import { cleanupNode, cleanupText } from "./cleanup.js";

export { startNode, type NodeOptions, type RunningNode } from "./node.js";
export { zosCommand, cleanupCommand, type ZosConfig, type CleanupConfig } from "./cli.js";
export { cleanupNode, cleanupText, type CleanupReport } from "./cleanup.js";
export { cleanupAll, type ContainerCleanup } from "./container/manager.js";
export { runcRoot, runcList } from "./container/runc.js";
export type { Provisioner, WorkloadContext } from "./provisioners/types.js";

/** `zos cleanup ...`: its own command (zos's daemon flags are required, cleanup's are not those). */
async function cleanupMain(argv: string[]): Promise<void> {
  const cmd = cleanupCommand(async (c) => {
    const log = pino({ level: c.logLevel }, pino.destination(2));
    try {
      const r = await cleanupNode(c.dataDir, { purge: c.purge, log });
      process.stdout.write((c.json ? JSON.stringify(r) : cleanupText(r)) + "\n");
    } catch (err) {
      const e = err instanceof GridError ? err.toJSON() : { code: "internal", message: describeError(err) };
      if (c.json) process.stdout.write(JSON.stringify({ error: e }) + "\n");
      process.stderr.write(`zos cleanup: error: ${e.message}${"hint" in e && e.hint ? `\nhint: ${e.hint}` : ""}\n`);
      process.exitCode = 1;
    }
  });
  await cmd.parseAsync(argv, { from: "user" });
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === "cleanup") return cleanupMain(argv.slice(1));
  const cmd = zosCommand(async (c) => {
    const log = pino({ level: c.logLevel, base: { underlay: c.underlay } }, pino.destination(2));
    const ledger = new LedgerClient(c.ledger);
    let node;
    try {
      node = await startNode({
        ledger, signerFor: (keys) => ledger.signer(keys), dataDir: c.dataDir, farmId: c.farmId, underlay: c.underlay,
        capacity: c.capacity, zdbPort: c.zdbPort, metricsPort: c.metricsPort, reportIntervalMs: c.reportIntervalMs,
        simulate: c.simulate, log,
      });
    } catch (err) {
      log.fatal({ err: describeError(err) }, "zos could not start");
      process.stderr.write(`zos: ${describeError(err)}\n`);
      process.exit(1);
    }
    process.stdout.write(JSON.stringify({ nodeId: node.nodeId, twinId: node.twinId, underlay: c.underlay }) + "\n");
    const stop = (signal: string) => {
      log.info({ signal }, "stopping");
      node.stop().then(() => process.exit(0), (err) => { log.error({ err: describeError(err) }, "stop failed"); process.exit(1); });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
  await cmd.parseAsync(argv, { from: "user" });
}

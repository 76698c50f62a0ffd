// The node daemon's door: `zos` (bin/zos runs main) and startNode for launchers and benches.
import pino, { type Logger } from "pino";
import { describeError, toGridError } from "../core/index.js";
import { LedgerClient } from "../ledger/client/index.js";
import { raiseOpenFileLimit, reportCliError, runCli } from "../runtime/index.js";
import { cleanupCommand, zosCommand } from "./cli.js";
import { startNode } from "./node.js";
import { cleanupNode, cleanupText } from "./cleanup.js";

export { startNode, type NodeOptions, type RunningNode } from "./node.js";
export { zosCommand, cleanupCommand, type ZosConfig, type CleanupConfig } from "./cli.js";
export { cleanupNode, cleanupText, type CleanupReport } from "./cleanup.js";
export { cleanupAll, type ContainerCleanup } from "./container/cleanup.js";
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
      // --json: the error body on stdout too, where a script reads the report.
      if (c.json) process.stdout.write(JSON.stringify({ error: toGridError(err).toJSON() }) + "\n");
      reportCliError("zos cleanup", err, false);
    }
  });
  cmd.exitOverride();
  await cmd.parseAsync(argv, { from: "user" });
}

/**
 * A daemon must outlive running out of descriptors or memory: such an error escaping a callback is
 * logged and waited out (the step that hit it reports `exhausted` and is retried). Anything else
 * escaping is a bug, and the process ends as Node would end it.
 */
function survive(log: Logger): void {
  const onEscape = (kind: string) => (err: unknown) => {
    if (toGridError(err).code === "exhausted") { log.error({ err: describeError(err), kind }, "out of a resource (descriptors, memory, disk); continuing"); return; }
    log.fatal({ err: describeError(err), stack: (err as Error)?.stack, kind }, "zos: unexpected error");
    process.exit(1);
  };
  process.on("uncaughtException", onEscape("uncaught exception"));
  process.on("unhandledRejection", onEscape("unhandled rejection"));
}

export async function main(argv: string[]): Promise<void> {
  if (argv[0] === "cleanup") return runCli("zos cleanup", () => cleanupMain(argv.slice(1)));
  await runCli("zos", async () => {
    const cmd = zosCommand(async (c) => {
      const log = pino({ level: c.logLevel, base: { underlay: c.underlay } }, pino.destination(2));
      // Every workload's files, runc's pipes, 0-db's connections and the metrics port share this
      // limit: raised before anything opens, so a flood of one never starves the others.
      const nofile = raiseOpenFileLimit();
      survive(log);
      log.info({ nofile }, "open-file limit");
      const ledger = new LedgerClient(c.ledger);
      const node = await startNode({
        ledger, signerFor: (keys) => ledger.signer(keys), dataDir: c.dataDir, farmId: c.farmId, underlay: c.underlay,
        capacity: c.capacity, zdbPort: c.zdbPort, metricsPort: c.metricsPort, reportIntervalMs: c.reportIntervalMs,
        simulate: c.simulate, gateway: c.gateway, log,
      }).catch((err: unknown) => { log.fatal({ err: describeError(err) }, "zos could not start"); throw err; });
      process.stdout.write(JSON.stringify({ nodeId: node.nodeId, twinId: node.twinId, underlay: c.underlay }) + "\n");
      const stop = (signal: string) => {
        log.info({ signal }, "stopping");
        node.stop().then(() => process.exit(0), (err) => { log.error({ err: describeError(err) }, "stop failed"); reportCliError("zos", err); process.exit(process.exitCode ?? 1); });
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    cmd.exitOverride();
    await cmd.parseAsync(argv, { from: "user" });
  });
  // A daemon that could not start may hold handles (a ledger connection, a 0-db child): end it.
  if (process.exitCode) process.exit(process.exitCode);
}

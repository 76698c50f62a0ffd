// The node daemon's door: `zos` (bin/zos runs main) and startNode for launchers and benches.
import pino from "pino";
import { describeError } from "../core/index.js";
import { LedgerClient } from "../ledger/client/index.js";
import { zosCommand } from "./cli.js";
import { startNode } from "./node.js";

export { startNode, type NodeOptions, type RunningNode } from "./node.js";
export { zosCommand, type ZosConfig } from "./cli.js";
export type { Provisioner, WorkloadContext } from "./provisioners/types.js";

export async function main(argv: string[]): Promise<void> {
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

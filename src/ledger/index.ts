// The ledger ("blockchain database"): `bcdb`. Its only door; the typed client is src/ledger/client.
import { Command, InvalidArgumentError } from "commander";
import pino from "pino";
import { Chain, type ChainOptions } from "./chain.js";
import { createLedgerServer } from "./server.js";
import { verifyLog } from "./verify.js";
import { Verifier } from "./verifier.js";
import { availableParallelism } from "node:os";

export type * from "./types.js";
export { Chain, type ChainOptions } from "./chain.js";
export { verifyLog, type VerifyResult } from "./verify.js";
export { apply, applyBilling } from "./apply.js";

export interface LedgerOptions extends Omit<ChainOptions, "log"> {
  host?: string;
  port?: number;
  faucet?: boolean;
  blockInterval?: number;
  /** Threads that verify signatures (0: on the main thread). Default: 1 when there are 2+ cores. */
  verifyThreads?: number;
  logger?: pino.Logger;
}

export interface RunningLedger { url: string; chain: Chain; close(): Promise<void> }

/** Start a ledger in this process (bcdb's body; tests and the launcher may use it directly). */
export async function startLedger(o: LedgerOptions): Promise<RunningLedger> {
  const log = o.logger ?? pino({ level: "silent" });
  const chain = await Chain.open({ ...o, log });
  // Signature checks run beside the main thread when there is a core to spare.
  const threads = o.verifyThreads ?? (availableParallelism() > 1 ? 1 : 0);
  const verifier = threads > 0 ? new Verifier(threads) : undefined;
  const { server, close } = createLedgerServer(chain, { faucet: !!o.faucet, log, verifier });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const interval = o.blockInterval ?? 1000;
  const timer = setInterval(() => chain.heartbeat(interval), Math.max(5, Math.min(interval, 100)));
  const shown = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shown}:${port}`,
    chain,
    async close() {
      clearInterval(timer);
      await close();
      await verifier?.close();
      await chain.close();
    },
  };
}

function int(name: string, min = 0) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command("bcdb")
    .enablePositionalOptions()
    .description("The grid's ledger: signed transactions in hash-chained blocks, multi-signature contracts, billing, an event stream.")
    .option("--data <dir>", "folder of the block log, snapshots and genesis key", "./bcdb-data")
    .option("--port <port>", "TCP port (0: any free port)", int("--port"), 8080)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--faucet", "serve POST /faucet (mints from the genesis key)", false)
    .option("--block-interval <ms>", "heartbeat: make a block at least this often", int("--block-interval", 1), 1000)
    .option("--billing-period <seconds>", "billing period in ledger seconds (fixed at genesis)", int("--billing-period", 1), 3600)
    .option("--grace-period <seconds>", "grace before an unfunded contract is deleted (fixed at genesis)", int("--grace-period", 0), 7200)
    .option("--report-interval <seconds>", "nodes' report interval; a node is down after 3 without a report", int("--report-interval", 1), 10)
    .option("--snapshot-blocks <n>", "snapshot the state every n blocks", int("--snapshot-blocks", 1), 1000)
    .option("--verify-threads <n>", "threads verifying signatures (0: the main thread; default 1 with 2+ cores)", int("--verify-threads", 0))
    .option("--json", "logs as JSON lines (they are anyway; kept for scripts)", false)
    .option("--log-level <level>", "pino log level", "info")
    .action(async (o) => {
      const logger = pino({ level: o.logLevel, base: { name: "bcdb" } }, pino.destination(2));
      let led: RunningLedger;
      try {
        led = await startLedger({
          dir: o.data, host: o.host, port: o.port, faucet: o.faucet, blockInterval: o.blockInterval,
          billingPeriod: o.billingPeriod, gracePeriod: o.gracePeriod, reportInterval: o.reportInterval, snapshotBlocks: o.snapshotBlocks, verifyThreads: o.verifyThreads, logger,
        });
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        logger.fatal({ err: msg }, "cannot start");
        process.stderr.write(`bcdb: cannot start: ${msg}\n`);
        process.exit(1);
      }
      process.stdout.write(JSON.stringify({ url: led.url, height: led.chain.height }) + "\n");
      logger.info({ url: led.url, height: led.chain.height, data: o.data, faucet: o.faucet }, "ledger ready");
      let stopping = false;
      const stop = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal: sig }, "stopping");
        await led.close();
        process.exit(0);
      };
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGTERM", () => void stop("SIGTERM"));
    });
  program.command("verify <dir>")
    .description("audit a block log offline: checksums, hashes, links, signatures, and that every block applies; exits 1 at the first fault")
    .option("--json", "print the result as JSON", false)
    .action((dir: string, o: { json: boolean }) => {
      const r = verifyLog(dir, (h, total) => { if (!o.json && total > 5000) process.stderr.write(`\rverify: block ${h}/${total}`); });
      if (o.json) process.stdout.write(JSON.stringify(r) + "\n");
      else if (r.ok) process.stdout.write(`ok: ${r.blocks} blocks, ${r.txs} transactions, height ${r.height}${r.tornBytes ? ` (a torn last record of ${r.tornBytes} bytes will be cut off at start)` : ""}\n`);
      else process.stdout.write(`FAILED at height ${r.error!.height}: ${r.error!.message}\n`);
      process.exitCode = r.ok ? 0 : 1;
    });
  await program.parseAsync(argv, { from: "user" });
}

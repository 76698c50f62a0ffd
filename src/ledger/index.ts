// The ledger ("blockchain database"): `bcdb`. Its only door; the typed client is src/ledger/client.
import { Command, InvalidArgumentError } from "commander";
import { ERROR_CATALOGUE, ValidationError, describeError, exitCodeOf } from "../core/index.js";
import { connectionBudget, intFlag, raiseOpenFileLimit, runCli } from "../runtime/index.js";
import pino from "pino";
import { Chain, type ChainOptions } from "./chain.js";
import { createLedgerServer, DEFAULT_LIMITS, type ServerLimits } from "./server.js";
import { auditLog } from "./audit.js";
import { SignaturePool } from "./signature-pool.js";
import { availableParallelism } from "node:os";
import { EtcdClient } from "./etcd/client.js";
import { EtcdReplication } from "./etcd/replication.js";
import { advertisedUrl } from "./advertise.js";

export type * from "./types.js";
export { Chain, type ChainOptions } from "./chain.js";
export { auditLog, type AuditResult } from "./audit.js";
export { apply, applyBilling } from "./apply.js";
export { EtcdClient } from "./etcd/client.js";
export { EtcdReplication } from "./etcd/replication.js";
export { advertisedUrl } from "./advertise.js";

export interface LedgerOptions extends Omit<ChainOptions, "log"> {
  host?: string;
  port?: number;
  faucet?: boolean;
  blockInterval?: number;
  /** Threads that verify signatures (0: on the main thread). Default: 1 when there are 2+ cores. */
  verifyThreads?: number;
  logger?: pino.Logger;
  /** Run as one replica of a ledger ordered through etcd (its v3 JSON gateway URL). */
  etcd?: string;
  /** Key prefix of the ledger in etcd (replicas with the same etcd and prefix form one ledger). */
  etcdPrefix?: string;
  /** The URL other replicas reach this one at (default: http://HOST:PORT of --host/--port; a wildcard host is refused). */
  advertiseUrl?: string;
  /** A replica that cannot follow the ordered chain any more stops; default: exit the process. */
  onFatal?: (e: unknown) => void;
  /** Connection and buffer limits of the API (defaults: DEFAULT_LIMITS, with maxConnections from
   *  the descriptor budget). */
  limits?: Partial<ServerLimits>;
}

/** Descriptors kept for the ledger's own files whatever its clients do: the two logs, a snapshot
 *  being written, the signature threads, etcd's connections, stdio, and room to spare. */
export const FD_RESERVE = 256;

export interface RunningLedger { url: string; chain: Chain; close(): Promise<void> }

/** Start a ledger in this process (bcdb's body; tests and the launcher may use it directly). */
export async function startLedger(o: LedgerOptions): Promise<RunningLedger> {
  const log = o.logger ?? pino({ level: "silent" });
  let rep: EtcdReplication | undefined;
  let chain: Chain;
  // A chain that cannot go on (damage found while running; a replica that cannot follow) stops the
  // process with the error's exit code: a supervisor restarts it, and start-up says what is wrong.
  const onFatal = o.onFatal ?? ((e: unknown) => {
    log.fatal({ err: String(e) }, "the ledger cannot go on; exiting");
    process.stderr.write(`bcdb: stopping: ${describeError(e)}\n`);
    process.exit(exitCodeOf(e));
  });
  // Clients' connections may use every descriptor but the reserve: raise the limit first.
  const fdLimit = raiseOpenFileLimit();
  // Checked before anything starts: a replica that cannot be reached must not join.
  if (o.etcd) advertisedUrl({ host: o.host ?? "127.0.0.1", port: o.port ?? 0, advertiseUrl: o.advertiseUrl });
  else if (o.advertiseUrl !== undefined) throw new ValidationError("--advertise-url is only for a replica", "add --etcd URL, or drop --advertise-url");
  if (o.etcd) {
    rep = new EtcdReplication(new EtcdClient(o.etcd), normalizePrefix(o.etcdPrefix ?? DEFAULT_ETCD_PREFIX), log);
    const genesis = await rep.genesis(o.dir, o);
    chain = await Chain.open({ ...o, log, genesis, orderer: rep, onFatal });
    rep.onFatal = onFatal;
    try { await rep.start(chain); } catch (e) { await chain.close(); throw e; }
    log.info({ etcd: o.etcd, prefix: rep.prefix, height: chain.height }, "replica in step with etcd");
  } else {
    chain = await Chain.open({ ...o, log, onFatal });
  }
  // Signature checks run beside the main thread when there is a core to spare.
  const threads = o.verifyThreads ?? (availableParallelism() > 1 ? 1 : 0);
  const verifier = threads > 0 ? new SignaturePool(threads) : undefined;
  // A replica checks the signatures of the blocks it receives there too.
  if (verifier && rep) chain.verifyOffThread = (canon) => verifier.verify(canon);
  const limits: Partial<ServerLimits> = { ...o.limits, maxConnections: Math.min(o.limits?.maxConnections ?? DEFAULT_LIMITS.maxConnections, connectionBudget(FD_RESERVE, fdLimit)) };
  const { server, close } = createLedgerServer(chain, { faucet: !!o.faucet, log, verifier, limits });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const shown = host.includes(":") ? `[${host}]` : host;
  // Written beside the blocks this replica proposes: the others send their transactions there.
  if (rep) rep.url = advertisedUrl({ host, port: port ?? 0, advertiseUrl: o.advertiseUrl });
  const interval = o.blockInterval ?? 1000;
  const timer = setInterval(() => chain.heartbeat(interval), Math.max(5, Math.min(interval, 100)));
  return {
    url: `http://${shown}:${port}`,
    chain,
    async close() {
      clearInterval(timer);
      await close();
      await rep?.stop();
      await verifier?.close();
      await chain.close();
    },
  };
}

export const DEFAULT_ETCD_PREFIX = "/grid/ledger";

function normalizePrefix(p: string): string {
  const out = p.replace(/\/+$/, "");
  if (!out.startsWith("/")) throw new InvalidArgumentError(`--etcd-prefix must start with "/", got "${p}"`);
  return out;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command("bcdb")
    .enablePositionalOptions()
    .description("The grid's ledger: signed transactions in hash-chained blocks, multi-signature contracts, billing, an event stream.")
    .option("--data <dir>", "folder of the block log, snapshots and genesis key", "./bcdb-data")
    .option("--port <port>", "TCP port (0: any free port)", intFlag("--port"), 8080)
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--advertise-url <url>", "replicas: the URL the others reach this one at (default http://HOST:PORT; required with a wildcard --host such as 0.0.0.0)")
    .option("--faucet", "serve POST /faucet (mints from the genesis key)", false)
    .option("--block-interval <ms>", "heartbeat: make a block at least this often", intFlag("--block-interval", 1), 1000)
    .option("--billing-period <seconds>", "billing period in ledger seconds (fixed at genesis)", intFlag("--billing-period", 1), 3600)
    .option("--grace-period <seconds>", "grace before an unfunded contract is deleted (fixed at genesis)", intFlag("--grace-period", 0), 7200)
    .option("--report-interval <seconds>", "nodes' report interval; a node is down after 2 without a report", intFlag("--report-interval", 1), 10)
    .option("--snapshot-blocks <n>", "snapshot the state every n blocks", intFlag("--snapshot-blocks", 1), 1000)
    .option("--verify-threads <n>", "threads verifying signatures (0: the main thread; default 1 with 2+ cores)", intFlag("--verify-threads", 0))
    .option("--etcd <url>", "run as one replica of a ledger ordered through etcd (v3 JSON gateway, e.g. http://127.0.0.1:2379)")
    .option("--etcd-prefix <prefix>", "key prefix of the ledger in etcd: replicas with the same etcd and prefix form one ledger", DEFAULT_ETCD_PREFIX)
    .option("--max-connections <n>", "most client connections at once (also capped by the open-file limit less a reserve)", intFlag("--max-connections", 1), DEFAULT_LIMITS.maxConnections)
    .option("--idle-timeout <ms>", "close a connection idle this long", intFlag("--idle-timeout", 1), DEFAULT_LIMITS.idleMs)
    .option("--max-subscribers <n>", "most event-stream subscribers at once", intFlag("--max-subscribers", 1), DEFAULT_LIMITS.maxSubscribers)
    .option("--subscriber-buffer <bytes>", "unsent bytes past which an event subscriber is fed from the event log as it drains, not live", intFlag("--subscriber-buffer", 1), DEFAULT_LIMITS.subscriberBufferBytes)
    .option("--blocks-page-bytes <bytes>", "most bytes of blocks in one GET /blocks answer (X-Next-From gives the rest)", intFlag("--blocks-page-bytes", 1), DEFAULT_LIMITS.blocksResponseBytes)
    .option("--subscriber-stall <ms>", "close an event subscriber that has not read for this long (it resumes when it reconnects)", intFlag("--subscriber-stall", 1), DEFAULT_LIMITS.subscriberStallMs)
    .option("--json", "machine-readable output: errors as a JSON body on stderr, verify's result as JSON (the start-up line and the logs are JSON anyway)", false)
    .option("--log-level <level>", "pino log level", "info")
    .action(async (o) => {
      const logger = pino({ level: o.logLevel, base: { name: "bcdb" } }, pino.destination(2));
      let led: RunningLedger;
      try {
        led = await startLedger({
          dir: o.data, host: o.host, port: o.port, faucet: o.faucet, blockInterval: o.blockInterval,
          billingPeriod: o.billingPeriod, gracePeriod: o.gracePeriod, reportInterval: o.reportInterval, snapshotBlocks: o.snapshotBlocks, verifyThreads: o.verifyThreads, logger,
          etcd: o.etcd, etcdPrefix: o.etcdPrefix, advertiseUrl: o.advertiseUrl,
          limits: { maxConnections: o.maxConnections, idleMs: o.idleTimeout, maxSubscribers: o.maxSubscribers, subscriberStallMs: o.subscriberStall,
            subscriberBufferBytes: o.subscriberBuffer, blocksResponseBytes: o.blocksPageBytes },
        });
      } catch (e) {
        logger.fatal({ err: e instanceof Error ? e.message : String(e), hint: (e as { hint?: string }).hint }, "cannot start");
        throw e;
      }
      // One JSON line on stdout once the ledger listens: what scripts and the launcher wait for.
      process.stdout.write(JSON.stringify({ url: led.url, height: led.chain.height, data: o.data }) + "\n");
      logger.info({ url: led.url, height: led.chain.height, data: o.data, faucet: o.faucet, etcd: o.etcd }, "ledger ready");
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
  program.exitOverride();
  program.command("verify <dir>")
    .description("audit a block log offline: checksums, hashes, links, signatures, and that every block applies; exits with the `damaged` code (14) at the first fault")
    .option("--json", "print the result as JSON", false)
    .action((dir: string, o: { json: boolean }) => {
      const json = o.json || program.opts().json;
      const r = auditLog(dir, (h, total) => { if (!json && total > 5000) process.stderr.write(`\rverify: block ${h}/${total}`); });
      if (json) process.stdout.write(JSON.stringify(r) + "\n");
      else if (r.ok) process.stdout.write(`ok: ${r.blocks} blocks, ${r.txs} transactions, height ${r.height}${r.tornBytes ? ` (a torn last record of ${r.tornBytes} bytes will be cut off at start)` : ""}\n`);
      else process.stdout.write(`FAILED at height ${r.error!.height}: ${r.error!.message}\n`);
      // The result is printed already; only the exit status is left to set (damaged: 14).
      if (!r.ok) process.exitCode = ERROR_CATALOGUE[r.error!.code].exit;
    });
  await runCli("bcdb", async () => { await program.parseAsync(argv, { from: "user" }); }, argv.includes("--json"));
}

// The explorer: the grid in a browser, read-only. Its only door: `bin/explorer` (main) and
// startExplorer for the launcher and tests. It reads the ledger through its client and event stream
// only, holds no key and sends no transaction.
import { Command } from "commander";
import pino from "pino";
import { intFlag, raiseOpenFileLimit, runCli, type ListenerLimits } from "../runtime/index.js";
import { bundleApp } from "./bundle.js";
import { Mirror } from "./mirror.js";
import { createExplorerServer, defaultLimits } from "./server.js";

export type * from "./api.js";

export interface ExplorerOptions {
  /** The ledger's URL (http://host:port). */
  ledger: string;
  host?: string;
  /** 0: any free port. */
  port?: number;
  logger?: pino.Logger;
  /** Resolve only once the ledger's state is loaded (default true); false serves 503 until then. */
  waitForLedger?: boolean;
  /** The listener's limits (default: defaultLimits() in server.ts); tests shorten the deadlines. */
  limits?: Partial<ListenerLimits>;
}

export interface RunningExplorer { url: string; mirror: Mirror; live(): number; refused(): number; close(): Promise<void> }

export async function startExplorer(o: ExplorerOptions): Promise<RunningExplorer> {
  const log = o.logger ?? pino({ level: "silent" });
  const app = await bundleApp();
  const mirror = new Mirror(o.ledger, log);
  const loaded = mirror.start();
  if (o.waitForLedger !== false) await loaded;
  const { server, live, refused, close } = createExplorerServer(mirror, app, log, { ...defaultLimits(), ...o.limits });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, host, () => { server.off("error", reject); resolve(); });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}/`,
    mirror, live, refused,
    async close() { mirror.close(); await close(); },
  };
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command("explorer")
    .description("The grid in a browser: nodes, farms, twins, contracts and blocks, live from the ledger (read-only)")
    .option("--ledger <url>", "the ledger's URL", "http://127.0.0.1:8080")
    .option("--host <host>", "address to bind", "127.0.0.1")
    .option("--port <port>", "TCP port (0: any free port)", intFlag("--port"), 8090)
    .option("--log-level <level>", "pino log level", "info")
    .exitOverride();
  await runCli("explorer", async () => {
    await program.parseAsync(argv, { from: "user" });
    const o = program.opts<{ ledger: string; host: string; port: number; logLevel: string }>();
    const logger = pino({ level: o.logLevel, base: { name: "explorer" } }, pino.destination(2));
    raiseOpenFileLimit();
    const ex = await startExplorer({ ledger: o.ledger, host: o.host, port: o.port, logger, waitForLedger: false });
    process.stdout.write(JSON.stringify({ url: ex.url, ledger: o.ledger }) + "\n");
    logger.info({ url: ex.url, ledger: o.ledger }, "explorer ready");
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping");
      await ex.close();
      process.exit(0);
    };
    process.on("SIGINT", () => void stop("SIGINT"));
    process.on("SIGTERM", () => void stop("SIGTERM"));
  });
}

// bin/zhub: the flist hub, an HTTP server whose chunks and documents live in a 0-db namespace.
import { Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { createHubServer } from "./server.js";
import { HubStore, parseHostPort } from "./store.js";

export async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name("zhub")
    .description("The flist hub: HTTP API for content chunks and flists, stored in 0-db (Redis protocol).\nPrints {\"url\":...} on stdout once it serves; logs (pino JSON) go to stderr.")
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--port <port>", "listen port (0 = any free port)", (v) => { const n = Number(v); if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError("a port number"); return n; }, 8080)
    .requiredOption("--zdb <host:port>", "the 0-db (or any Redis-protocol server) holding chunks and flists")
    .option("--zdb-namespace <ns>", "0-db namespace to SELECT (default: the connection's default namespace)")
    .option("--zdb-password <pw>", "the namespace's password (or ZHUB_ZDB_PASSWORD)")
    .option("--log-level <level>", "pino log level", "info")
    .option("--json", "print the ready line as JSON (it always is; kept for scripts)")
    .showHelpAfterError();
  program.parse(argv, { from: "user" });
  const o = program.opts<{ host: string; port: number; zdb: string; zdbNamespace?: string; zdbPassword?: string; logLevel: string }>();
  const log = pino({ level: o.logLevel, base: { svc: "zhub" } }, pino.destination(2));
  let zdb;
  try { zdb = parseHostPort(o.zdb); } catch (e) { console.error(`zhub: --zdb: ${(e as Error).message}`); process.exit(2); }
  const store = new HubStore({ ...zdb, namespace: o.zdbNamespace, password: o.zdbPassword ?? process.env.ZHUB_ZDB_PASSWORD });
  try { await store.connect(); } catch (e) { console.error(`zhub: ${(e as Error).message}`); process.exit(1); }
  const server = createHubServer({ store, log });
  await new Promise<void>((res, rej) => { server.once("error", rej); server.listen(o.port, o.host, res); });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  process.stdout.write(`${JSON.stringify({ url: `http://${host}:${port}` })}\n`);
  log.info({ port, zdb: o.zdb, namespace: o.zdbNamespace }, "hub ready");
  const stop = () => { server.close(); void store.close(); setTimeout(() => process.exit(0), 200).unref(); };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

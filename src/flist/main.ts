// bin/zhub: the flist hub, an HTTP server whose chunks and documents live in a 0-db namespace.
import { Command } from "commander";
import { pino } from "pino";
import { ValidationError } from "../core/index.js";
import { intFlag, raiseOpenFileLimit, runCli } from "../runtime/index.js";
import { createHubServer, HUB_LIMITS } from "./server.js";
import { HUB_PASSWORD_ENV, HubStore, parseHostPort } from "./hub-store.js";

export function main(argv: string[]): Promise<void> {
  return runCli("zhub", () => serve(argv), argv.includes("--json"));
}

async function serve(argv: string[]): Promise<void> {
  const program = new Command()
    .name("zhub")
    .description("The flist hub: HTTP API for content chunks and flists, stored in 0-db (Redis protocol).\nPrints {\"url\":...} on stdout once it serves; logs (pino JSON) go to stderr.")
    .option("--host <host>", "listen address", "127.0.0.1")
    .option("--port <port>", "listen port (0 = any free port)", intFlag("--port"), 8080)
    .requiredOption("--zdb <host:port>", "the 0-db (or any Redis-protocol server) holding chunks and flists")
    .option("--zdb-namespace <ns>", "0-db namespace to SELECT (default: the connection's default namespace)")
    .option("--max-connections <n>", "concurrent connections (capped by the open-file limit)", intFlag("--max-connections", 1), HUB_LIMITS.maxConnections)
    .option("--max-per-address <n>", "concurrent connections from one address", intFlag("--max-per-address", 1), HUB_LIMITS.maxPerAddress)
    .option("--idle-timeout <ms>", "close a connection idle this long", intFlag("--idle-timeout", 1), HUB_LIMITS.idleMs)
    .option("--headers-timeout <ms>", "a request's headers must arrive within this", intFlag("--headers-timeout", 1), HUB_LIMITS.headersMs)
    .option("--max-upload-bytes <n>", "bytes of request bodies held at once, all uploads together (more: 507, retry)", intFlag("--max-upload-bytes", 1), HUB_LIMITS.bodyBytes)
    .option("--log-level <level>", "pino log level", "info")
    .option("--json", "print the ready line as JSON (it always is) and errors as a JSON body")
    .addHelpText("after", `\nEnvironment:\n  ${HUB_PASSWORD_ENV}  the store's password: the namespace's, or the 0-db admin password for a\n                     --protect'ed default namespace. Never a flag (ps shows flags to every user).\n` +
      "\nzhub refuses to start when the store does not accept that password or does not let it write.")
    .exitOverride()
    .showHelpAfterError();
  program.parse(argv, { from: "user" });
  const o = program.opts<{ host: string; port: number; zdb: string; zdbNamespace?: string; logLevel: string; maxConnections: number; maxPerAddress: number; idleTimeout: number; headersTimeout: number; maxUploadBytes: number }>();
  if (o.port > 65535) throw new ValidationError(`--port must be at most 65535 (got ${o.port})`);
  const log = pino({ level: o.logLevel, base: { svc: "zhub" } }, pino.destination(2));
  const fds = raiseOpenFileLimit();
  const password = process.env[HUB_PASSWORD_ENV] || undefined;
  const store = new HubStore({ ...parseHostPort(o.zdb), namespace: o.zdbNamespace, password });
  // A store that refuses us ends the process: ioredis would otherwise keep reconnecting forever.
  try { await store.connect(); } catch (e) { await store.close(); throw e; }
  if (await store.openToAnyone()) log.warn({ zdb: o.zdb, namespace: o.zdbNamespace ?? "default" }, `the store lets anyone write (no password): whoever reaches ${o.zdb} can overwrite chunks and records (the hub still refuses to serve what fails its checks); run it with a password and set ${HUB_PASSWORD_ENV}`);
  const server = createHubServer({ store, log, limits: { maxConnections: o.maxConnections, maxPerAddress: o.maxPerAddress, idleMs: o.idleTimeout, headersMs: o.headersTimeout, bodyBytes: o.maxUploadBytes } });
  try {
    await new Promise<void>((res, rej) => { server.once("error", rej); server.listen(o.port, o.host, () => { server.off("error", rej); res(); }); });
  } catch (e) { await store.close(); throw e; }
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  process.stdout.write(`${JSON.stringify({ url: `http://${host}:${port}` })}\n`);
  log.info({ port, zdb: o.zdb, namespace: o.zdbNamespace, fds }, "hub ready");
  const stop = () => { server.close(); void store.close(); setTimeout(() => process.exit(0), 200).unref(); };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

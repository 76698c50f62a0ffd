// The 0-db part's only door: the CLI entry (`bin/zdb`) and a programmatic server for other parts.
import { spawn } from "node:child_process";
import * as path from "node:path";
import { Command } from "commander";
import { UnavailableError, ValidationError } from "../core/index.js";
import { intFlag, raiseOpenFileLimit, runCli } from "../runtime/index.js";
import { makeLogger, type Logger } from "./log.js";
import type { Mode } from "./namespace.js";
import { Server } from "./server.js";

export { hashPassword } from "./commands/index.js";
export { encodeCommand, decodeReply, RespError, type RespValue } from "./resp.js";

export interface ZdbServerOptions {
  listen?: string;         // default 127.0.0.1 programmatically, 0.0.0.0 from the CLI (as the real 0-db)
  port?: number;           // 0 = any free port
  socket?: string;
  data: string;
  index?: string;          // default: <data>/../index beside data, i.e. `${data}-index` when omitted
  mode?: Mode;
  datasize?: number;
  sync?: boolean;
  synctime?: number;
  admin?: string;
  protect?: boolean;
  maxsize?: number;
  replicate?: string;
  replicatePassword?: string;
  syncReplicas?: number;
  verbose?: boolean;
  logfile?: string;
  logger?: Logger;
  now?: () => number;
  /** Concurrent connections; default: the open-file limit less a reserve for the server's files. */
  maxConnections?: number;
  /** Close a connection silent for this long (ms); 0 (default) = never. */
  idleMs?: number;
  /** Read sockets through the ordinary 'data' events, not the shared read buffer (also ZDB_PLAIN_READS=1). */
  plainReads?: boolean;
}

export interface ZdbServerHandle {
  port: number;
  socket?: string;
  /** Milliseconds the index took to load at start-up. */
  loadMs: number;
  close(): Promise<void>;
}

export const DEFAULT_DATASIZE = 256 * 1024 * 1024;
const MAX_DATASIZE = 0xffffffff; // data offsets are 32-bit

export async function startZdbServer(o: ZdbServerOptions): Promise<ZdbServerHandle> {
  if (o.protect && !o.admin) throw new ValidationError("--protect needs --admin");
  const datasize = Math.min(o.datasize ?? DEFAULT_DATASIZE, MAX_DATASIZE);
  if (datasize < 1024) throw new ValidationError("--datasize must be at least 1024 bytes");
  const log = o.logger ?? makeLogger({ verbose: o.verbose, logfile: o.logfile });
  const server = new Server({
    listen: o.listen ?? "127.0.0.1", port: o.port ?? 0, socket: o.socket,
    data: o.data, index: o.index ?? path.join(o.data, "..", path.basename(o.data) + "-index"),
    mode: o.mode ?? "user", datasize, sync: o.sync ?? false, synctime: o.synctime ?? 0,
    admin: o.admin || undefined, protect: o.protect ?? false, maxsize: o.maxsize ?? 0,
    replicate: o.replicate, replicatePassword: o.replicatePassword, syncReplicas: o.syncReplicas ?? 0, log, now: o.now,
    maxConnections: o.maxConnections, idleMs: o.idleMs, plainReads: o.plainReads,
  });
  await server.start();
  const handle: ZdbServerHandle = { port: server.port, socket: o.socket, loadMs: server.loadMs, close: () => server.close() };
  server.onStop = () => { /* STOP from a client: the CLI exits via its own hook */ };
  (handle as { server?: Server }).server = server;
  return handle;
}

/** The `zdb` command: flags, then the server until SIGTERM/SIGINT or STOP. Bad flags exit 2, a
 *  server that cannot start exits with its error's code (e.g. 11 when the port is taken). */
export async function main(argv: string[]): Promise<void> {
  await runCli("zdb", () => run(argv));
}

async function run(argv: string[]): Promise<void> {
  const program = new Command()
    .name("zdb")
    .description("0-db: an always-append key-value store speaking the Redis protocol, with namespaces")
    .option("--listen <addr>", "listen address", "0.0.0.0")
    .option("--port <port>", "listen port (0 = any free port)", intFlag("--port"), 9900)
    .option("--socket <path>", "listen on a unix socket (TCP too only if --port is given)")
    .option("--data <dir>", "data files directory", "./zdb-data")
    .option("--index <dir>", "index files directory", "./zdb-index")
    .option("--mode <mode>", "index mode: user (key-value) or seq (sequential ids)", "user")
    .option("--datasize <bytes>", "data file size before rotation", intFlag("--datasize"), DEFAULT_DATASIZE)
    .option("--sync", "acknowledge a write only once it is on disk (group commit per event-loop turn)", false)
    .option("--synctime <seconds>", "fsync the data files every N seconds", intFlag("--synctime"), 0)
    .option("--admin <password>", "admin password (visible in ps to every user; prefer the ZDB_ADMIN environment variable)")
    .option("--protect", "default namespace read-only unless SELECTed with the admin password", false)
    .option("--maxsize <bytes>", "size limit of the default namespace", intFlag("--maxsize"), 0)
    .option("--replicate <host:port>", "follow this master's append stream and serve reads (replica)")
    .option("--replicate-password <password>", "the master's admin password (visible in ps to every user; prefer the ZDB_REPLICATE_PASSWORD environment variable)")
    .option("--sync-replicas <n>", "acknowledge writes only once n replicas hold them", intFlag("--sync-replicas"), 0)
    .option("--max-connections <n>", "concurrent client connections (default: the open-file limit less 512)", intFlag("--max-connections", 1))
    .option("--idle-timeout <seconds>", "close a connection silent this long (0 = never, as the real 0-db)", intFlag("--idle-timeout"), 0)
    .option("-v, --verbose", "debug logging", false)
    .option("--background", "detach and run in the background", false)
    .option("--logfile <path>", "write logs to this file instead of stderr")
    .addHelpText("after", "\nEnvironment:\n  ZDB_ADMIN               the admin password, as --admin but not visible in ps (--admin wins when both are given)\n" +
      "  ZDB_REPLICATE_PASSWORD  the master's admin password, as --replicate-password but not visible in ps\n" +
      "                          (--replicate-password wins when both are given)\n" +
      "  ZDB_PLAIN_READS=1       read sockets through ordinary 'data' events (the fallback read path)\n")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv, { from: "user" });
  const o = program.opts<{
    listen: string; port: number; socket?: string; data: string; index: string; mode: string; datasize: number;
    sync: boolean; synctime: number; admin?: string; protect: boolean; maxsize: number; replicate?: string;
    replicatePassword?: string; syncReplicas: number; verbose: boolean; background: boolean; logfile?: string;
    maxConnections?: number; idleTimeout: number;
  }>();
  // A password on the command line is readable by every user of the machine (ps, /proc/PID/cmdline);
  // the environment is readable only by the same user (/proc/PID/environ is mode 0400).
  if (o.admin === undefined && process.env.ZDB_ADMIN) o.admin = process.env.ZDB_ADMIN;
  if (o.replicatePassword === undefined && process.env.ZDB_REPLICATE_PASSWORD) o.replicatePassword = process.env.ZDB_REPLICATE_PASSWORD;
  if (o.mode !== "user" && o.mode !== "seq") throw new ValidationError("--mode must be user or seq");
  if (o.protect && !o.admin) throw new ValidationError("--protect needs --admin");

  if (o.background) {
    const args = argv.filter((a) => a !== "--background");
    const child = spawn(process.execPath, [process.argv[1], ...args], { detached: true, stdio: "ignore" });
    child.unref();
    process.stdout.write(`zdb: running in the background, pid ${child.pid}\n`);
    return;
  }

  // Every client connection is a descriptor: take what the machine allows (the cap on
  // connections keeps a reserve of it for the server's own files).
  const fdLimit = raiseOpenFileLimit();
  let handle: ZdbServerHandle;
  try {
    handle = await startZdbServer({
      listen: o.listen, port: o.port, socket: o.socket, data: path.resolve(o.data), index: path.resolve(o.index),
      mode: o.mode, datasize: o.datasize, sync: o.sync, synctime: o.synctime, admin: o.admin, protect: o.protect,
      maxsize: o.maxsize, replicate: o.replicate, replicatePassword: o.replicatePassword, syncReplicas: o.syncReplicas,
      verbose: o.verbose, logfile: o.logfile, maxConnections: o.maxConnections, idleMs: o.idleTimeout * 1000,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE" || e.code === "EACCES" || e.code === "EADDRNOTAVAIL") {
      throw new UnavailableError(`cannot listen on ${o.socket ?? `${o.listen}:${o.port}`}: ${e.code}`, "choose another --port or stop what holds it", { cause: err });
    }
    throw err;
  }
  const server = (handle as { server?: Server }).server!;
  const shutdown = () => { void handle.close().then(() => process.exit(0)); };
  server.onStop = () => process.exit(0);
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  const where = o.socket ? `unix:${o.socket}` : `${o.listen}:${handle.port}`;
  process.stdout.write(`0-db listening on ${where} port ${handle.port} (open-file limit ${fdLimit})\n`);
}

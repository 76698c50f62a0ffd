// The node's own 0-db: one `bin/zdb` child process on the underlay address, supervised (restarted
// if it dies). Its pid is kept in a file so that after a `kill -9` of zos the next zos stops the
// orphan before starting its own: never two servers on one data folder, never a port clash.
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, closeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "pino";
import { UnavailableError, describeError } from "../core/index.js";
import { ensureDir, readJson, removeFile, writeFileAtomic } from "../runtime/index.js";
import { Redis, ReplyError } from "ioredis";
import { loadOrCreatePassword } from "./identity.js";
import { pidAlive } from "../runtime/index.js";

/** Whether an error is 0-db's own answer (an error reply), not a failure to reach it. */
export function isZdbReply(err: unknown): err is Error {
  return err instanceof (ReplyError as new () => Error);
}

/** A connection to the node's 0-db (ioredis): no offline queue and no reconnects of its own, so a
 *  command on a dead server fails at once and ZdbServer decides when to open a new one. */
async function openZdb(host: string, port: number, timeoutMs = 5000): Promise<Redis> {
  const r = new Redis({
    host, port, lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0,
    enableOfflineQueue: false, enableReadyCheck: false, retryStrategy: () => null,
  });
  r.on("error", () => { /* surfaced by the command that fails */ });
  try { await r.connect(); } catch (err) { r.disconnect(); throw err; }
  return r;
}

export interface ZdbServerOptions {
  listen: string;
  port: number;
  /** The node's data folder; the server keeps everything under `${dataDir}/zdb/`. */
  dataDir: string;
  log: Logger;
  /** Path of the zdb executable (default: this checkout's bin/zdb). */
  bin?: string;
}

export const DEFAULT_ZDB_BIN = fileURLToPath(new URL("../../../bin/zdb", import.meta.url));

async function waitFor(cond: () => boolean | Promise<boolean>, ms: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** The pid file of the 0-db a node runs for its data folder. */
export function zdbPidFile(dataDir: string): string {
  return join(dataDir, "zdb", "zdb.pid");
}

/**
 * Stops the 0-db a previous zos left running on this data folder (after a `kill -9`), if any. Only
 * a process whose command line names this folder's data is touched, so a reused pid is never hit.
 * Resolves with its pid and whether it stopped, or null when there was none.
 */
export async function stopOrphanZdb(dataDir: string): Promise<{ pid: number; stopped: boolean } | null> {
  const rec = await readJson<{ pid: number }>(zdbPidFile(dataDir)).catch(() => undefined);
  const pid = rec?.pid;
  if (!pid || !pidAlive(pid)) return null;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  if (!cmdline.includes(join(dataDir, "zdb", "data"))) return null;
  process.kill(pid, "SIGTERM");
  if (!(await waitFor(() => !pidAlive(pid), 5000))) {
    process.kill(pid, "SIGKILL");
    await waitFor(() => !pidAlive(pid), 5000);
  }
  return { pid, stopped: !pidAlive(pid) };
}

export class ZdbServer {
  private child?: ChildProcess;
  private stopping = false;
  private restarts = 0;
  private password = "";
  private adminConn?: Promise<Redis>;
  private ready?: Promise<void>;
  private readonly dir: string;
  private readonly pidFile: string;

  constructor(private readonly opts: ZdbServerOptions) {
    this.dir = join(opts.dataDir, "zdb");
    this.pidFile = zdbPidFile(opts.dataDir);
  }

  get address(): { host: string; port: number } {
    return { host: this.opts.listen, port: this.opts.port };
  }

  async start(): Promise<void> {
    await ensureDir(join(this.dir, "data"));
    await ensureDir(join(this.dir, "index"));
    this.password = await loadOrCreatePassword(join(this.dir, "admin.key"));
    await this.replaceOrphan();
    this.ready = this.spawnAndWait();
    await this.ready;
  }

  /** A zdb left running by a previous zos (kill -9) holds the port and the data: stop it first. */
  private async replaceOrphan(): Promise<void> {
    const orphan = await stopOrphanZdb(this.opts.dataDir);
    if (orphan) this.opts.log.info(orphan, "stopped the 0-db left by a previous run");
  }

  private async spawnAndWait(): Promise<void> {
    const o = this.opts;
    const logFd = openSync(join(this.dir, "zdb.log"), "a", 0o600);
    const args = [
      o.bin ?? DEFAULT_ZDB_BIN, "--listen", o.listen, "--port", String(o.port),
      "--data", join(this.dir, "data"), "--index", join(this.dir, "index"),
      "--mode", "user", "--protect",
    ];
    // The admin password goes in the environment, not on the command line that every user can read.
    const child = spawn(process.execPath, args, { stdio: ["ignore", logFd, logFd], env: { ...process.env, ZDB_ADMIN: this.password } });
    closeSync(logFd);
    this.child = child;
    let exited = false;
    child.once("exit", (code, signal) => {
      exited = true;
      this.adminConn = undefined;
      if (this.stopping || this.child !== child) return;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(this.restarts++, 6));
      o.log.warn({ code, signal, restartInMs: delay }, "0-db exited; restarting it");
      setTimeout(() => {
        if (this.stopping) return;
        this.ready = this.spawnAndWait().catch((err) => o.log.error({ err: describeError(err) }, "0-db did not come back"));
      }, delay);
    });
    if (child.pid) await writeFileAtomic(this.pidFile, JSON.stringify({ pid: child.pid }));
    const up = await waitFor(async () => {
      if (exited) return true;
      try {
        const c = await openZdb(o.listen, o.port, 1000);
        try { await c.ping(); return true; } finally { c.disconnect(); }
      } catch { return false; }
    }, 15_000, 50);
    if (exited || !up) {
      throw new UnavailableError(`0-db did not start on ${o.listen}:${o.port}`, `see ${join(this.dir, "zdb.log")}`);
    }
    this.restarts = 0;
    o.log.info({ pid: child.pid, listen: o.listen, port: o.port }, "0-db running");
  }

  /** An authenticated admin connection (reconnects when the server restarted). */
  async admin(): Promise<Redis> {
    if (this.ready) await this.ready.catch(() => {});
    if (!this.adminConn) {
      const p = (async () => {
        const c = await openZdb(this.opts.listen, this.opts.port);
        c.once("close", () => { if (this.adminConn === p) this.adminConn = undefined; });
        await c.call("AUTH", this.password);
        return c;
      })();
      this.adminConn = p;
      p.catch(() => { if (this.adminConn === p) this.adminConn = undefined; });
    }
    return this.adminConn;
  }

  /** Run one admin command, reconnecting once if the connection went away. An error reply of
   *  0-db rejects as is (see isZdbReply). */
  async call(cmd: string, ...args: Array<string | number>): Promise<unknown> {
    try {
      return await (await this.admin()).call(cmd, ...args);
    } catch (err) {
      if (isZdbReply(err)) throw err;
      const stale = this.adminConn;
      this.adminConn = undefined;
      if (stale) (await stale.catch(() => undefined))?.disconnect();
      return (await this.admin()).call(cmd, ...args);
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const conn = this.adminConn;
    this.adminConn = undefined;
    if (conn) (await conn.catch(() => undefined))?.disconnect();
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const done = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await done;
      clearTimeout(t);
    }
    await removeFile(this.pidFile).catch(() => {});
  }
}

// One HAProxy in master-worker mode (`-W -db`: the master stays our child), supervised: restarted
// when it dies (killed -9 included) with the configuration on disk, reloaded with SIGUSR2 — the
// master starts new workers on the new file and the old ones finish their open connections
// (`hard-stop-after` bounds how long) — so a change of routes never drops a connection.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { InternalError, UnavailableError } from "../../core/index.js";
import { pidAlive } from "../../runtime/index.js";

export interface HaproxyProcessOptions {
  bin?: string;
  configFile: string;
  pidFile: string;
  log: Logger;
}

const BACKOFF_MS = [100, 250, 500, 1000, 2000, 5000];

export class HaproxyProcess {
  #child: ChildProcess | undefined;
  #stopping = false;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The end of the last exited master's stderr: why it died. */
  lastError = "";
  readonly #o: HaproxyProcessOptions;
  readonly #bin: string;

  constructor(o: HaproxyProcessOptions) { this.#o = o; this.#bin = o.bin ?? "haproxy"; }

  /** The master's pid while it runs. */
  get pid(): number | undefined { return this.#child?.exitCode === null && this.#child.pid && pidAlive(this.#child.pid) ? this.#child.pid : undefined; }
  get restarts(): number { return this.#restarts; }

  /** `haproxy -c`: refuse a configuration before it replaces a working one. */
  validate(file = this.#o.configFile): void {
    const r = spawnSync(this.#bin, ["-c", "-q", "-f", file], { encoding: "utf8", timeout: 10_000 });
    if (r.error) throw new UnavailableError(`cannot run ${this.#bin}: ${r.error.message}`, "install haproxy (scripts/setup.sh)", { cause: r.error });
    if (r.status !== 0) throw new InternalError(`generated haproxy configuration is refused: ${(r.stdout + r.stderr).trim().slice(0, 1000)}`);
  }

  /** Start it (after stopping a master a previous zos left behind, found by its pid file). */
  async start(): Promise<void> {
    this.#stopping = false;
    await this.stopLeftover();
    this.#spawn();
  }

  #spawn(): void {
    const child = spawn(this.#bin, ["-W", "-db", "-f", this.#o.configFile, "-p", this.#o.pidFile], { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    let err = "";
    child.stderr?.on("data", (d: Buffer) => { if (err.length < 4000) err += d.toString(); });
    child.on("error", (e) => this.#o.log.error({ err: e.message }, "haproxy failed to start"));
    child.on("exit", (code, signal) => {
      if (this.#child !== child) return;
      this.lastError = err.trim().slice(-500);
      this.#child = undefined;
      if (this.#stopping) return;
      const ms = BACKOFF_MS[Math.min(this.#restarts, BACKOFF_MS.length - 1)]!;
      this.#restarts++;
      this.#o.log.warn({ code, signal, stderr: err.trim().slice(-500), restartInMs: ms }, "haproxy exited; restarting it");
      this.#timer = setTimeout(() => { this.#timer = undefined; if (!this.#stopping) this.#spawn(); }, ms);
    });
  }

  /** Load the configuration file again without dropping open connections. */
  reload(): void {
    const pid = this.pid;
    // Not running (between two restarts): the next start reads the new file anyway.
    if (pid) process.kill(pid, "SIGUSR2");
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const gone = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  }

  /** Stops the master a previous zos left running (found by its pid file); resolves with its pid, or
   *  null when there was none. Used at start and by `zos cleanup`. */
  async stopLeftover(): Promise<number | null> {
    let pid: number;
    try { pid = Number(readFileSync(this.#o.pidFile, "utf8").trim().split("\n")[0]); } catch { return null; }
    if (!pidAlive(pid)) return null;
    let cmd = "";
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch { return null; }
    // Only our own master (its command line names our configuration file), never a stranger reusing the pid.
    if (!cmd.includes("haproxy") || !cmd.includes(this.#o.configFile)) return null;
    this.#o.log.info({ pid }, "stopping the haproxy a previous zos left running");
    process.kill(pid, "SIGTERM");
    for (let i = 0; i < 100 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
    return pid;
  }
}

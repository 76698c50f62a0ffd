// Supervision of a node's running containers: one poll loop notices a process gone (restarted
// after a back-off that grows while it keeps failing), an OOM kill (the whole container is killed
// and restarted, and the kill counted), a crash loop (CRASH_LOOP.restarts exits within
// CRASH_LOOP.windowMs: still restarted, but reported as failing with its exit and last output until
// it stays up a whole window), and does the log housekeeping (shipping, rotation).
import type { Logger } from "pino";
import { formatBytes } from "../../core/index.js";
import { pidAlive } from "../../runtime/index.js";
import { oomKills } from "./cgroups.js";
import { logTail, rotateLog } from "./logs.js";
import type { Runtime } from "./runc.js";
import type { ContainerSpec, Live, Saved } from "./spec.js";
import { join } from "node:path";
import { readFileSync } from "node:fs";

/** A container that exits this many times within this window is crash-looping (docs/containers.md). */
export const CRASH_LOOP = { restarts: 5, windowMs: 60_000 };

/** What the supervisor needs of the manager that owns the containers. */
export interface SupervisorHost {
  readonly live: ReadonlyMap<string, Live>;
  runtime(): Promise<Runtime>;
  cgroupPath(id: string): string;
  dir(id: string): string;
  save(s: Saved): Promise<void>;
  /** Runs `f` after whatever else is being done to container `id`. */
  serial<T>(id: string, f: () => Promise<T>): Promise<T>;
  startProcess(spec: ContainerSpec, saved: Saved): Promise<number>;
}

export interface SupervisorOptions {
  log: Logger;
  pollMs: number;
  backoff: { baseMs: number; maxMs: number };
  logMaxBytes?: number;
  /** What counts as a crash loop (default CRASH_LOOP). */
  crashLoop?: { restarts: number; windowMs: number };
}

export class Supervisor {
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private lastHousekeeping = 0;

  readonly loop: { restarts: number; windowMs: number };

  constructor(private readonly host: SupervisorHost, private readonly o: SupervisorOptions) {
    this.loop = o.crashLoop ?? CRASH_LOOP;
  }

  /** A container is tracked: make sure the loop runs. */
  watch(): void {
    if (!this.ticker) this.ticker = setInterval(() => { void this.tick(); }, this.o.pollMs);
  }

  /** A container is no longer tracked: stop the loop when none is left. */
  forget(): void {
    if (!this.host.live.size && this.ticker) { clearInterval(this.ticker); this.ticker = undefined; }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const house = Date.now() - this.lastHousekeeping > 1000;
      if (house) this.lastHousekeeping = Date.now();
      for (const l of [...this.host.live.values()]) {
        if (l.crashLoop && !l.restarting && pidAlive(l.pid) && Date.now() - l.startedAt > this.loop.windowMs) {
          // Up a whole window since its last restart: no longer failing.
          l.crashLoop = false;
          l.exits = [];
          l.unreported = true;
          this.o.log.info({ container: l.spec.id }, "container stable again after a crash loop");
          l.onChange?.();
        }
        if (!l.restarting && !l.paused && pidAlive(l.pid) && await oomKills(this.host.cgroupPath(l.spec.id)) > 0) {
          // The kernel killed a process of the container for exceeding the limit: whatever it left
          // running is in an unknown state, so the whole container is killed and restarted.
          await (await this.host.runtime()).kill(l.saved.runcId, "KILL");
          await waitGone(l.pid);
        }
        if (!l.restarting && !pidAlive(l.pid)) await this.exited(l).catch((e) => this.o.log.error({ container: l.spec.id, err: String(e) }, "handling exit failed"));
        if (house) await this.housekeeping(l).catch((e) => this.o.log.warn({ container: l.spec.id, err: String(e) }, "log housekeeping failed"));
      }
    } finally { this.ticking = false; }
  }

  private async housekeeping(l: Live): Promise<void> {
    const file = join(this.host.dir(l.spec.id), "logs", "output.log");
    await l.shipper?.pump();
    if (await rotateLog(file, this.o.logMaxBytes)) l.shipper?.rotated();
    if (l.shipper && l.shipper.offset !== l.saved.logOffset) { l.saved.logOffset = l.shipper.offset; await this.host.save(l.saved); }
  }

  /** The container's process is gone: find out why, clean its runc state, restart after a back-off. */
  private async exited(l: Live): Promise<void> {
    const id = l.spec.id;
    if (this.host.live.get(id) !== l) return;
    l.restarting = true;
    // Read while it may still be a zombie: once reaped, its status is gone for good.
    const code = exitCodeOf(l.pid);
    const oom = await oomKills(this.host.cgroupPath(id));
    const isOom = oom > 0;
    const now = Date.now();
    const ran = now - l.startedAt;
    l.saved.restarts++;
    if (isOom) l.saved.oomKills++;
    const how = isOom ? `killed: out of memory (over its ${formatBytes(l.spec.memory)} limit)` : `exited${code !== null ? ` with code ${code}` : ""} after ${Math.round(ran / 1000)}s`;
    l.saved.lastExit = `${how}; restarted`;
    l.saved.exitCode = isOom ? 137 : code;
    l.saved.tail = await logTail(join(this.host.dir(id), "logs", "output.log")).catch(() => "");
    l.exits = [...l.exits.filter((t) => now - t < this.loop.windowMs), now];
    if (!l.crashLoop && l.exits.length >= this.loop.restarts) {
      l.crashLoop = true;
      this.o.log.warn({ container: id, restarts: l.exits.length, windowMs: this.loop.windowMs }, "container is crash-looping");
    }
    await this.host.save(l.saved);
    this.o.log.warn({ container: id, oom: isOom, code, restarts: l.saved.restarts }, isOom ? "container killed for exceeding its memory limit; restarting" : "container exited; restarting");
    // Together (no await between): whoever is told finds the news.
    l.unreported = true;
    l.onChange?.();
    const rt = await this.host.runtime();
    await rt.delete(l.saved.runcId);
    if (ran > 30_000) l.backoffMs = this.o.backoff.baseMs;
    const wait = l.backoffMs;
    l.backoffMs = Math.min(this.o.backoff.maxMs, l.backoffMs * 2);
    l.timer = setTimeout(() => {
      void this.host.serial(id, async () => {
        if (this.host.live.get(id) !== l) return;
        try {
          l.pid = await this.host.startProcess(l.spec, l.saved);
          l.startedAt = Date.now();
          l.restarting = false;
        } catch (e) {
          l.saved.lastExit = `restart failed: ${(e as Error).message}`;
          this.o.log.error({ container: id, err: (e as Error).message }, "container restart failed");
          l.restarting = false;
          l.pid = -1; // the next tick sees it gone and backs off again
        }
      });
    }, wait);
  }
}

/** The exit code (or 128+signal) of `pid` while it is a zombie not yet reaped; null once it is gone
 *  (a detached container's process is not the node's child: its parent may have reaped it). */
export function exitCodeOf(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    if (f[0] !== "Z") return null;
    // Field 52 (exit_code, since Linux 3.5), in waitpid's form; f[0] is field 3.
    const st = Number(f[49]);
    if (!Number.isInteger(st)) return null;
    return st & 0x7f ? 128 + (st & 0x7f) : (st >> 8) & 0xff;
  } catch { return null; }
}

/** Waits (bounded) until `pid` is gone. */
export async function waitGone(pid: number, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; pidAlive(pid) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

// Supervision of a node's running containers: one poll loop notices a process gone (restarted
// after a back-off that grows while it keeps failing), an OOM kill (the whole container is killed
// and restarted, and the kill counted), and does the log housekeeping (shipping, rotation).
import type { Logger } from "pino";
import { formatBytes } from "../../core/index.js";
import { pidAlive } from "../../runtime/index.js";
import { oomKills } from "./cgroups.js";
import { rotateLog } from "./logs.js";
import type { Runtime } from "./runc.js";
import type { ContainerSpec, Live, Saved } from "./spec.js";
import { join } from "node:path";

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
}

export class Supervisor {
  private ticker?: NodeJS.Timeout;
  private ticking = false;
  private lastHousekeeping = 0;

  constructor(private readonly host: SupervisorHost, private readonly o: SupervisorOptions) {}

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
    const oom = await oomKills(this.host.cgroupPath(id));
    const isOom = oom > 0;
    const ran = Date.now() - l.startedAt;
    l.saved.restarts++;
    if (isOom) l.saved.oomKills++;
    l.saved.lastExit = isOom ? `killed: out of memory (over its ${formatBytes(l.spec.memory)} limit); restarted` : `exited after ${Math.round(ran / 1000)}s; restarted`;
    l.unreported = true;
    await this.host.save(l.saved);
    this.o.log.warn({ container: id, oom: isOom, restarts: l.saved.restarts }, isOom ? "container killed for exceeding its memory limit; restarting" : "container exited; restarting");
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

/** Waits (bounded) until `pid` is gone. */
export async function waitGone(pid: number, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; pidAlive(pid) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

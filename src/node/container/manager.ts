// Runs containers for one node: a root from an flist (overlayfs), a prepared network namespace,
// runc with cgroup limits, pause/resume, adoption of running containers after a node restart, and
// removal that leaves no process, mount, namespace, cgroup or folder behind. Supervision (exits,
// OOM kills, logs) is supervisor.ts; node-wide cleanup is cleanup.ts; cgroups, entrypoint checks
// and the saved state have their own files.
import { createHash } from "node:crypto";
import { lstat, mkdir, open, readFile, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { DeploymentFailedError, ValidationError } from "../../core/index.js";
import { pidAlive } from "../../runtime/index.js";
import { ociConfig } from "./oci.js";
import { LogShipper, logTail } from "./logs.js";
import { mountRootfs, unmountRootfs, type RootfsPaths } from "./rootfs.js";
import { netNames, netnsIp, planOf, removeNetns, setupNetns, teardownNetns, type NetPlan } from "./netns.js";
import { NetPool } from "./netpool.js";
import { detectRuntime, runcRoot, Runtime } from "./runc.js";
import { removeCgroups } from "./cgroups.js";
import { checkEntrypoint } from "./entrypoint.js";
import { Supervisor, waitGone } from "./supervisor.js";
import { attach } from "../network/index.js";
import { loadSaved, specHash, writeSaved, type ContainerSpec, type ContainerStatus, type Live, type Saved } from "./spec.js";

export type { ContainerSpec, ContainerStatus } from "./spec.js";
export { specHash } from "./spec.js";

export interface ManagerOptions {
  dataDir: string;
  log: Logger;
  runtime?: string;
  pollMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  logMaxBytes?: number;
  /** Network namespaces kept prepared for the next starts (default 2; 0: each start makes its own). */
  netPool?: number;
  /** What counts as a crash loop (default CRASH_LOOP: 5 exits within 60 s). */
  crashLoop?: { restarts: number; windowMs: number };
}

/** Waits (bounded) until the container's first process has exec'd its program: `runc run -d`
 *  returns just before that, so a program that cannot be executed (a missing interpreter, a bad
 *  binary) is only known once the process is either gone or no longer `runc init`. */
async function execDone(pid: number, ms = 2000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 2))) {
    const comm = await readFile(`/proc/${pid}/comm`, "utf8").catch(() => "");
    if (!comm.startsWith("runc:") || !pidAlive(pid)) return;
  }
}

export class ContainerManager {
  readonly root: string;
  readonly dataDir: string;
  /** Short hash of the data folder: containers of several nodes on one machine never collide in
   *  runc ids or cgroup paths. */
  readonly tag: string;
  private rt?: Runtime;
  private live = new Map<string, Live>();
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly log: Logger;
  private readonly supervisor: Supervisor;
  readonly pool: NetPool;

  constructor(private readonly opts: ManagerOptions) {
    this.root = join(opts.dataDir, "container");
    this.dataDir = opts.dataDir;
    this.tag = createHash("sha256").update(opts.dataDir).digest("hex").slice(0, 8);
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    this.log = opts.log;
    this.supervisor = new Supervisor({
      live: this.live,
      runtime: () => this.runtime(),
      cgroupPath: (id) => this.cgroupPath(id),
      dir: (id) => this.dir(id),
      save: (saved) => this.save(saved),
      serial: (id, f) => this.serial(id, f),
      startProcess: (spec, saved) => this.startProcess(spec, saved),
    }, { log: this.log, pollMs: opts.pollMs ?? 200, backoff: this.backoff, logMaxBytes: opts.logMaxBytes, crashLoop: opts.crashLoop });
    this.pool = new NetPool(join(this.root, ".netpool"), opts.netPool ?? 2, this.log, () => this.netnsOwned());
  }

  /** At the node's start: take back the namespaces a killed node process had prepared. */
  async warm(): Promise<void> { await this.pool.resume(); }

  /** The namespaces named by the containers' saved states. */
  private async netnsOwned(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      const s = id.startsWith(".") ? null : await this.loadSaved(id);
      if (s?.netns) out.add(s.netns);
    }
    return out;
  }

  /** The OCI runtime, found on first use. */
  async runtime(): Promise<Runtime> {
    if (!this.rt) {
      const bin = this.opts.runtime ?? await detectRuntime();
      await mkdir(runcRoot(this.opts.dataDir), { recursive: true, mode: 0o700 });
      this.rt = new Runtime(bin, runcRoot(this.opts.dataDir));
    }
    return this.rt;
  }
  dir(id: string): string { return join(this.root, id); }
  runcId(id: string): string { return `${this.tag}-${id}`; }
  cgroupPath(id: string): string { return `/grid/${this.runcId(id)}`; }
  /** The key a container's network namespace name is derived from (unique per node and container). */
  netKey(id: string): string { return `${this.opts.dataDir}\0${id}`; }

  loadSaved(id: string): Promise<Saved | null> { return loadSaved(this.dir(id)); }
  private save(s: Saved): Promise<void> { return writeSaved(this.dir(s.id), s); }

  /** Start, or adopt a running container with the same spec. Resolves once its process runs. */
  async ensure(spec: ContainerSpec): Promise<ContainerStatus> {
    return this.serial(spec.id, () => this.ensureNow(spec));
  }

  private serial<T>(id: string, f: () => Promise<T>): Promise<T> {
    const l = this.live.get(id);
    if (!l) return f();
    const p = l.busy.then(f, f);
    l.busy = p.catch(() => undefined);
    return p;
  }

  private async ensureNow(spec: ContainerSpec): Promise<ContainerStatus> {
    const rt = await this.runtime();
    const hash = specHash(spec);
    const dir = this.dir(spec.id);
    const prev = await this.loadSaved(spec.id);
    // Nothing saved: nothing to adopt, and no need to ask runc.
    const st = prev || this.live.has(spec.id) ? await rt.state(this.runcId(spec.id)) : null;
    const l = this.live.get(spec.id);
    if (prev && prev.specHash === hash && st && (st.status === "running" || st.status === "paused")) {
      // The overlay veth outlives a node restart; checked (and remade if its network was remade).
      if (spec.network) await attach(prev.netns, spec.network);
      if (l) { l.spec = spec; return this.status(spec.id)!; }
      // Adopt what survived a node restart.
      this.track(spec, prev, st.pid, st.status === "paused");
      this.log.info({ container: spec.id, pid: st.pid }, "adopted running container");
      return this.status(spec.id)!;
    }
    if (l) this.untrack(spec.id);
    if (st) await rt.delete(this.runcId(spec.id));
    if (prev && prev.flistHash !== spec.flistHash) await unmountRootfs(dir);
    await mkdir(join(dir, "logs"), { recursive: true, mode: 0o700 });
    const saved: Saved = {
      id: spec.id, runcId: this.runcId(spec.id), specHash: hash, flistHash: spec.flistHash, ip: "", netns: netNames(this.netKey(spec.id)).netns,
      restarts: prev?.specHash === hash ? prev.restarts : 0, oomKills: prev?.specHash === hash ? prev.oomKills : 0,
      lastExit: prev?.specHash === hash ? prev.lastExit : undefined, exitCode: prev?.specHash === hash ? prev.exitCode : undefined, tail: prev?.specHash === hash ? prev.tail : undefined, logOffset: prev?.logOffset ?? 0, createdAt: new Date().toISOString(),
    };
    // The network and the root are independent: prepared at the same time. The namespace is the one
    // the container had (an update keeps its IP), else one prepared in advance, else made now.
    const kept = prev?.netns ? await netnsIp(prev.netns).then((ip) => ip && planOf(prev.netns, ip)) : null;
    const pooled = kept ? null : await this.pool.take();
    const network = (async () => {
      const net: NetPlan = kept || pooled || await setupNetns(this.netKey(spec.id));
      saved.ip = net.ip;
      saved.netns = net.netns;
      await this.save(saved);
      if (pooled) await this.pool.handOver(pooled);
      if (spec.network) await attach(net.netns, spec.network);
    })();
    const root = this.prepareRoot(spec);
    try {
      const [n, r] = await Promise.allSettled([network, root]);
      if (n.status === "rejected") throw n.reason;
      if (r.status === "rejected") throw r.reason;
      const pid = await this.startProcess(spec, saved, r.value);
      this.track(spec, saved, pid, false);
    } finally {
      // Replace what this start used (or fill the pool at the first start), now that it no longer
      // competes for the CPU.
      this.pool.refill();
    }
    return this.status(spec.id)!;
  }

  /** The container's root mounted and checked: the entrypoint is there, the volumes too. */
  private async prepareRoot(spec: ContainerSpec): Promise<RootfsPaths> {
    // Looked up in the flist's tree while the root is being mounted: a fresh writable layer is
    // empty, so the root is that tree; over an older layer (a restart) it is looked up again.
    const inLower = checkEntrypoint(spec.lower, spec.args, spec.env).then(() => null, (e: unknown) => e);
    const paths = await mountRootfs(this.dir(spec.id), spec.lower, spec.rootfsSize);
    const missing = paths.fresh ? await inLower : await checkEntrypoint(paths.rootfs, spec.args, spec.env).then(() => null, (e: unknown) => e);
    if (missing) throw missing;
    for (const m of spec.mounts) {
      if (!(await lstat(m.source).then((s) => s.isDirectory(), () => false))) throw new ValidationError(`volume for ${m.destination} is not there (${m.source})`);
      await mkdir(join(paths.rootfs, m.destination), { recursive: true });
    }
    return paths;
  }

  private async startProcess(spec: ContainerSpec, saved: Saved, prepared?: RootfsPaths): Promise<number> {
    const rt = await this.runtime();
    const dir = this.dir(spec.id);
    const paths = prepared ?? await this.prepareRoot(spec);
    const cfg = ociConfig({
      rootfs: paths.rootfs, args: spec.args, env: spec.env, cwd: spec.cwd, hostname: spec.id.slice(0, 63),
      netnsPath: `/var/run/netns/${saved.netns}`, cgroupsPath: this.cgroupPath(spec.id),
      memoryBytes: spec.memory, cpus: spec.cpu, pids: spec.pids ?? 4096, mounts: spec.mounts,
    });
    // config.json holds the clear env: it is written on the container's tmpfs and removed as soon
    // as runc has read it.
    const cfgPath = join(paths.bundle, "config.json");
    await writeFile(cfgPath, JSON.stringify(cfg), { mode: 0o600 });
    const out = await open(join(dir, "logs", "output.log"), "a", 0o600);
    try {
      await rt.run(saved.runcId, paths.bundle, out.fd, join(dir, "logs", "runc.log"));
    } finally {
      await out.close();
      await unlink(cfgPath).catch(() => {});
    }
    const pid = await rt.pid(saved.runcId);
    if (pid) await execDone(pid);
    if (!pid || !pidAlive(pid)) {
      const tail = await logTail(join(dir, "logs", "output.log"), { lines: 5, bytes: 1024 }).catch(() => "");
      throw new DeploymentFailedError(`container ${spec.id} did not start: its process is gone right away${tail ? `; its last output: ${tail}` : ", printing nothing"}`, `see ${join(dir, "logs", "output.log")}`);
    }
    return pid;
  }

  private track(spec: ContainerSpec, saved: Saved, pid: number, paused: boolean): void {
    const l: Live = { spec, saved, pid, startedAt: Date.now(), backoffMs: this.backoff.baseMs, restarting: false, paused, unreported: false, busy: Promise.resolve(), exits: [], crashLoop: false };
    if (spec.logs) l.shipper = new LogShipper(join(this.dir(spec.id), "logs", "output.log"), spec.logs, saved.logOffset);
    this.live.set(spec.id, l);
    this.supervisor.watch();
  }
  private untrack(id: string): void {
    const l = this.live.get(id);
    if (!l) return;
    clearTimeout(l.timer);
    l.shipper?.close();
    this.live.delete(id);
    this.supervisor.forget();
  }


  /**
   * Stops the process of every container that bind-mounts `source` (their root, network and state
   * stay) so that the file system under it can be worked on offline, and returns what starts them
   * again. The supervisor leaves them alone meanwhile (they count as restarting).
   */
  async holdMounts(source: string): Promise<() => Promise<void>> {
    const held = [...this.live.values()].filter((l) => l.spec.mounts.some((m) => m.source === source));
    for (const l of held) {
      await this.serial(l.spec.id, async () => {
        l.restarting = true;
        clearTimeout(l.timer);
        const rt = await this.runtime();
        if (l.paused) await rt.resume(l.saved.runcId).catch(() => {});
        l.paused = false;
        await rt.kill(l.saved.runcId, "KILL");
        await waitGone(l.pid);
        await rt.delete(l.saved.runcId);
        this.log.info({ container: l.spec.id, source }, "container stopped while its volume is worked on");
      });
    }
    return async () => {
      for (const l of held) {
        await this.serial(l.spec.id, async () => {
          if (this.live.get(l.spec.id) !== l) return;
          try {
            l.pid = await this.startProcess(l.spec, l.saved);
            l.startedAt = Date.now();
          } catch (e) {
            // The supervisor takes it from here (a dead pid is restarted with back-off).
            l.saved.lastExit = `restart after a volume change failed: ${(e as Error).message}`;
            l.pid = -1;
          }
          l.restarting = false;
        });
      }
    };
  }

  status(id: string): ContainerStatus | null {
    const l = this.live.get(id);
    if (!l) return null;
    return {
      state: l.paused ? "paused" : l.restarting ? "restarting" : "running", ip: l.saved.ip, restarts: l.saved.restarts, oomKills: l.saved.oomKills,
      lastExit: l.saved.lastExit, crashLoop: l.crashLoop, exitCode: l.saved.exitCode, tail: l.saved.tail,
    };
  }

  /** What counts as a crash loop here. */
  get crashLoopRule(): { restarts: number; windowMs: number } { return this.supervisor.loop; }

  /** `f` is called when container `id` changes by itself (an exit, a crash loop, a recovery). */
  onChange(id: string, f: () => void): void {
    const l = this.live.get(id);
    if (l) l.onChange = f;
  }

  /** An exit not yet reported upward (read once). */
  takeUnreported(id: string): ContainerStatus | null {
    const l = this.live.get(id);
    if (!l || !l.unreported) return null;
    l.unreported = false;
    return this.status(id);
  }

  async pause(id: string): Promise<void> {
    await this.serial(id, async () => {
      const l = this.live.get(id);
      const rt = await this.runtime();
      const st = await rt.state(this.runcId(id));
      if (st?.status === "running") await rt.pause(this.runcId(id));
      if (l) { l.paused = true; clearTimeout(l.timer); }
    });
  }
  async resume(id: string): Promise<void> {
    await this.serial(id, async () => {
      const l = this.live.get(id);
      const rt = await this.runtime();
      const st = await rt.state(this.runcId(id));
      if (st?.status === "paused") await rt.resume(this.runcId(id));
      if (l) l.paused = false;
    });
  }

  /** Stops and removes everything of container `id`; idempotent. */
  async remove(id: string): Promise<void> {
    await this.serial(id, async () => {
      this.untrack(id);
      const saved = await this.loadSaved(id);
      const rt = await this.runtime();
      const rid = this.runcId(id);
      const st = await rt.state(rid);
      if (st?.status === "paused") await rt.resume(rid).catch(() => {});
      if (st) { await rt.kill(rid, "KILL"); await rt.delete(rid); }
      await unmountRootfs(this.dir(id));
      if (saved?.netns) await removeNetns(saved.netns);
      await teardownNetns(this.netKey(id)); // made before its state was saved
      await removeCgroups(this.cgroupPath(id));
      await rm(this.dir(id), { recursive: true, force: true });
    });
  }

  /** Stop watching (containers keep running: they are adopted on the next start); the pool goes. */
  async shutdown(): Promise<void> {
    for (const id of [...this.live.keys()]) this.untrack(id);
    await this.pool.close();
  }

  ids(): string[] { return [...this.live.keys()]; }
}


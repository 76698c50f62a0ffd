// Runs containers for one node: a root from an flist (overlayfs), a prepared network namespace,
// runc with cgroup limits, output to a rotated file (and 0-db when asked), restarts with back-off,
// OOM kills noticed and reported, pause/resume, adoption of running containers after a node
// restart, and removal that leaves no process, mount, namespace, cgroup or folder behind.
import { createHash } from "node:crypto";
import { lstat, mkdir, open, readdir, readFile, readlink, realpath, rm, rmdir, unlink, writeFile, rename } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { DeploymentFailedError, formatBytes, ValidationError } from "../../core/index.js";
import { ociConfig } from "./oci.js";
import { LogShipper, rotateLog, type LogTarget } from "./logs.js";
import { mountRootfs, unmountRootfs, type RootfsPaths } from "./rootfs.js";
import { netNames, netnsExists, netnsIp, planOf, removeNetns, setupNetns, teardownNetns, type NetPlan } from "./netns.js";
import { CommandError, mountPoints, sh, unmount } from "./sys.js";
import { NetPool } from "./netpool.js";
import { detectRuntime, runcRoot, Runtime } from "./runc.js";
import { pidAlive } from "../../runtime/index.js";

/** What `removeAll` removed (runc ids, mount points, namespaces, veths, cgroup folders) and what it could not. */
export interface ContainerCleanup { containers: string[]; mounts: string[]; netns: string[]; veths: string[]; cgroups: string[]; errors: string[] }

/** Everything a node's container runtime made on this machine for `dataDir` (see removeAll). */
export async function cleanupAll(dataDir: string, log: Logger, opts: { purge?: boolean } = {}): Promise<ContainerCleanup> {
  return new ContainerManager({ dataDir, log, netPool: 0 }).removeAll(opts);
}

export interface ContainerSpec {
  /** `${contractId}-${name}`: unique on the node. */
  id: string;
  flistHash: string;
  lower: string;
  args: string[];
  /** KEY=VALUE, secrets included: kept in memory and on the container's tmpfs only. */
  env: string[];
  cwd: string;
  memory: number;
  cpu: number;
  rootfsSize: number;
  pids?: number;
  mounts: Array<{ source: string; destination: string }>;
  logs?: LogTarget;
}

/** What survives a node restart (no secrets: the env is rebuilt from the sealed workload). */
interface Saved { id: string; runcId: string; specHash: string; flistHash: string; ip: string; netns: string; restarts: number; oomKills: number; lastExit?: string; logOffset: number; createdAt: string }

export interface ContainerStatus { state: "running" | "paused" | "restarting" | "stopped"; ip: string; restarts: number; oomKills: number; lastExit?: string }

interface Live { spec: ContainerSpec; saved: Saved; pid: number; startedAt: number; backoffMs: number; timer?: NodeJS.Timeout; restarting: boolean; paused: boolean; shipper?: LogShipper; unreported: boolean; busy: Promise<unknown> }

export interface ManagerOptions {
  dataDir: string;
  log: Logger;
  runtime?: string;
  pollMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  logMaxBytes?: number;
  /** Network namespaces kept prepared for the next starts (default 2; 0: each start makes its own). */
  netPool?: number;
}

/** Hash of what decides how a container runs (env included, so a secret change restarts it). */
export function specHash(s: ContainerSpec): string {
  return createHash("sha256").update(JSON.stringify({ ...s, lower: undefined })).digest("hex");
}

export class ContainerManager {
  readonly root: string;
  private tag: string;
  private rt?: Runtime;
  private live = new Map<string, Live>();
  private ticker?: NodeJS.Timeout;
  private readonly pollMs: number;
  private readonly backoff: { baseMs: number; maxMs: number };
  private readonly log: Logger;
  readonly pool: NetPool;

  constructor(private readonly opts: ManagerOptions) {
    this.root = join(opts.dataDir, "container");
    // Containers of several nodes on one machine must not collide in runc ids or cgroup paths.
    this.tag = createHash("sha256").update(opts.dataDir).digest("hex").slice(0, 8);
    this.pollMs = opts.pollMs ?? 200;
    this.backoff = opts.backoff ?? { baseMs: 500, maxMs: 30_000 };
    this.log = opts.log;
    this.pool = new NetPool(join(this.root, ".netpool"), opts.netPool ?? 2, this.log, () => this.netnsOwned());
  }

  /** At the node's start: take back the namespaces a killed node process had prepared. */
  async warm(): Promise<void> { await this.pool.resume(); }

  /** The namespaces named by the containers' saved states. */
  private async netnsOwned(): Promise<Set<string>> {
    const out = new Set<string>();
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      const s = id.startsWith(".") ? null : await this.load(id);
      if (s?.netns) out.add(s.netns);
    }
    return out;
  }

  private async runtime(): Promise<Runtime> {
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
  private netKey(id: string): string { return `${this.opts.dataDir}\0${id}`; }

  private async load(id: string): Promise<Saved | null> {
    try { return JSON.parse(await readFile(join(this.dir(id), "state.json"), "utf8")) as Saved; } catch { return null; }
  }
  private async save(s: Saved): Promise<void> {
    const p = join(this.dir(s.id), "state.json");
    await writeFile(`${p}.tmp`, JSON.stringify(s));
    await rename(`${p}.tmp`, p);
  }

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
    const prev = await this.load(spec.id);
    // Nothing saved: nothing to adopt, and no need to ask runc.
    const st = prev || this.live.has(spec.id) ? await rt.state(this.runcId(spec.id)) : null;
    const l = this.live.get(spec.id);
    if (prev && prev.specHash === hash && st && (st.status === "running" || st.status === "paused")) {
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
      lastExit: prev?.specHash === hash ? prev.lastExit : undefined, logOffset: prev?.logOffset ?? 0, createdAt: new Date().toISOString(),
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
    if (!pid || !pidAlive(pid)) throw new DeploymentFailedError(`container ${spec.id} did not start: its process is gone right away`, `see ${join(dir, "logs", "output.log")}`);
    return pid;
  }

  private track(spec: ContainerSpec, saved: Saved, pid: number, paused: boolean): void {
    const l: Live = { spec, saved, pid, startedAt: Date.now(), backoffMs: this.backoff.baseMs, restarting: false, paused, unreported: false, busy: Promise.resolve() };
    if (spec.logs) l.shipper = new LogShipper(join(this.dir(spec.id), "logs", "output.log"), spec.logs, saved.logOffset);
    this.live.set(spec.id, l);
    if (!this.ticker) this.ticker = setInterval(() => { void this.tick(); }, this.pollMs);
  }
  private untrack(id: string): void {
    const l = this.live.get(id);
    if (!l) return;
    clearTimeout(l.timer);
    l.shipper?.close();
    this.live.delete(id);
    if (!this.live.size && this.ticker) { clearInterval(this.ticker); this.ticker = undefined; }
  }

  private ticking = false;
  private lastHousekeeping = 0;
  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const house = Date.now() - this.lastHousekeeping > 1000;
      if (house) this.lastHousekeeping = Date.now();
      for (const l of [...this.live.values()]) {
        if (!l.restarting && !l.paused && pidAlive(l.pid) && await oomKills(this.cgroupPath(l.spec.id)) > 0) {
          // The kernel killed a process of the container for exceeding the limit: whatever it left
          // running is in an unknown state, so the whole container is killed and restarted.
          await (await this.runtime()).kill(l.saved.runcId, "KILL");
          await waitGone(l.pid);
        }
        if (!l.restarting && !pidAlive(l.pid)) await this.exited(l).catch((e) => this.log.error({ container: l.spec.id, err: String(e) }, "handling exit failed"));
        if (house) await this.housekeeping(l).catch((e) => this.log.warn({ container: l.spec.id, err: String(e) }, "log housekeeping failed"));
      }
    } finally { this.ticking = false; }
  }

  private async housekeeping(l: Live): Promise<void> {
    const file = join(this.dir(l.spec.id), "logs", "output.log");
    await l.shipper?.pump();
    if (await rotateLog(file, this.opts.logMaxBytes)) l.shipper?.rotated();
    if (l.shipper && l.shipper.offset !== l.saved.logOffset) { l.saved.logOffset = l.shipper.offset; await this.save(l.saved); }
  }

  /** The container's process is gone: find out why, clean its runc state, restart after a back-off. */
  private async exited(l: Live): Promise<void> {
    const id = l.spec.id;
    if (this.live.get(id) !== l) return;
    l.restarting = true;
    const oom = await oomKills(this.cgroupPath(id));
    const isOom = oom > 0;
    const ran = Date.now() - l.startedAt;
    l.saved.restarts++;
    if (isOom) l.saved.oomKills++;
    l.saved.lastExit = isOom ? `killed: out of memory (over its ${formatBytes(l.spec.memory)} limit); restarted` : `exited after ${Math.round(ran / 1000)}s; restarted`;
    l.unreported = true;
    await this.save(l.saved);
    this.log.warn({ container: id, oom: isOom, restarts: l.saved.restarts }, isOom ? "container killed for exceeding its memory limit; restarting" : "container exited; restarting");
    const rt = await this.runtime();
    await rt.delete(l.saved.runcId);
    if (ran > 30_000) l.backoffMs = this.backoff.baseMs;
    const wait = l.backoffMs;
    l.backoffMs = Math.min(this.backoff.maxMs, l.backoffMs * 2);
    l.timer = setTimeout(() => {
      void this.serial(id, async () => {
        if (this.live.get(id) !== l) return;
        try {
          l.pid = await this.startProcess(l.spec, l.saved);
          l.startedAt = Date.now();
          l.restarting = false;
        } catch (e) {
          l.saved.lastExit = `restart failed: ${(e as Error).message}`;
          this.log.error({ container: id, err: (e as Error).message }, "container restart failed");
          l.restarting = false;
          l.pid = -1; // the next tick sees it gone and backs off again
        }
      });
    }, wait);
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
    return { state: l.paused ? "paused" : l.restarting ? "restarting" : "running", ip: l.saved.ip, restarts: l.saved.restarts, oomKills: l.saved.oomKills, lastExit: l.saved.lastExit };
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
      const saved = await this.load(id);
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

  /**
   * With no node running on the data folder: removes every container of it and everything they
   * hold — runc containers (killed, deleted), their overlay and tmpfs mounts, the network namespaces
   * (theirs, and the prepared pool's) with their veths, their cgroups. The containers' folders (their
   * logs and saved state, no secrets) stay unless `purge`. Idempotent: a second call removes nothing.
   */
  async removeAll(opts: { purge?: boolean } = {}): Promise<ContainerCleanup> {
    const out: ContainerCleanup = { containers: [], mounts: [], netns: [], veths: [], cgroups: [], errors: [] };
    const fail = (what: string, e: unknown) => out.errors.push(`${what}: ${(e as Error).message}`);
    const realRoot = await realpath(this.root).catch(() => null);
    if (!realRoot) return out;
    const mountsBefore = mountsBelow(await mountPoints(), realRoot);
    // The processes first: a namespace or a mount in use by a container would outlive its removal.
    if (await lstat(runcRoot(this.opts.dataDir)).then(() => true, () => false)) {
      const rt = await this.runtime();
      const listed = await rt.list().catch((e: unknown) => { fail("runc list", e); return []; });
      for (const c of listed) {
        if (c.status === "paused") await rt.resume(c.id).catch(() => {});
        await rt.kill(c.id, "KILL");
      }
      for (const c of listed) await waitGone(c.pid);
      for (const c of listed) {
        await rt.delete(c.id).then(() => out.containers.push(c.id), (e: unknown) => fail(`runc delete ${c.id}`, e));
      }
    }
    const names = new Set<string>();
    const removeNs = async (netns: string) => {
      names.add(netns);
      if (!(await netnsExists(netns))) return;
      await removeNetns(netns).then(() => out.netns.push(netns), (e: unknown) => fail(`netns ${netns}`, e));
    };
    for (const id of await readdir(this.root).catch(() => [] as string[])) {
      if (id.startsWith(".")) continue;
      await unmountRootfs(this.dir(id)).catch((e: unknown) => fail(`unmount ${id}`, e));
      const saved = await this.load(id);
      if (saved?.netns) await removeNs(saved.netns);
      await removeNs(netNames(this.netKey(id)).netns); // made before its state was saved
    }
    // The pool's prepared namespaces (a killed node leaves its records).
    const poolDir = join(this.root, ".netpool");
    for (const f of await readdir(poolDir).catch(() => [] as string[])) {
      if (!f.endsWith(".json")) continue;
      const plan = await readFile(join(poolDir, f), "utf8").then((t) => JSON.parse(t) as NetPlan, () => null);
      if (plan?.netns) await removeNs(plan.netns);
      await unlink(join(poolDir, f)).catch(() => {});
    }
    // A host-side veth whose namespace went first (a half-made pair), in this network namespace.
    const veths = await sh("ip", ["-o", "link", "show", "type", "veth"]).catch(() => "");
    for (const m of veths.matchAll(/^\d+: (vh[0-9a-f]+)[@:]/gm)) {
      if (!names.has(`gc-${m[1].slice(2)}`)) continue;
      // The kernel tears a removed namespace down in the background: its veth may vanish meanwhile.
      await sh("ip", ["link", "del", m[1]]).then(() => out.veths.push(m[1]), (e: CommandError) => { if (!/Cannot find device/i.test(e.stderr)) fail(`veth ${m[1]}`, e); });
    }
    // Cgroups of any container of this node (runc removes them; a killed one may leave them).
    for (const dir of await cgroupsOfTag(this.tag)) {
      await rmdir(dir).then(() => out.cgroups.push(dir), (e: NodeJS.ErrnoException) => { if (e.code !== "ENOENT") fail(`cgroup ${dir}`, e); });
    }
    // Whatever is still mounted below the containers' folder, deepest first.
    for (const m of mountsBelow(await mountPoints(), realRoot)) await unmount(m).catch((e: unknown) => fail(`unmount ${m}`, e));
    const left = new Set(mountsBelow(await mountPoints(), realRoot));
    out.mounts = mountsBefore.filter((m) => !left.has(m));
    for (const m of left) out.errors.push(`${m} is still mounted`);
    if (opts.purge && !out.errors.length) await rm(this.root, { recursive: true, force: true });
    return out;
  }

  /** Stop watching (containers keep running: they are adopted on the next start); the pool goes. */
  async shutdown(): Promise<void> {
    for (const id of [...this.live.keys()]) this.untrack(id);
    await this.pool.close();
  }

  ids(): string[] { return [...this.live.keys()]; }
}

async function waitGone(pid: number, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; pidAlive(pid) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
}

const CGROUP_ROOT = "/sys/fs/cgroup";

async function oomKills(cgroupPath: string): Promise<number> {
  const v1 = await readFile(`${CGROUP_ROOT}/memory${cgroupPath}/memory.oom_control`, "utf8").catch(() => null);
  if (v1) return Number(/oom_kill (\d+)/.exec(v1)?.[1] ?? 0);
  const v2 = await readFile(`${CGROUP_ROOT}${cgroupPath}/memory.events`, "utf8").catch(() => null);
  return v2 ? Number(/oom_kill (\d+)/.exec(v2)?.[1] ?? 0) : 0;
}

/** The cgroup folders of a container in every hierarchy (runc removes them; this makes sure). */
export async function cgroupDirs(cgroupPath: string): Promise<string[]> {
  const { readdir } = await import("node:fs/promises");
  const out: string[] = [];
  for (const h of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const p = `${CGROUP_ROOT}/${h}${cgroupPath}`;
    if (await lstat(p).then(() => true, () => false)) out.push(p);
  }
  if (await lstat(`${CGROUP_ROOT}${cgroupPath}`).then(() => true, () => false)) out.push(`${CGROUP_ROOT}${cgroupPath}`);
  return out;
}
/** The cgroup folders of every container of a node (runc ids `${tag}-…` under /grid), deepest first. */
async function cgroupsOfTag(tag: string): Promise<string[]> {
  const parents = (await readdir(CGROUP_ROOT).catch(() => [] as string[])).map((h) => `${CGROUP_ROOT}/${h}/grid`).concat([`${CGROUP_ROOT}/grid`]);
  const out: string[] = [];
  for (const p of parents) {
    // cpu and cpuacct (cgroup v1) are often one hierarchy under two names: counted once.
    for (const e of await readdir(p).catch(() => [] as string[])) if (e.startsWith(`${tag}-`)) out.push(await realpath(`${p}/${e}`).catch(() => `${p}/${e}`));
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

function mountsBelow(points: Set<string>, dir: string): string[] {
  return [...points].filter((p) => p.startsWith(dir + "/")).sort((a, b) => b.length - a.length);
}

async function removeCgroups(cgroupPath: string): Promise<void> {
  for (const p of await cgroupDirs(cgroupPath)) await rmdir(p).catch(() => {});
}

/** Resolves `p` inside `root` as the container would (absolute symlinks stay inside the root). */
async function resolveInRoot(root: string, p: string): Promise<string | null> {
  let parts = p.split("/").filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length; ) {
    const s = parts.shift()!;
    if (s === ".") continue;
    if (s === "..") { done.pop(); continue; }
    const abs = join(root, ...done, s);
    const st = await lstat(abs).catch(() => null);
    if (!st) return null;
    if (st.isSymbolicLink()) {
      if (++hops > 40) return null;
      const t = await readlink(abs);
      if (t.startsWith("/")) done.length = 0;
      parts = [...t.split("/").filter(Boolean), ...parts];
      continue;
    }
    done.push(s);
  }
  return join(root, ...done);
}

/** A clear error when what the container would exec is not in its root. */
async function checkEntrypoint(rootfs: string, args: string[], env: string[]): Promise<void> {
  const cmd = args[0];
  if (!cmd) throw new ValidationError("the container has nothing to run: no entrypoint in the workload nor in the flist", "set `entrypoint`");
  const candidates = cmd.includes("/") ? [cmd] : (env.find((e) => e.startsWith("PATH="))?.slice(5) ?? "/usr/local/bin:/usr/bin:/bin").split(":").map((d) => `${d}/${cmd}`);
  for (const c of candidates) {
    const r = await resolveInRoot(rootfs, c);
    if (r && await lstat(r).then((s) => s.isFile() && (s.mode & 0o111) !== 0, () => false)) return;
  }
  throw new ValidationError(`entrypoint ${cmd} is not in the flist (or not executable)`, "check the workload's entrypoint against the image");
}

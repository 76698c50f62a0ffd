// The `container` provisioner: the workload's flist fetched into the node's cache (progress posted
// while it downloads), its secret env opened with the node's seal key, its volumes bound in, and
// the container run by the ContainerManager (src/node/container).
import { join } from "node:path";
import type { Logger } from "pino";
import { GridError, UnavailableError, ValidationError, allocateHosts, gatewayOf, intToIp, parseCidr, unseal, type WorkloadOf } from "../../core/index.js";
import { FlistCache, progressMessage, type CachedFlist } from "../../flist/index.js";
import { ContainerManager, type ContainerSpec, type ContainerStatus } from "../container/manager.js";
import { CRASH_LOOP } from "../container/supervisor.js";
import { processOf } from "../container/oci.js";
import type { Health, Provisioner, WorkloadContext } from "./types.js";
import { readFile } from "node:fs/promises";
import { attachIfName, networkNames, type Attachment } from "../network/index.js";

/**
 * Where a container naming `network` goes: the network workload of the same deployment, the
 * node's subnet of it, and the container's address (its own `ip`, checked, or allocated).
 */
export function overlayOf(ctx: WorkloadContext, w: Container): Attachment | undefined {
  const name = w.data.network;
  if (!name) return undefined;
  const net = ctx.deployment.workloads.find((x) => x.name === name);
  if (net?.type !== "network") throw new ValidationError(`container ${w.name}: no network named ${name} in the deployment`);
  const members = ctx.deployment.workloads.flatMap((x) => x.type === "container" && x.data.network === name ? [{ name: x.name, ip: x.data.ip }] : []);
  const ip = allocateHosts(net.data.subnet, members).get(w.name)!;
  const subnet = parseCidr(net.data.subnet);
  const { netns, bridge } = networkNames(ctx.dataDir, ctx.contractId, name);
  return {
    netns, bridge, hostEnd: attachIfName(ctx.workloadId), cidr: `${ip}/${subnet.prefix}`, gateway: intToIp(gatewayOf(subnet)), ipRange: net.data.ipRange,
  };
}

type Container = WorkloadOf<"container">;

/** What a networked container's result adds: its overlay address and network. */
function overlayData(ctx: WorkloadContext, w: Container): Record<string, unknown> {
  const a = overlayOf(ctx, w);
  return a ? { overlayIp: a.cidr.split("/")[0], network: w.data.network } : {};
}

/** A `logs.address` of this form names a 0-db workload of the same deployment: the node fills in
 *  its address and namespace once that 0-db is up (one signed step for both; docs/containers.md). */
export const SIBLING_ZDB = /^zdb:([a-z0-9][a-z0-9_-]{0,62})$/i;

/** What a container's result carries: where it runs, and how it has fared (restarts, OOM kills,
 *  the last exit and the output's last lines then). */
export function containerData(st: ContainerStatus, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ip: st.ip, state: st.state, ...extra, restarts: st.restarts, oomKills: st.oomKills,
    ...(st.lastExit ? { message: st.lastExit } : {}),
    ...(st.exitCode !== undefined && st.exitCode !== null ? { exitCode: st.exitCode } : {}),
    ...(st.tail ? { output: st.tail } : {}),
    crashLoop: st.crashLoop,
  };
}

/** The result for a container in the state `st`: `error` while it crash-loops, else `ok`. */
export function containerReport(st: ContainerStatus, rule = CRASH_LOOP): NonNullable<Health["report"]> {
  const data = containerData(st);
  if (!st.crashLoop) return { state: "ok", message: st.lastExit ?? "", data };
  const message = `crash loop: ${rule.restarts} restarts within ${rule.windowMs / 1000}s (${st.restarts} in all, ${st.oomKills} out of memory); last: ${st.lastExit ?? "exited"}`
    + (st.tail ? `; its last output:\n${st.tail}` : "; it printed nothing");
  return { state: "error", message, data };
}

export class ContainerProvisioner implements Provisioner<"container"> {
  readonly type = "container" as const;
  private managers = new Map<string, ContainerManager>();
  private caches = new Map<string, FlistCache>();

  constructor(private readonly opts: { pollMs?: number; backoff?: { baseMs: number; maxMs: number }; netPool?: number; crashLoop?: { restarts: number; windowMs: number } } = {}) {}

  manager(dataDir: string, log: Logger): ContainerManager {
    let m = this.managers.get(dataDir);
    if (!m) { m = new ContainerManager({ dataDir, log, ...this.opts }); this.managers.set(dataDir, m); }
    return m;
  }
  cache(dataDir: string): FlistCache {
    let c = this.caches.get(dataDir);
    if (!c) { c = new FlistCache(join(dataDir, "flist-cache")); this.caches.set(dataDir, c); }
    return c;
  }

  async init(dataDir: string, log: Logger): Promise<void> { await this.manager(dataDir, log).warm(); }

  /** For the volume provisioner: stops the containers mounting `source`; the result restarts them. */
  holdMounts(dataDir: string, source: string, log: Logger): Promise<() => Promise<void>> {
    return this.manager(dataDir, log).holdMounts(source);
  }

  private async flist(ctx: WorkloadContext, w: Container): Promise<CachedFlist> {
    const cache = this.cache(ctx.dataDir);
    try {
      return await cache.ensure(w.data.flist, { signal: ctx.signal, onProgress: (d, t) => ctx.progress(progressMessage(d, t)) });
    } catch (e) {
      // The hub is down but this container ran before: start it from the tree already here.
      if (e instanceof UnavailableError) {
        const saved = await readFile(join(ctx.dataDir, "container", ctx.workloadId, "state.json"), "utf8").then((t) => JSON.parse(t) as { flistHash: string }, () => null);
        const c = saved && await cache.cached(saved.flistHash);
        if (c) return c;
      }
      const g = e instanceof GridError ? e : null;
      // The hub's own code travels on: not_found/invalid stay failed, unavailable is retried.
      throw new GridError(g?.code ?? "invalid", `bad flist ${w.data.flist}: ${(e as Error).message}`, g?.hint, { cause: e });
    }
  }

  async spec(ctx: WorkloadContext, w: Container, f: CachedFlist): Promise<ContainerSpec> {
    const secrets: Record<string, string> = {};
    for (const [k, v] of Object.entries(w.data.secretEnv)) {
      try { secrets[k] = unseal(v, ctx.sealKeys); } catch { throw new ValidationError(`secretEnv ${k} cannot be opened with this node's seal key`, "seal it to the node's sealKey"); }
    }
    const proc = processOf(w.data.entrypoint, f.flist.config, { ...w.data.env, ...secrets });
    const volumes = new Set(ctx.deployment.workloads.filter((x) => x.type === "volume").map((x) => x.name));
    const mounts = w.data.mounts.map((m) => {
      if (!volumes.has(m.volume)) throw new ValidationError(`mount ${m.mountpoint}: no volume named ${m.volume} in the deployment`);
      return { source: join(ctx.dataDir, "volume", `${ctx.contractId}-${m.volume}`), destination: m.mountpoint };
    });
    const logs = w.data.logs && {
      ...await this.logsAt(ctx, w.data.logs),
      password: w.data.logs.password ? unseal(w.data.logs.password, ctx.sealKeys) : undefined,
    };
    const network = overlayOf(ctx, w);
    return {
      id: ctx.workloadId, flistHash: f.hash, lower: f.lower, ...proc,
      memory: w.data.memory, cpu: w.data.cpu, rootfsSize: w.data.rootfsSize, mounts, logs, ...(network ? { network } : {}),
    };
  }

  /** Where the logs go: as written, or a 0-db of the deployment once it is up (waited for here). */
  private async logsAt(ctx: WorkloadContext, logs: NonNullable<Container["data"]["logs"]>): Promise<{ address: string; namespace: string }> {
    const sib = SIBLING_ZDB.exec(logs.address)?.[1];
    if (!sib) return { address: logs.address, namespace: logs.namespace };
    if (!ctx.deployment.workloads.some((x) => x.type === "zdb" && x.name === sib)) throw new ValidationError(`logs: no zdb named ${sib} in the deployment`);
    if (!ctx.sibling) throw new ValidationError(`logs: this node cannot resolve ${logs.address}`);
    ctx.progress(`waiting for 0-db ${sib} (its logs go there)`);
    const d = await ctx.sibling(sib) as { namespace?: string; ips?: string[]; port?: number };
    if (!d.namespace || !d.ips?.[0] || !d.port) throw new ValidationError(`logs: 0-db ${sib} has no address`);
    const host = d.ips[0].includes(":") ? `[${d.ips[0]}]` : d.ips[0];
    return { address: `${host}:${d.port}`, namespace: d.namespace };
  }

  async provision(ctx: WorkloadContext, w: Container): Promise<Record<string, unknown>> {
    overlayOf(ctx, w); // a bad network or address fails before the flist is fetched
    const f = await this.flist(ctx, w);
    const m = this.manager(ctx.dataDir, ctx.log);
    const spec = await this.spec(ctx, w, f);
    const st = await m.ensure(spec);
    m.takeUnreported(ctx.workloadId);
    if (ctx.changed) m.onChange(ctx.workloadId, ctx.changed);
    ctx.log.info({ ip: st.ip, flist: f.hash }, "container running");
    return containerData(st, { ...overlayData(ctx, w), flist: f.hash, ...(spec.logs ? { logs: { address: spec.logs.address, namespace: spec.logs.namespace } } : {}) });
  }

  async deprovision(ctx: WorkloadContext, _w?: Container): Promise<void> {
    await this.manager(ctx.dataDir, ctx.log).remove(ctx.workloadId);
  }
  async pause(ctx: WorkloadContext, _w?: Container): Promise<void> { await this.manager(ctx.dataDir, ctx.log).pause(ctx.workloadId); }
  async resume(ctx: WorkloadContext, w: Container): Promise<Record<string, unknown>> {
    const m = this.manager(ctx.dataDir, ctx.log);
    if (!m.status(ctx.workloadId)) return this.provision(ctx, w);
    await m.resume(ctx.workloadId);
    return containerData(m.status(ctx.workloadId)!, overlayData(ctx, w));
  }
  async check(ctx: WorkloadContext, w?: Container): Promise<Health> {
    const m = this.manager(ctx.dataDir, ctx.log);
    if (!m.status(ctx.workloadId)) return { ok: false, message: "container is not running on this node (node restarted?)" };
    // An exit (or a crash loop, or its end) since the last report: the supervisor restarts it by
    // itself, so nothing is made again; the new word is posted as the workload's result.
    const ev = m.takeUnreported(ctx.workloadId);
    if (ev) {
      const report = containerReport(ev, m.crashLoopRule);
      // The overlay address stays in the result a report replaces.
      return { ok: true, report: w ? { ...report, data: { ...report.data, ...overlayData(ctx, w) } } : report };
    }
    return { ok: true };
  }
  async shutdown(): Promise<void> { for (const m of this.managers.values()) await m.shutdown(); }
}

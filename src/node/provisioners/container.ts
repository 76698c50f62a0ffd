// The `container` provisioner: the workload's flist fetched into the node's cache (progress posted
// while it downloads), its secret env opened with the node's seal key, its volumes bound in, and
// the container run by the ContainerManager (src/node/container).
import { join } from "node:path";
import type { Logger } from "pino";
import { GridError, UnavailableError, ValidationError, allocateHosts, gatewayOf, intToIp, parseCidr, unseal, type WorkloadOf } from "../../core/index.js";
import { FlistCache, progressMessage, type CachedFlist } from "../../flist/index.js";
import { ContainerManager, type ContainerSpec } from "../container/manager.js";
import { processOf } from "../container/oci.js";
import type { Provisioner, WorkloadContext } from "./types.js";
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

export class ContainerProvisioner implements Provisioner<"container"> {
  readonly type = "container" as const;
  private managers = new Map<string, ContainerManager>();
  private caches = new Map<string, FlistCache>();

  constructor(private readonly opts: { pollMs?: number; backoff?: { baseMs: number; maxMs: number }; netPool?: number } = {}) {}

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
      address: w.data.logs.address, namespace: w.data.logs.namespace,
      password: w.data.logs.password ? unseal(w.data.logs.password, ctx.sealKeys) : undefined,
    };
    const network = overlayOf(ctx, w);
    return {
      id: ctx.workloadId, flistHash: f.hash, lower: f.lower, ...proc,
      memory: w.data.memory, cpu: w.data.cpu, rootfsSize: w.data.rootfsSize, mounts, logs, ...(network ? { network } : {}),
    };
  }

  async provision(ctx: WorkloadContext, w: Container): Promise<Record<string, unknown>> {
    overlayOf(ctx, w); // a bad network or address fails before the flist is fetched
    const f = await this.flist(ctx, w);
    const m = this.manager(ctx.dataDir, ctx.log);
    const st = await m.ensure(await this.spec(ctx, w, f));
    m.takeUnreported(ctx.workloadId);
    ctx.log.info({ ip: st.ip, flist: f.hash }, "container running");
    return { ip: st.ip, ...overlayData(ctx, w), state: st.state, flist: f.hash, restarts: st.restarts, oomKills: st.oomKills, ...(st.lastExit ? { message: st.lastExit } : {}) };
  }

  async deprovision(ctx: WorkloadContext, _w?: Container): Promise<void> {
    await this.manager(ctx.dataDir, ctx.log).remove(ctx.workloadId);
  }
  async pause(ctx: WorkloadContext, _w?: Container): Promise<void> { await this.manager(ctx.dataDir, ctx.log).pause(ctx.workloadId); }
  async resume(ctx: WorkloadContext, w: Container): Promise<Record<string, unknown>> {
    const m = this.manager(ctx.dataDir, ctx.log);
    if (!m.status(ctx.workloadId)) return this.provision(ctx, w);
    await m.resume(ctx.workloadId);
    const st = m.status(ctx.workloadId)!;
    return { ip: st.ip, ...overlayData(ctx, w), state: st.state, restarts: st.restarts, oomKills: st.oomKills };
  }
  async check(ctx: WorkloadContext, _w?: Container): Promise<{ ok: boolean; message?: string }> {
    const m = this.manager(ctx.dataDir, ctx.log);
    if (!m.status(ctx.workloadId)) return { ok: false, message: "container is not running on this node (node restarted?)" };
    // An exit since the last report: answer "not ok" once so the engine re-provisions (adopting the
    // restarted container) and posts a fresh result carrying the reason.
    const ev = m.takeUnreported(ctx.workloadId);
    if (ev) return { ok: false, message: ev.lastExit };
    return { ok: true };
  }
  async shutdown(): Promise<void> { for (const m of this.managers.values()) await m.shutdown(); }
}

// What the two gateway provisioners share: the node's one GatewayService (one HAProxy for every
// gateway workload of the node), and the steps from a workload to a route it serves. A node without
// a gateway config refuses gateway workloads with a clear error rather than "unsupported".
import type { Logger } from "pino";
import { ValidationError } from "../../core/index.js";
import { routeOf, type GatewayWorkload } from "../../gateway/index.js";
import { GatewayService, type GatewayConfig } from "../gateway/index.js";
import { defineProvisioner, type Provisioner, type WorkloadContext } from "./types.js";

/** The node's gateway, started once whichever provisioner's init comes first. */
export class GatewayHost {
  #service: GatewayService | undefined;
  #starting: Promise<GatewayService> | undefined;
  constructor(readonly config: GatewayConfig | undefined) {}

  init(dataDir: string, log: Logger): Promise<GatewayService | undefined> {
    if (!this.config) return Promise.resolve(undefined);
    this.#starting ??= (async () => {
      const s = new GatewayService(this.config!, dataDir, log.child({ component: "gateway" }));
      await s.start();
      this.#service = s;
      return s;
    })();
    return this.#starting;
  }

  async shutdown(): Promise<void> {
    const s = this.#service;
    this.#service = undefined;
    this.#starting = undefined;
    await s?.stop();
  }

  async service(ctx: WorkloadContext): Promise<GatewayService> {
    if (!this.config) throw new ValidationError(`node ${ctx.nodeId} is not a gateway: it has no public config (domain and address)`, "pick a node listed by `kosmos nodes --gateways`");
    return this.#service ?? (await this.init(ctx.dataDir, ctx.log))!;
  }
}

function route(host: GatewayHost, ctx: WorkloadContext, w: GatewayWorkload) {
  const c = host.config!;
  const ownNetworks = ctx.deployment.workloads.flatMap((x) => (x.type === "network" ? [x.data.ipRange] : []));
  return routeOf(ctx.workloadId, w, c.domain, { ownNetworks, nodeAddresses: [ctx.underlay, c.ipv4, ...(c.bind ? [c.bind] : [])] });
}

export function gatewayProvisioner<T extends GatewayWorkload["type"]>(type: T, host: GatewayHost): Provisioner<T> {
  const provision = async (ctx: WorkloadContext, w: GatewayWorkload) => {
    const s = await host.service(ctx);
    const r = route(host, ctx, w);
    await s.ensure(r);
    return { fqdn: r.fqdn };
  };
  return defineProvisioner<T>({
    type,
    init: async (dataDir, log) => { await host.init(dataDir, log); },
    shutdown: () => host.shutdown(),
    provision: (ctx, w) => provision(ctx, w as GatewayWorkload),
    resume: (ctx, w) => provision(ctx, w as GatewayWorkload),
    deprovision: async (ctx) => { if (host.config) await (await host.service(ctx)).remove(ctx.workloadId); },
    // Paused (out of funds): the name stops being served; the route comes back on resume.
    pause: async (ctx) => { if (host.config) await (await host.service(ctx)).remove(ctx.workloadId); },
    check: async (ctx) => {
      if (!host.config) return { ok: false, message: "not a gateway node" };
      const s = await host.service(ctx);
      if (!s.route(ctx.workloadId)) return { ok: false, message: "not served" };
      if (!s.process.pid) return { ok: false, message: "haproxy is not running (restarting)" };
      return { ok: true };
    },
  });
}

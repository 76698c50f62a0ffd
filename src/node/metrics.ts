// The node's one non-workload port: read-only Prometheus metrics on the underlay address.
//
// It is open to anyone on the underlay, so it must never cost the node more than a handful of
// descriptors: a small hard cap (guardServer), short idle/header/request timeouts, and — so that a
// flood of idle or half-open connections cannot lock a scraper out until those timeouts fire — a
// new connection evicts the oldest one that has no request in progress once the soft cap is reached.
import { createServer, type Server } from "node:http";
import type { Socket } from "node:net";
import type { Logger } from "pino";
import { Registry, Gauge, Counter } from "prom-client";
import { guardServer, HTTP_CHECK_INTERVAL_MS, type GuardedListener } from "../runtime/index.js";

/** Limits of the metrics listener (a scrape is one short request: a few connections are plenty). */
export const METRICS_LIMITS = {
  /** Connections kept at most; the next one evicts the oldest idle or half-open one. */
  softConnections: 32,
  /** Hard cap (Node drops the connection at accept). An evicted socket is only counted gone on
   *  the next turn of the event loop, so one burst of accepts (at most the listen backlog) must fit
   *  under it beside the soft cap, or a scraper in that burst would be dropped. */
  maxConnections: 256,
  /** The kernel's queue of connections not accepted yet (bounds one burst). */
  backlog: 128,
  idleMs: 5_000,
  headersMs: 3_000,
  requestMs: 5_000,
} as const;

function first<T>(items: Iterable<T>, ok: (v: T) => boolean): T | undefined {
  for (const v of items) if (ok(v)) return v;
  return undefined;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly reconcileErrors: Counter;
  readonly lastHeight: Gauge;
  private server?: Server;
  private guard?: GuardedListener;
  private evicted = 0;

  constructor(workloadCounts: () => Record<string, number>) {
    new Gauge({
      name: "zos_workloads", help: "Workloads on this node by state", labelNames: ["state"], registers: [this.registry],
      collect() { for (const [state, n] of Object.entries(workloadCounts())) this.set({ state }, n); },
    });
    this.reconcileErrors = new Counter({ name: "zos_reconcile_errors_total", help: "Failed workload steps (transient ones are retried)", registers: [this.registry] });
    this.lastHeight = new Gauge({ name: "zos_last_processed_height", help: "Last ledger height whose events this node fully processed", registers: [this.registry] });
    const self = this;
    new Gauge({
      name: "zos_metrics_refused_connections", help: "Connections to this port refused at the cap or evicted while idle", registers: [this.registry],
      collect() { this.set((self.guard?.refused() ?? 0) + self.evicted); },
    });
  }

  listen(host: string, port: number, log?: Logger): Promise<void> {
    const server = createServer({ connectionsCheckingInterval: HTTP_CHECK_INTERVAL_MS }, (req, res) => {
      busy.add(req.socket);
      res.once("close", () => { busy.delete(req.socket); served.add(req.socket); });
      if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405, { allow: "GET" }).end(); return; }
      if ((req.url ?? "").split("?")[0] !== "/metrics") { res.writeHead(404).end(); return; }
      this.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : text);
      }, () => res.writeHead(500).end());
    });
    this.server = server;
    this.guard = guardServer(server, METRICS_LIMITS, log);
    // Insertion-ordered: the first entry is the oldest connection.
    const open = new Set<Socket>();
    const busy = new Set<Socket>();
    const served = new WeakSet<Socket>();
    server.on("connection", (socket: Socket) => {
      if (open.size >= METRICS_LIMITS.softConnections) {
        // A connection that never finished a request goes first (a flood's idle or half-sent
        // ones); a scraper's kept-alive connection only when nothing else can make room.
        const victim = first(open, (s) => !busy.has(s) && !served.has(s)) ?? first(open, (s) => !busy.has(s));
        if (victim) { open.delete(victim); victim.destroy(); this.evicted++; }
      }
      open.add(socket);
      socket.once("close", () => { open.delete(socket); busy.delete(socket); served.delete(socket); });
    });
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen({ port, host, backlog: METRICS_LIMITS.backlog }, () => { server.off("error", reject); resolve(); });
    });
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
}

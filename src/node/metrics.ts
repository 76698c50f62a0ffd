// The node's one non-workload port: read-only Prometheus metrics on the underlay address.
import { createServer, type Server } from "node:http";
import { Registry, Gauge, Counter } from "prom-client";

export class NodeMetrics {
  readonly registry = new Registry();
  readonly reconcileErrors: Counter;
  readonly lastHeight: Gauge;
  private server?: Server;

  constructor(workloadCounts: () => Record<string, number>) {
    new Gauge({
      name: "zos_workloads", help: "Workloads on this node by state", labelNames: ["state"], registers: [this.registry],
      collect() { for (const [state, n] of Object.entries(workloadCounts())) this.set({ state }, n); },
    });
    this.reconcileErrors = new Counter({ name: "zos_reconcile_errors_total", help: "Failed workload steps (each is retried)", registers: [this.registry] });
    this.lastHeight = new Gauge({ name: "zos_last_processed_height", help: "Last ledger height whose events this node fully processed", registers: [this.registry] });
  }

  listen(host: string, port: number): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.method !== "GET" && req.method !== "HEAD") { res.writeHead(405, { allow: "GET" }).end(); return; }
      if ((req.url ?? "").split("?")[0] !== "/metrics") { res.writeHead(404).end(); return; }
      this.registry.metrics().then((text) => {
        res.writeHead(200, { "content-type": this.registry.contentType }).end(req.method === "HEAD" ? undefined : text);
      }, () => res.writeHead(500).end());
    });
    return new Promise((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(port, host, () => resolve());
    });
  }

  async close(): Promise<void> {
    if (this.server) await new Promise((r) => this.server!.close(r));
  }
}

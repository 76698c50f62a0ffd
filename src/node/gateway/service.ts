// The node's gateway: the routes of its gateway workloads (one small file each under
// DATA/gateway/routes, so a restarted zos serves the same names at once), the HAProxy configuration
// generated from them, and the supervised proxy. Every change is serialized, checked by
// `haproxy -c` before it replaces the live file, and awaited until the new worker runs it.
import { createHash } from "node:crypto";
import { readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { ConflictError, TimeoutError, describeError } from "../../core/index.js";
import { ensureDir, readJson, writeFileAtomic } from "../../runtime/index.js";
import { holderOf, renderCrtList, renderHaproxyConfig, type Route } from "../../gateway/index.js";
import { HaproxyProcess } from "./haproxy-process.js";
import { liveBackends } from "./admin.js";
import { obtainCertificate, type AcmeConfig } from "./acme.js";

/** A node's gateway settings: what it registers as its public config, and where the proxy listens. */
export interface GatewayConfig {
  /** Names are served as NAME.DOMAIN. */
  domain: string;
  /** The public IPv4 address registered on the ledger (and, by default, the address the proxy binds). */
  ipv4: string;
  bind?: string;
  httpPort?: number;
  httpsPort?: number;
  haproxyBin?: string;
  checkIntervalMs?: number;
  /** Obtain certificates for the names served with TLS terminated here (else they are served over HTTP only). */
  acme?: AcmeConfig;
}

export class GatewayService {
  readonly dir: string;
  readonly #routes = new Map<string, Route>();
  readonly #proc: HaproxyProcess;
  #queue: Promise<unknown> = Promise.resolve();
  #generation = "";

  constructor(readonly config: GatewayConfig, dataDir: string, readonly log: Logger) {
    this.dir = join(dataDir, "gateway");
    this.#proc = new HaproxyProcess({ bin: config.haproxyBin, configFile: join(this.dir, "haproxy.cfg"), pidFile: join(this.dir, "haproxy.pid"), log });
  }

  get process(): HaproxyProcess { return this.#proc; }
  get adminSocket(): string { return join(this.dir, "admin.sock"); }
  route(id: string): Route | undefined { return this.#routes.get(id); }
  routes(): Route[] { return [...this.#routes.values()]; }

  /** Load the routes on disk, write the configuration and start the proxy. */
  async start(): Promise<void> {
    await ensureDir(join(this.dir, "routes"));
    await ensureDir(join(this.dir, "certs"));
    for (const f of await readdir(join(this.dir, "routes"))) {
      if (!f.endsWith(".json")) continue;
      try {
        const r = await readJson<Route>(join(this.dir, "routes", f));
        if (r) this.#routes.set(r.id, r);
      } catch (err) { this.log.warn({ file: f, err: describeError(err) }, "unreadable gateway route skipped"); }
    }
    await this.#write();
    await this.#proc.start();
    await this.#live();
  }

  async stop(): Promise<void> { await this.#proc.stop(); }

  /** Serve `route` (replacing the workload's previous route); refused when another workload serves its name. */
  /** Serve `route`; with ACME configured and TLS terminated here, first over HTTP, then with its certificate. */
  async ensure(route: Route): Promise<void> {
    const acme = this.config.acme;
    if (!acme || route.tlsPassthrough) return this.#ensure(route);
    const prev = this.#routes.get(route.id);
    // Keep a certificate already obtained for the same name; the CA's challenge needs the name routed.
    await this.#ensure({ ...route, ...(prev?.fqdn === route.fqdn && prev.certificate ? { certificate: prev.certificate } : {}) });
    if (this.#routes.get(route.id)?.certificate) return;
    let pem: string;
    try { pem = await obtainCertificate(acme, this.dir, route.fqdn); } catch (err) {
      await this.remove(route.id);
      throw err;
    }
    await this.#ensure({ ...route, certificate: pem });
  }

  #ensure(route: Route): Promise<void> {
    return this.#serial(async () => {
      const holder = holderOf(this.#routes.values(), route.fqdn, route.id);
      if (holder) throw new ConflictError(`${route.fqdn} is already served on this gateway by workload ${holder.id}`, "choose another name or domain");
      const before = this.#routes.get(route.id);
      if (before && JSON.stringify(before) === JSON.stringify(route) && this.#proc.pid) return;
      this.#routes.set(route.id, route);
      try { await this.#write(); } catch (err) {
        if (before) this.#routes.set(route.id, before); else this.#routes.delete(route.id);
        throw err;
      }
      await writeFileAtomic(join(this.dir, "routes", `${route.id}.json`), JSON.stringify(route));
      this.#proc.reload();
      await this.#live();
    });
  }

  /** Stop serving the workload's route (idempotent). */
  remove(id: string): Promise<void> {
    return this.#serial(async () => {
      if (!this.#routes.delete(id)) return;
      await unlink(join(this.dir, "routes", `${id}.json`)).catch(() => {});
      await this.#write();
      this.#proc.reload();
      await this.#live();
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Render, check with `haproxy -c`, then move into place: a bad configuration never replaces a working one. */
  async #write(): Promise<void> {
    const routes = this.routes();
    const c = this.config;
    const opts = {
      bind: c.bind ?? c.ipv4, httpPort: c.httpPort ?? 80, httpsPort: c.httpsPort ?? 443, stateDir: this.dir, checkIntervalMs: c.checkIntervalMs,
      acmePort: c.acme?.challengePort,
    };
    // The tag is the hash of the configuration itself: a reload is live when the worker shows it.
    this.#generation = createHash("sha256").update(renderHaproxyConfig(routes, opts)).digest("hex").slice(0, 16);
    const text = renderHaproxyConfig(routes, { ...opts, generation: this.#generation });
    await writeFileAtomic(join(this.dir, "crt-list"), renderCrtList(routes));
    const next = join(this.dir, "haproxy.cfg.next");
    await writeFileAtomic(next, text);
    this.#proc.validate(next);
    await rename(next, join(this.dir, "haproxy.cfg"));
  }

  /** Wait until the running worker shows this configuration's generation (the reload is live). */
  async #live(timeoutMs = 10_000): Promise<void> {
    const want = `generation_${this.#generation}`;
    const end = Date.now() + timeoutMs;
    let nextAsk = Date.now() + 1000;
    for (;;) {
      try {
        if ((await liveBackends(this.adminSocket)).includes(want)) return;
      } catch { /* not up yet */ }
      // A SIGUSR2 that lands while the master is still re-executing from the previous one is lost:
      // asking again is harmless (the file is the same), waiting forever is not.
      if (Date.now() > nextAsk) { this.#proc.reload(); nextAsk = Date.now() + 1000; }
      if (Date.now() > end) throw new TimeoutError(`haproxy did not load the gateway configuration within ${timeoutMs} ms`, this.#proc.lastError ? `haproxy said: ${this.#proc.lastError}` : "see the node's log for haproxy's own error");
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

/** `zos cleanup`: the HAProxy a killed zos left serving its routes is stopped (the routes stay, the
 *  next zos serves them again); with `purge` the gateway's folder goes too. */
export async function cleanupGateway(dataDir: string, log: Logger): Promise<{ processes: number[] }> {
  const dir = join(dataDir, "gateway");
  const proc = new HaproxyProcess({ configFile: join(dir, "haproxy.cfg"), pidFile: join(dir, "haproxy.pid"), log });
  const pid = await proc.stopLeftover();
  return { processes: pid === null ? [] : [pid] };
}

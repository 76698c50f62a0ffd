// `zdb` workloads: a namespace on the node's own 0-db, named after the workload id, with the
// user's (unsealed) password, size limit, mode and public flag. Grace swaps the password for a
// random one nobody knows (the data stays); resume puts the user's back.
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { unseal, describeError, InternalError, NotFoundError, ValidationError, type WorkloadOf } from "../../core/index.js";
import { ZdbServer, isZdbReply, stopOrphanZdb, zdbPidFile } from "../zdb-server.js";
import type { Provisioner, WorkloadContext } from "./types.js";

export interface ZdbOptions {
  /** Address the 0-db listens on (the node's underlay). */
  listen: string;
  port: number;
  bin?: string;
}

type Zdb = WorkloadOf<"zdb">;

export function parseNsinfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(": ");
    if (i > 0 && !line.startsWith("#")) m.set(line.slice(0, i).trim(), line.slice(i + 2).trim());
  }
  return m;
}

/**
 * With no node running on the data folder: stops the node's 0-db if one is left (a `kill -9`ed zos
 * leaves it). Returns the pids stopped. The 0-db's data stays unless `purge`.
 */
export async function cleanupZdb(dataDir: string, opts: { purge?: boolean } = {}): Promise<{ processes: number[]; errors: string[] }> {
  const out = { processes: [] as number[], errors: [] as string[] };
  const orphan = await stopOrphanZdb(dataDir);
  if (orphan?.stopped) out.processes.push(orphan.pid);
  else if (orphan) out.errors.push(`0-db (pid ${orphan.pid}) did not stop`);
  if (!out.errors.length) await rm(opts.purge ? join(dataDir, "zdb") : zdbPidFile(dataDir), { recursive: true, force: true });
  return out;
}

export class ZdbProvisioner implements Provisioner<"zdb"> {
  readonly type = "zdb" as const;
  private server?: ZdbServer;
  private starting?: Promise<void>;

  constructor(private readonly opts: ZdbOptions) {}

  async init(dataDir: string, log: Logger): Promise<void> {
    this.server = new ZdbServer({ ...this.opts, dataDir, log: log.child({ component: "zdb" }) });
    this.starting = this.server.start();
    // A node whose 0-db cannot start still serves other workload types; zdb ones get the error.
    await this.starting.catch((err) => log.error({ err: describeError(err) }, "0-db did not start"));
  }

  private async zdb(): Promise<ZdbServer> {
    if (!this.server) throw new InternalError("the zdb provisioner was not initialised");
    return this.server;
  }

  /** NSINFO as a map, or undefined when the namespace does not exist. */
  private async info(ns: string): Promise<Map<string, string> | undefined> {
    const s = await this.zdb();
    try {
      return parseNsinfo(String(await s.call("NSINFO", ns)));
    } catch (err) {
      if (isZdbReply(err) && /not found/i.test(err.message)) return undefined;
      throw err;
    }
  }

  private async exists(ns: string): Promise<boolean> {
    return (await this.info(ns)) !== undefined;
  }

  /** An existing namespace (update, resume): each NSSET of the password or public flag re-checks
   *  the sessions in it (0-db disconnects those that no longer qualify). Privacy is tightened
   *  before the password changes, and loosened only after, so no step is weaker than both ends. */
  private async configure(ctx: WorkloadContext, w: Zdb, password: string): Promise<void> {
    const s = await this.zdb();
    const ns = ctx.workloadId;
    if (!w.data.public) await s.call("NSSET", ns, "public", 0);
    await s.call("NSSET", ns, "password", password);
    await s.call("NSSET", ns, "maxsize", w.data.size);
    if (w.data.public) await s.call("NSSET", ns, "public", 1);
    // 0-db refuses to change the mode of a namespace that holds data, so only set it when it differs.
    const mode = (await this.info(ns))?.get("mode");
    if (mode !== (w.data.mode === "seq" ? "sequential" : "userkey")) await s.call("NSSET", ns, "mode", w.data.mode);
  }

  private result(ctx: WorkloadContext): Record<string, unknown> {
    return { namespace: ctx.workloadId, ips: [ctx.underlay], port: this.opts.port };
  }

  async provision(ctx: WorkloadContext, w: Zdb): Promise<Record<string, unknown>> {
    const password = unseal(w.data.password, ctx.sealKeys);
    if (password.length === 0 || password.length > 63) throw new ValidationError("a 0-db password is 1 to 63 characters", "deploy it again with a shorter password");
    const s = await this.zdb();
    if (!(await this.exists(ctx.workloadId))) {
      try {
        // Born with its final password, privacy, size and mode: there is no moment where the
        // namespace (its name is predictable) is public and without a password.
        await s.call("NSNEW", ctx.workloadId, "PASSWORD", password, "PUBLIC", w.data.public ? 1 : 0,
          "MAXSIZE", w.data.size, "MODE", w.data.mode);
        return this.result(ctx);
      } catch (err) {
        // Made by a previous attempt whose reply was lost: adopt it (and configure it below).
        if (!isZdbReply(err) || !(await this.exists(ctx.workloadId))) throw err;
      }
    }
    await this.configure(ctx, w, password);
    return this.result(ctx);
  }

  async deprovision(ctx: WorkloadContext, _w?: Zdb): Promise<void> {
    if (!(await this.exists(ctx.workloadId))) return;
    await (await this.zdb()).call("NSDEL", ctx.workloadId);
  }

  async pause(ctx: WorkloadContext, _w?: Zdb): Promise<void> {
    const s = await this.zdb();
    if (!(await this.exists(ctx.workloadId))) throw new NotFoundError(`namespace ${ctx.workloadId} is missing`);
    // Private first (sessions without the password are cut), then a password nobody knows (the
    // sessions that had the user's are cut too): nobody stays in during the grace period.
    await s.call("NSSET", ctx.workloadId, "public", 0);
    await s.call("NSSET", ctx.workloadId, "password", randomBytes(24).toString("hex"));
  }

  async resume(ctx: WorkloadContext, w: Zdb): Promise<Record<string, unknown>> {
    return this.provision(ctx, w);
  }

  async check(ctx: WorkloadContext, _w?: Zdb): Promise<{ ok: boolean; message?: string }> {
    try {
      return (await this.exists(ctx.workloadId)) ? { ok: true } : { ok: false, message: `namespace ${ctx.workloadId} is missing` };
    } catch (err) {
      return { ok: false, message: describeError(err) };
    }
  }

  async shutdown(): Promise<void> {
    await this.server?.stop();
  }
}

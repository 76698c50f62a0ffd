// Network namespaces prepared ahead of the containers that will use them. Making a namespace with
// its veth pair and addresses takes three processes and ~10 ms of kernel work; done while no
// container waits, a start only takes one from the pool (filled after the node's first start). Each prepared namespace is recorded in
// `dir/NETNS.json` (before it is made) until a container's state.json owns it, so none is lost when the node is killed:
// the next start takes back the ones no container owns, and shutdown removes them.
import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { createNetns, netnsExists, netnsIp, randomNetNames, removeNetns, type NetPlan } from "./netns.js";
import { writeFileAtomic } from "../../runtime/index.js";

export class NetPool {
  private free: NetPlan[] = [];
  private filling?: Promise<void>;
  private reclaimed = false;
  private closed = false;

  /**
   * @param size how many namespaces to keep ready (0: none, every start makes its own)
   * @param owned the namespaces containers own (from their saved state), read once at reclaim
   */
  constructor(private readonly dir: string, readonly size: number, private readonly log: Logger, private readonly owned: () => Promise<Set<string>>) {}

  get available(): number { return this.free.length; }

  /** A prepared namespace, or null when none is ready. Its record stays until `handOver`. */
  async take(): Promise<NetPlan | null> {
    for (let plan = this.free.shift(); plan; plan = this.free.shift()) {
      // Someone may have removed it meanwhile (no process needed to look).
      if (await netnsExists(plan.netns)) return plan;
      await this.drop(plan).catch(() => {});
    }
    return null;
  }

  /**
   * At the node's start: takes back what a killed node process had prepared, if anything. The pool
   * itself fills after the node's first container start, so a node that runs no container keeps
   * no namespace.
   */
  async resume(): Promise<void> {
    if ((await readdir(this.dir).catch(() => [] as string[])).some((n) => n.endsWith(".json"))) this.refill();
  }

  /** The container's state now names the namespace: it is no longer the pool's. */
  async handOver(plan: NetPlan): Promise<void> { await unlink(this.file(plan.netns)).catch(() => {}); }

  /** Tops the pool up in the background (never on a container's critical path). */
  refill(): void {
    if (this.filling || this.closed || this.size <= 0 || (this.reclaimed && this.free.length >= this.size)) return;
    this.filling = this.fill()
      .catch((e) => this.log.warn({ err: (e as Error).message }, "could not prepare a network namespace in advance; containers make their own"))
      .finally(() => { this.filling = undefined; });
  }

  /** Resolves once no fill is running (the pool is full, or filling failed). */
  async ready(): Promise<void> {
    this.refill();
    while (this.filling) await this.filling;
  }

  private file(netns: string): string { return join(this.dir, `${netns}.json`); }

  private async fill(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    if (!this.reclaimed) { await this.reclaim(); this.reclaimed = true; }
    while (!this.closed && this.free.length < this.size) {
      // Recorded before it is made (no address yet: a reclaim drops it), so a node killed while
      // making it leaves a record and the namespace is never lost.
      const names = randomNetNames();
      // Written atomically (fsync + rename): a torn record after a crash would lose its namespace.
      await writeFileAtomic(this.file(names.netns), JSON.stringify({ netns: names.netns, hostIf: names.hostIf, ip: "", hostIp: "" }));
      const plan = await createNetns(names).catch(async (e: unknown) => { await unlink(this.file(names.netns)).catch(() => {}); throw e; });
      await writeFileAtomic(this.file(plan.netns), JSON.stringify(plan));
      if (this.closed) { await this.drop(plan); break; }
      this.free.push(plan);
    }
  }

  /** Namespaces prepared before a node restart: kept when intact and unowned, else removed. */
  private async reclaim(): Promise<void> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith(".json"));
    if (!names.length) return;
    const owned = await this.owned();
    for (const n of names) {
      const plan = await readFile(join(this.dir, n), "utf8").then((t) => JSON.parse(t) as NetPlan, () => null);
      if (!plan) { await unlink(join(this.dir, n)).catch(() => {}); continue; }
      if (owned.has(plan.netns)) { await unlink(this.file(plan.netns)).catch(() => {}); continue; }
      if (this.free.length < this.size && (await netnsIp(plan.netns)) === plan.ip) this.free.push(plan);
      else await this.drop(plan);
    }
  }

  private async drop(plan: NetPlan): Promise<void> {
    await removeNetns(plan.netns);
    await unlink(this.file(plan.netns)).catch(() => {});
  }

  /** Stops filling and removes every namespace still in the pool. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.filling) await this.filling;
    for (const plan of this.free.splice(0)) await this.drop(plan).catch((e) => this.log.warn({ err: (e as Error).message, netns: plan.netns }, "could not remove a prepared network namespace"));
  }
}

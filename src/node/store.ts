// The node's durable record of what it provisioned: one small JSON file per workload under
// DIR/workloads/, written atomically. A record is written *before* a provisioner touches the
// system (write-ahead), so after a crash at any point the node knows what may exist and can
// adopt or remove it: nothing is leaked and nothing is made twice.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Capacity, Deployment, Workload } from "../core/index.js";
import { ensureDir, readJson, removeFile, writeFileAtomic } from "../runtime/index.js";

export type ActualState = "provisioning" | "ok" | "error" | "paused" | "deprovisioning";

export interface WorkloadRecord {
  id: string;
  contractId: number;
  twinId: number;
  name: string;
  /** The spec last handed to a provisioner (what to remove later, even once the ledger forgot it). */
  workload: Workload;
  /** The deployment it came with (siblings, for the provisioner's context). */
  deployment: Deployment;
  /** Hash of the workload spec: a change means the workload must be re-provisioned. */
  hash: string;
  state: ActualState;
  /** Capacity held for it against the node's total. */
  reserved: Capacity;
  data?: Record<string, unknown>;
  message?: string;
  updatedAt: number;
}

export class WorkloadStore {
  private readonly dir: string;
  private readonly records = new Map<string, WorkloadRecord>();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "workloads");
  }

  async load(): Promise<WorkloadRecord[]> {
    await ensureDir(this.dir);
    for (const f of await readdir(this.dir)) {
      if (!f.endsWith(".json") || f.startsWith(".")) continue;
      const r = await readJson<WorkloadRecord>(join(this.dir, f));
      if (r) this.records.set(r.id, r);
    }
    return [...this.records.values()];
  }

  get(id: string): WorkloadRecord | undefined {
    return this.records.get(id);
  }

  all(): WorkloadRecord[] {
    return [...this.records.values()];
  }

  async put(r: WorkloadRecord): Promise<void> {
    this.records.set(r.id, r);
    await writeFileAtomic(join(this.dir, `${r.id}.json`), JSON.stringify(r));
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
    await removeFile(join(this.dir, `${id}.json`));
  }
}

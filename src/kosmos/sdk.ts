// The Kosmos SDK: what a user's program (and the CLI, which is one such program) does with the grid.
// It talks to the grid only through the ledger client: it never reaches a node. This class holds the
// identity and the client; the work is in views.ts (pure: what ls/show/pending render), deploy.ts and
// wait.ts (deploy and follow), and multisig.ts (pending and sign).
import { NotFoundError, type KeyPair } from "../core/index.js";
import { LedgerClient, type Contract, type NodeInfo, type Signer } from "../ledger/client/index.js";
import { deploySpec, planDeployment, type DeployContext, type DeployOptions, type DeployResult } from "./deploy.js";
import { pendingFor, signContract } from "./multisig.js";
import type { Plan } from "./progress.js";
import type { ResolvedSpec } from "./spec/index.js";
import { nameOf, viewOf, type DeploymentView, type PendingSignature } from "./views.js";

export interface KosmosOptions {
  ledgerUrl: string;
  keys: KeyPair;
  /** Reuse a client (tests, several identities on one ledger). */
  client?: LedgerClient;
}

export class Kosmos {
  readonly client: LedgerClient;
  readonly keys: KeyPair;
  private readonly signer: Signer;
  private twin?: number;

  constructor(opts: KosmosOptions) {
    this.client = opts.client ?? new LedgerClient(opts.ledgerUrl);
    this.keys = opts.keys;
    this.signer = this.client.signer(opts.keys);
  }

  /** This identity's twin id, creating the twin on first use. */
  async twinId(): Promise<number> {
    this.twin ??= await this.signer.ensureTwin();
    return this.twin;
  }

  /** The twin id if the key has one already (no transaction). */
  async existingTwinId(): Promise<number | null> {
    if (this.twin) return this.twin;
    const a = await this.client.account(this.keys.publicKey);
    if (a.twinId !== null) this.twin = a.twinId;
    return a.twinId;
  }

  async nodes(filter?: Parameters<LedgerClient["nodes"]>[0]): Promise<NodeInfo[]> {
    return this.client.nodes(filter);
  }

  async balance(): Promise<{ twinId: number | null; balance: number }> {
    const a = await this.client.account(this.keys.publicKey);
    return { twinId: a.twinId, balance: a.balance };
  }

  async transfer(to: number, amount: number) {
    await this.twinId();
    return this.signer.send("transfer", { to, amount });
  }

  async faucet(amount: number) {
    return this.client.faucet(await this.twinId(), amount);
  }

  private async liveContracts(): Promise<Contract[]> {
    const twinId = await this.existingTwinId();
    if (twinId === null) return [];
    const all = await this.client.contracts({ twinId });
    return all.filter((c) => c.state !== "deleted").sort((a, b) => a.id - b.id);
  }

  private async contractNamed(name: string): Promise<Contract | null> {
    return (await this.liveContracts()).find((c) => nameOf(c) === name) ?? null;
  }

  private async mustContractNamed(name: string): Promise<Contract> {
    const c = await this.contractNamed(name);
    if (!c) throw new NotFoundError(`no deployment named "${name}"`, "list yours with `kosmos ls`");
    return c;
  }

  private get deployContext(): DeployContext {
    return { client: this.client, signer: this.signer, keys: this.keys, contractNamed: (name) => this.contractNamed(name) };
  }

  async list(): Promise<DeploymentView[]> {
    return (await this.liveContracts()).map(viewOf);
  }

  /** One deployment; a file spanning nodes shows every part's workloads, and its `parts`. */
  async get(name: string): Promise<DeploymentView & { parts?: DeploymentView[] }> {
    const first = await this.mustContractNamed(name);
    const parts = (await this.liveContracts()).filter((x) => nameOf(x) === name).map(viewOf);
    if (parts.length < 2) return viewOf(first);
    return { ...parts[0], workloads: parts.flatMap((p) => p.workloads), parts };
  }

  /** Where a spec would go and what it would cost; signs nothing. */
  async plan(spec: ResolvedSpec): Promise<Plan> {
    return planDeployment(this.deployContext, spec);
  }

  /** Deploys `spec` (or updates the contract of the same name) and, unless `wait: false`, follows it
   *  until every workload is ok: DeploymentFailed (exit 10) if one fails, TimeoutError (exit 12). */
  async deploy(spec: ResolvedSpec, opts: DeployOptions = {}): Promise<DeployResult> {
    return deploySpec(this.deployContext, await this.twinId(), spec, opts);
  }

  /** Where a container of a deployment streams its logs: address and namespace from the ledger
   *  (the password, sealed there, is the user's to give). */
  async logTarget(name: string, container: string): Promise<{ address: string; namespace: string; sealedPassword: boolean }> {
    const c = await this.mustContractNamed(name);
    const w = c.deployment.workloads.find((x) => x.name === container);
    if (w?.type !== "container") {
      const names = c.deployment.workloads.filter((x) => x.type === "container").map((x) => x.name);
      throw new NotFoundError(`"${name}" has no container named "${container}"`, names.length ? `its containers: ${names.join(", ")}` : "it has no containers");
    }
    if (!w.data.logs) throw new NotFoundError(`container ${container} of "${name}" does not stream its logs`, "add `logs: {zdb: NAME}` (a `mode: seq` 0-db of the file) to it and deploy again");
    return { address: w.data.logs.address, namespace: w.data.logs.namespace, sealedPassword: !!w.data.logs.password };
  }

  async cancel(name: string): Promise<DeploymentView> {
    const c = await this.mustContractNamed(name);
    // A file spanning nodes has a contract per node under the one name: all of them go.
    const parts = (await this.liveContracts()).filter((x) => nameOf(x) === name);
    for (const p of parts) await this.signer.send("contract.cancel", { contractId: p.id });
    return viewOf(await this.client.contract(c.id));
  }

  /** Contracts waiting for this identity's signature (their latest version asks it, and it has not signed). */
  async pending(): Promise<PendingSignature[]> {
    const twinId = await this.existingTwinId();
    return twinId === null ? [] : pendingFor(this.client, twinId);
  }

  /** Approve the latest version of someone's multi-signature deployment with this identity. */
  async sign(contractId: number): Promise<{ contractId: number; version: number; approved: boolean }> {
    return signContract(this.deployContext, await this.twinId(), contractId);
  }
}

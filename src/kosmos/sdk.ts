// The Kosmos SDK: what a user's program (and the CLI, which is one such program) does with the grid.
// It talks to the grid only through the ledger client: it never reaches a node. KosmosReader reads
// (a public key is all it needs: `kosmos ls` asks no passphrase); Kosmos adds the private key and
// signs. The work is in views.ts (pure: what ls/show/pending render), deploy.ts and wait.ts (deploy
// and follow), multisig.ts (pending and sign), timeline.ts and billing.ts (the ledger's history).
import { NotFoundError, UnavailableError, type KeyPair } from "../core/index.js";
import { LedgerClient, type Contract, type NodeInfo, type Signer } from "../ledger/client/index.js";
import { billingOf, type BillingReport } from "./billing.js";
import { deploySpec, planDeployment, type DeployContext, type DeployOptions, type DeployResult } from "./deploy.js";
import { pendingFor, signContract, type SignResult } from "./multisig.js";
import { ledgerFacts } from "./preflight.js";
import type { Plan } from "./progress.js";
import type { ResolvedSpec } from "./spec/index.js";
import { contractTimeline, type TimelineEntry } from "./timeline.js";
import { logsTargetOf, nameOf, signingViewOf, viewOf, type DeploymentView, type PendingSignature, type SigningView } from "./views.js";

export interface KosmosReaderOptions {
  ledgerUrl: string;
  /** The identity's public key (its twin is looked up by it). */
  publicKey: string;
  /** Reuse a client (tests, several identities on one ledger). */
  client?: LedgerClient;
}

export interface KosmosOptions { ledgerUrl: string; keys: KeyPair; client?: LedgerClient }

/** Everything that reads: deployments, their history and bills, what waits for a signature. */
export class KosmosReader {
  readonly client: LedgerClient;
  readonly publicKey: string;
  protected twin?: number;

  constructor(opts: KosmosReaderOptions) {
    this.client = opts.client ?? new LedgerClient(opts.ledgerUrl);
    this.publicKey = opts.publicKey;
  }

  /** The twin id if the key has one already (no transaction). */
  async existingTwinId(): Promise<number | null> {
    if (this.twin) return this.twin;
    const a = await this.client.account(this.publicKey);
    if (a.twinId !== null) this.twin = a.twinId;
    return a.twinId;
  }

  async nodes(filter?: Parameters<LedgerClient["nodes"]>[0]): Promise<NodeInfo[]> {
    return this.client.nodes(filter);
  }

  async balance(): Promise<{ twinId: number | null; balance: number }> {
    const a = await this.client.account(this.publicKey);
    return { twinId: a.twinId, balance: a.balance };
  }

  /** This twin's contracts, oldest first; deleted ones too with `all`. */
  protected async contractsOf(all = false): Promise<Contract[]> {
    const twinId = await this.existingTwinId();
    if (twinId === null) return [];
    const list = await this.client.contracts({ twinId });
    return list.filter((c) => all || c.state !== "deleted").sort((a, b) => a.id - b.id);
  }

  protected async contractNamed(name: string): Promise<Contract | null> {
    return (await this.contractsOf()).find((c) => nameOf(c) === name) ?? null;
  }

  protected async mustContractNamed(name: string, opts: { deleted?: boolean } = {}): Promise<Contract> {
    const c = await this.contractNamed(name);
    if (c) return c;
    if (opts.deleted) {
      // The latest of the ended ones of that name (a name is free again once its contract is deleted).
      const ended = (await this.contractsOf(true)).filter((x) => nameOf(x) === name).at(-1);
      if (ended) return ended;
    }
    throw new NotFoundError(`no deployment named "${name}"`, `list yours with \`kosmos ls${opts.deleted ? " --all" : ""}\``);
  }

  /** Live deployments; with `all`, the cancelled and deleted ones too, with their end reason. */
  async list(opts: { all?: boolean } = {}): Promise<DeploymentView[]> {
    return (await this.contractsOf(!!opts.all)).map(viewOf);
  }

  /** One deployment; a file spanning nodes shows every part's workloads, and its `parts`. */
  async get(name: string): Promise<DeploymentView & { parts?: DeploymentView[] }> {
    const first = await this.mustContractNamed(name);
    const parts = (await this.contractsOf()).filter((x) => nameOf(x) === name).map(viewOf);
    if (parts.length < 2) return viewOf(first);
    return { ...parts[0]!, workloads: parts.flatMap((p) => p.workloads), parts };
  }

  /** Any contract by id as its signers see it: exactly what signing it approves. */
  async toSign(contractId: number): Promise<SigningView> {
    return signingViewOf(await this.client.contract(contractId));
  }

  /** A deployment's timeline from the ledger's events (a deleted one's too); following, until it is deleted or `signal` aborts. */
  async events(name: string, opts: { follow?: boolean; signal?: AbortSignal; onEntry: (e: TimelineEntry) => void }): Promise<DeploymentView> {
    const c = await this.mustContractNamed(name, { deleted: true });
    const { gracePeriod } = await ledgerFacts(this.client);
    await contractTimeline(this.client, c, { ...opts, gracePeriod });
    return viewOf(await this.client.contract(c.id));
  }

  /** What was charged, when, for what: every deployment's, or those named `name` (ended ones included). */
  async billing(name?: string): Promise<BillingReport> {
    const twinId = await this.existingTwinId();
    if (twinId === null) throw new NotFoundError("this identity has no twin on the ledger yet, so nothing was charged", "it is created on the first deploy or wallet command");
    const all = await this.contractsOf(true);
    let only: Set<number> | undefined;
    if (name !== undefined) {
      only = new Set(all.filter((c) => nameOf(c) === name).map((c) => c.id));
      if (!only.size) throw new NotFoundError(`no deployment named "${name}", now or before`, "list them with `kosmos ls --all`");
    }
    return billingOf(this.client, twinId, all, only);
  }

  /** Contracts waiting for this identity's signature (their latest version asks it, and it has not signed). */
  async pending(): Promise<PendingSignature[]> {
    const twinId = await this.existingTwinId();
    return twinId === null ? [] : pendingFor(this.client, twinId);
  }
}

/** The reader with the private key: deploys, cancels, signs, pays. */
export class Kosmos extends KosmosReader {
  readonly keys: KeyPair;
  private readonly signer: Signer;

  constructor(opts: KosmosOptions) {
    super({ ledgerUrl: opts.ledgerUrl, publicKey: opts.keys.publicKey, client: opts.client });
    this.keys = opts.keys;
    this.signer = this.client.signer(opts.keys);
  }

  /** This identity's twin id, creating the twin on first use. */
  async twinId(): Promise<number> {
    this.twin ??= await this.signer.ensureTwin();
    return this.twin;
  }

  async transfer(to: number, amount: number) {
    await this.twinId();
    return this.signer.send("transfer", { to, amount });
  }

  async faucet(amount: number) {
    return this.client.faucet(await this.twinId(), amount);
  }

  private get deployContext(): DeployContext {
    return { client: this.client, signer: this.signer, keys: this.keys, contractNamed: (name) => this.contractNamed(name) };
  }

  /** Where a spec would go, what it changes and costs, and the checks before signing; signs nothing
   *  (throws what `deploy` would: a missing flist or entrypoint, a node down or full, too little money). */
  async plan(spec: ResolvedSpec, opts: { force?: boolean } = {}): Promise<Plan> {
    return planDeployment(this.deployContext, spec, opts);
  }

  /** Deploys `spec` (or updates the contract of the same name) and, unless `wait: false`, follows it
   *  until every workload is ok: DeploymentFailed (exit 10) if one fails, TimeoutError (exit 12). */
  async deploy(spec: ResolvedSpec, opts: DeployOptions = {}): Promise<DeployResult> {
    return deploySpec(this.deployContext, await this.twinId(), spec, opts);
  }

  /** Where a container of a deployment streams its logs: address and namespace from the ledger
   *  (the password, sealed there, is the user's to give). */
  async logTarget(name: string, container: string): Promise<{ address: string; namespace: string; sealedPassword: boolean }> {
    await this.mustContractNamed(name);
    // A file spanning nodes has a contract per node: the container is in one of them.
    const parts = (await this.contractsOf()).filter((x) => nameOf(x) === name);
    const all = parts.flatMap((c) => c.deployment.workloads);
    const w = all.find((x) => x.name === container && x.type === "container");
    const c = parts.find((x) => x.deployment.workloads.includes(w as never))!;
    if (w?.type !== "container") {
      const names = all.filter((x) => x.type === "container").map((x) => x.name);
      throw new NotFoundError(`"${name}" has no container named "${container}"`, names.length ? `its containers: ${names.join(", ")}` : "it has no containers");
    }
    if (!w.data.logs) throw new NotFoundError(`container ${container} of "${name}" does not stream its logs`, "add `logs: {zdb: NAME}` (a `mode: seq` 0-db of the file) to it and deploy again");
    const at = logsTargetOf(c, w.data.logs);
    if (!at) throw new UnavailableError(`container ${container} of "${name}" logs into 0-db ${w.data.logs.address.slice(4)}, which its node has not provisioned yet`, `see \`kosmos show ${name}\``);
    return { ...at, sealedPassword: !!w.data.logs.password };
  }

  async cancel(name: string): Promise<DeploymentView> {
    const c = await this.mustContractNamed(name);
    // A file spanning nodes has a contract per node under the one name: all of them go.
    const parts = (await this.contractsOf()).filter((x) => nameOf(x) === name);
    for (const p of parts) await this.signer.send("contract.cancel", { contractId: p.id });
    return viewOf(await this.client.contract(c.id));
  }

  /** Approve the latest version of someone's multi-signature deployment with this identity. */
  async sign(contractId: number): Promise<SignResult> {
    return signContract(this.deployContext, await this.twinId(), contractId);
  }
}

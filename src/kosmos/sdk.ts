// The Kosmos SDK: what a user's program (and the CLI, which is one such program) does with the grid.
// It talks to the grid only through the ledger client: it never reaches a node.
import {
  signDeployment, describeError, ConflictError, DeploymentFailedError, NotFoundError, TimeoutError, UnavailableError, ValidationError,
  type Capacity, type Deployment, type KeyPair, type WorkloadState,
} from "../core/index.js";
import { LedgerClient, type Contract, type NodeInfo, type Signer, type LedgerEvent } from "../ledger/client/index.js";
import { buildDeployment, parseMeta, placeholderSealer, sealerFor, translateWorkloads, type ResolvedSpec, type ZdbLookup } from "./spec/index.js";
import { chooseNode, estimateCost, needOf, type CostEstimate } from "./planner.js";

export interface KosmosOptions {
  ledgerUrl: string;
  keys: KeyPair;
  /** Reuse a client (tests, several identities on one ledger). */
  client?: LedgerClient;
}

export interface WorkloadView {
  name: string;
  type: string;
  /** "pending" until the node has reported on this workload's current version. */
  state: WorkloadState | "pending";
  message: string;
  data: Record<string, unknown>;
  /** A container that declares `http: PORT` and runs: where its page is served. */
  url?: string;
}

export interface DeploymentView {
  name: string;
  contractId: number;
  nodeId: number;
  state: Contract["state"];
  version: number;
  approved: boolean;
  approvedVersion: number | null;
  costPerPeriod: number;
  workloads: WorkloadView[];
}

/** A contract whose latest version asks this identity's signature and does not have it yet. */
export interface PendingSignature {
  contractId: number;
  /** The deployment's name (from its metadata), as its owner sees it. */
  name: string;
  ownerTwinId: number;
  nodeId: number;
  version: number;
  /** What signing approves: this twin's weight toward the requirement, and the workloads. */
  weight: number;
  required: boolean;
  weightRequired: number;
  weightSigned: number;
  /** Whether an earlier version is approved (this one would replace it on the node). */
  approvedVersion: number | null;
  workloads: { name: string; type: string }[];
}

export interface Plan {
  name: string;
  node: NodeInfo;
  need: Capacity;
  cost: CostEstimate;
  /** The live contract of the same name (the deploy updates it), if any. */
  existing: Contract | null;
}

export type DeployProgress =
  | { stage: "planned"; plan: Plan }
  | { stage: "unchanged"; contractId: number }
  | { stage: "submitted"; contractId: number; version: number; update: boolean }
  | { stage: "signatures"; contractId: number; version: number; weight: number; weightRequired: number; waitingFor: number[] }
  | { stage: "approved"; contractId: number; version: number }
  | { stage: "held"; contractId: number; containers: string[]; zdbs: string[] }
  | { stage: "workload"; contractId: number; name: string; state: WorkloadView["state"]; message: string };

export interface DeployOptions {
  onProgress?: (p: DeployProgress) => void;
  /** Asked once the plan (node, cost) is known, before anything is signed; false aborts. */
  confirm?: (plan: Plan) => boolean | Promise<boolean>;
  /** How long to wait for every workload to be `ok` (default 120 s). */
  timeoutMs?: number;
  /** Return as soon as the contract is on the ledger. */
  wait?: boolean;
}

export interface DeployResult extends DeploymentView {
  status: "created" | "updated" | "unchanged";
}

/** A workload ended in `error` (or the contract was deleted under the wait): permanent until the
 *  deployment changes, so `deployment_failed` (exit 10), never retried as if transient. */
export class DeploymentFailed extends DeploymentFailedError {
  constructor(message: string, readonly view: DeploymentView, hint = "read the workloads' messages (`kosmos show NAME`), fix the file and deploy again") { super(message, hint); }
}

export function nameOf(c: Contract): string | null {
  return parseMeta(c.deployment.metadata)?.name ?? null;
}

/** The contract's workloads with the node's latest word on each. A result counts only if it is
 *  about the workload's current version (a result's version is the deployment version it was for). */
export function viewOf(c: Contract): DeploymentView {
  const http = parseMeta(c.deployment.metadata)?.http ?? {};
  const workloads = c.deployment.workloads.map((w): WorkloadView => {
    const r = c.results[w.name];
    const current = r && r.version >= w.version && (c.approvedVersion ?? -1) >= w.version;
    const v: WorkloadView = { name: w.name, type: w.type, state: current ? r.state : "pending", message: current ? r.message : "", data: current ? r.data : {} };
    const ip = (v.data as { ip?: unknown }).ip;
    const port = http[w.name];
    if (w.type === "container" && v.state === "ok" && typeof ip === "string" && ip && port) v.url = `http://${ip}${port === 80 ? "" : `:${port}`}/`;
    return v;
  });
  return {
    name: nameOf(c) ?? `contract-${c.id}`, contractId: c.id, nodeId: c.nodeId, state: c.state, version: c.deployment.version,
    approved: c.approved, approvedVersion: c.approvedVersion, costPerPeriod: c.costPerPeriod, workloads,
  };
}

/** The 0-dbs of a contract that its node has provisioned, as addresses (for containers' logs). A
 *  0-db's address does not change once made, so a later word of its node (an error while the node
 *  restarts) does not take it back: its last result with an address, or the address a container
 *  of the contract already logs to, stands. */
export function zdbLookup(c: Contract | null, spec?: ResolvedSpec): ZdbLookup {
  return (name) => {
    const r = c?.results[name];
    const d = r?.data as { namespace?: string; ips?: string[]; port?: number } | undefined;
    if (d?.namespace && d.ips?.[0] && d.port) {
      const host = d.ips[0].includes(":") ? `[${d.ips[0]}]` : d.ips[0];
      return { address: `${host}:${d.port}`, namespace: d.namespace };
    }
    for (const sc of spec?.containers ?? []) {
      if (!sc.logs || !("zdb" in sc.logs) || sc.logs.zdb !== name) continue;
      const w = c?.deployment.workloads.find((x) => x.name === sc.name);
      if (w?.type === "container" && w.data.logs) return { address: w.data.logs.address, namespace: w.data.logs.namespace };
    }
    return null;
  };
}

function isSettled(v: DeploymentView): "ok" | "error" | null {
  if (v.workloads.some((w) => w.state === "error")) return "error";
  if (v.approved && v.workloads.every((w) => w.state === "ok")) return "ok";
  return null;
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

  async list(): Promise<DeploymentView[]> {
    return (await this.liveContracts()).map(viewOf);
  }

  async get(name: string): Promise<DeploymentView> {
    const c = await this.contractNamed(name);
    if (!c) throw new NotFoundError(`no deployment named "${name}"`, "list yours with `kosmos ls`");
    return viewOf(c);
  }

  /** Where a spec would go and what it would cost; signs nothing. */
  async plan(spec: ResolvedSpec): Promise<Plan> {
    const need = needOf(translateWorkloads(spec, placeholderSealer).map((t) => t.workload));
    const existing = await this.contractNamed(spec.name);
    let node: NodeInfo;
    if (existing) {
      node = await this.client.node(existing.nodeId);
      if (spec.node !== undefined && spec.node !== existing.nodeId) {
        throw new ConflictError(`"${spec.name}" is deployed on node ${existing.nodeId}, the file asks for node ${spec.node}`, `cancel it first (kosmos cancel ${spec.name}) to move it`);
      }
    } else if (spec.node !== undefined) {
      node = chooseNode([await this.client.node(spec.node)], need, { node: spec.node, farm: spec.farm });
    } else {
      const candidates = await this.client.nodes({ status: "up", farmId: spec.farm, ...need });
      node = chooseNode(candidates, need, { farm: spec.farm });
    }
    return { name: spec.name, node, need, cost: estimateCost(need), existing };
  }

  /** Deploys `spec` (or updates the contract of the same name). A container whose logs go to a
   *  0-db of the same file waits for that 0-db: the first version holds the rest, and once the
   *  0-db is up (its address is its node's result) an update adds the container. */
  async deploy(spec: ResolvedSpec, opts: DeployOptions = {}): Promise<DeployResult> {
    const progress = opts.onProgress ?? (() => {});
    const twinId = await this.twinId();
    const plan = await this.plan(spec);
    let existing = plan.existing;
    let status: DeployResult["status"] = "unchanged";
    for (let round = 0; ; round++) {
      const { deployment, changed, held } = buildDeployment({
        spec, twinId, nodeId: plan.node.id, privateKey: this.keys.privateKey, sealSecret: sealerFor(plan.node.sealKey),
        previous: existing?.deployment, zdbs: zdbLookup(existing, spec),
      });
      let view: DeploymentView;
      let contractId: number;
      if (existing && !changed) {
        if (round === 0) progress({ stage: "unchanged", contractId: existing.id });
        contractId = existing.id;
        view = opts.wait === false ? viewOf(existing) : await this.waitSettled(existing.id, deployment.version - 1, opts, progress);
      } else {
        if (round === 0) {
          progress({ stage: "planned", plan });
          if (opts.confirm && !(await opts.confirm(plan))) throw new ValidationError("deployment not confirmed; nothing was signed");
        }
        const from = (await this.client.status()).height;
        const deploymentSignature = signDeployment(deployment, this.keys.privateKey);
        if (existing) {
          await this.signer.send("contract.update", { contractId: existing.id, deployment, deploymentSignature });
          contractId = existing.id;
        } else {
          const receipt = await this.signer.send("contract.create", { deployment, deploymentSignature });
          contractId = await this.createdContractId(receipt, spec.name);
        }
        if (status === "unchanged") status = existing ? "updated" : "created";
        progress({ stage: "submitted", contractId, version: deployment.version, update: !!existing });
        view = opts.wait === false ? viewOf(await this.client.contract(contractId)) : await this.waitSettled(contractId, deployment.version, opts, progress, from);
      }
      if (!held.length || opts.wait === false) return { ...view, status };
      const zdbs = [...new Set(spec.containers.filter((c) => held.includes(c.name)).map((c) => (c.logs as { zdb: string }).zdb))];
      if (round > 0) throw new DeploymentFailed(`container(s) ${held.join(", ")} wait for 0-db(s) ${zdbs.join(", ")}, which have no address`, view);
      progress({ stage: "held", contractId, containers: held, zdbs });
      existing = await this.client.contract(contractId);
    }
  }

  /** Where a container of a deployment streams its logs: address and namespace from the ledger
   *  (the password, sealed there, is the user's to give). */
  async logTarget(name: string, container: string): Promise<{ address: string; namespace: string; sealedPassword: boolean }> {
    const c = await this.contractNamed(name);
    if (!c) throw new NotFoundError(`no deployment named "${name}"`, "list yours with `kosmos ls`");
    const w = c.deployment.workloads.find((x) => x.name === container);
    if (w?.type !== "container") {
      const names = c.deployment.workloads.filter((x) => x.type === "container").map((x) => x.name);
      throw new NotFoundError(`"${name}" has no container named "${container}"`, names.length ? `its containers: ${names.join(", ")}` : "it has no containers");
    }
    if (!w.data.logs) throw new NotFoundError(`container ${container} of "${name}" does not stream its logs`, "add `logs: {zdb: NAME}` (a `mode: seq` 0-db of the file) to it and deploy again");
    return { address: w.data.logs.address, namespace: w.data.logs.namespace, sealedPassword: !!w.data.logs.password };
  }

  private async createdContractId(receipt: { events?: LedgerEvent[] }, name: string): Promise<number> {
    const ev = receipt.events?.find((e) => e.type === "contract.created");
    if (ev && "contractId" in ev) return ev.contractId;
    const c = await this.contractNamed(name);
    if (!c) throw new UnavailableError(`the ledger accepted the deployment but does not list "${name}"`);
    return c.id;
  }

  /** Follow the contract's events until every workload of `version` is ok (resolve), one fails or
   *  the contract is deleted (reject with the reason), or the timeout passes. */
  private waitSettled(contractId: number, version: number, opts: DeployOptions, progress: (p: DeployProgress) => void, from?: number): Promise<DeploymentView> {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise<DeploymentView>((resolve, reject) => {
      const seen = new Map<string, string>();
      let approvedSent = false;
      let lastSig = "";
      let busy = false, again = false, finished = false;
      let last: DeploymentView | null = null;
      const finish = (err: Error | null, v?: DeploymentView) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        sub?.close();
        if (err) reject(err); else resolve(v!);
      };
      const check = async () => {
        if (busy) { again = true; return; }
        busy = true;
        try {
          do {
            again = false;
            const c = await this.client.contract(contractId);
            const v = viewOf(c);
            last = v;
            if (c.state === "deleted") return finish(new DeploymentFailed(`contract ${contractId} was deleted (${c.deletedReason ?? "cancelled"})`, v));
            if (c.deployment.version > version) return finish(new ConflictError(`contract ${contractId} was updated to version ${c.deployment.version} meanwhile`), v);
            if (!c.approved) {
              const req = c.deployment.signatureRequirement;
              const signed = new Set(c.signatures.map((s) => s.twinId));
              const weight = req.requests.filter((r) => signed.has(r.twinId)).reduce((s, r) => s + r.weight, 0);
              const waitingFor = req.requests.filter((r) => !signed.has(r.twinId)).map((r) => r.twinId);
              const key = `${weight}/${waitingFor.join(",")}`;
              if (key !== lastSig) { lastSig = key; progress({ stage: "signatures", contractId, version, weight, weightRequired: req.weightRequired, waitingFor }); }
            } else if (!approvedSent) {
              approvedSent = true;
              progress({ stage: "approved", contractId, version: c.approvedVersion ?? version });
            }
            for (const w of v.workloads) {
              const key = `${w.state}:${w.message}`;
              if (c.approved && seen.get(w.name) !== key) {
                seen.set(w.name, key);
                progress({ stage: "workload", contractId, name: w.name, state: w.state, message: w.message });
              }
            }
            const settled = isSettled(v);
            if (settled === "ok") return finish(null, v);
            if (settled === "error") {
              const bad = v.workloads.filter((w) => w.state === "error").map((w) => `${w.name}: ${w.message || "failed"}`).join("; ");
              return finish(new DeploymentFailed(`the node could not provision the deployment: ${bad}`, v));
            }
          } while (again);
        } catch (e) {
          // The stream reconnects by itself; a failed read is retried on the next event.
          if (e instanceof NotFoundError) finish(e as Error);
        } finally {
          busy = false;
        }
      };
      const timer = setTimeout(() => {
        const pending = last ? (last.approved ? last.workloads.filter((w) => w.state !== "ok").map((w) => `${w.name} is ${w.state}${w.message ? ` (${w.message})` : ""}`).join(", ") : "the deployment is not approved yet (signatures missing)") : "no answer from the ledger";
        finish(new TimeoutError(`timed out after ${Math.round(timeoutMs / 1000)} s: ${pending}`, "the node may be down; see `kosmos show` and the node's log"));
      }, timeoutMs);
      const sub = this.client.subscribe({ contractId, from: from ?? 0 }, (e) => { if (e.type !== "block") void check(); });
      void check();
    });
  }

  async cancel(name: string): Promise<DeploymentView> {
    const c = await this.contractNamed(name);
    if (!c) throw new NotFoundError(`no deployment named "${name}"`, "list yours with `kosmos ls`");
    await this.signer.send("contract.cancel", { contractId: c.id });
    return viewOf(await this.client.contract(c.id));
  }

  /** Contracts waiting for this identity's signature (their latest version asks it, and it has not signed). */
  async pending(): Promise<PendingSignature[]> {
    const twinId = await this.existingTwinId();
    if (twinId === null) return [];
    const list = await this.client.contracts({ signer: twinId, pending: true });
    return list.sort((a, b) => a.id - b.id).map((c): PendingSignature => {
      const req = c.deployment.signatureRequirement;
      const mine = req.requests.find((r) => r.twinId === twinId)!;
      const signed = new Set(c.signatures.map((x) => x.twinId));
      return {
        contractId: c.id, name: nameOf(c) ?? `contract-${c.id}`, ownerTwinId: c.twinId, nodeId: c.nodeId, version: c.deployment.version,
        weight: mine.weight, required: mine.required, weightRequired: req.weightRequired,
        weightSigned: req.requests.filter((r) => signed.has(r.twinId)).reduce((n, r) => n + r.weight, 0),
        approvedVersion: c.approvedVersion,
        workloads: c.deployment.workloads.map((w) => ({ name: w.name, type: w.type })),
      };
    });
  }

  /** Approve the latest version of someone's multi-signature deployment with this identity. */
  async sign(contractId: number): Promise<{ contractId: number; version: number; approved: boolean }> {
    const twinId = await this.twinId();
    const c = await this.client.contract(contractId);
    if (c.state === "deleted") throw new ConflictError(`contract ${contractId} is deleted`);
    if (!c.deployment.signatureRequirement.requests.some((r) => r.twinId === twinId)) {
      throw new ValidationError(`twin ${twinId} is not one of the signers contract ${contractId} asks for`);
    }
    if (c.signatures.some((s) => s.twinId === twinId)) {
      return { contractId, version: c.deployment.version, approved: c.approved };
    }
    const deploymentSignature = signDeployment(c.deployment as Deployment, this.keys.privateKey);
    await this.signer.send("contract.approve", { contractId, version: c.deployment.version, deploymentSignature });
    const after = await this.client.contract(contractId);
    return { contractId, version: after.deployment.version, approved: after.approved };
  }
}

export { describeError };

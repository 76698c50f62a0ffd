// Deploying a spec: plan it (node, capacity, cost), build and sign the deployment, create or update
// the contract, and wait until it settles. A container whose logs go to a 0-db of the same file
// waits for that 0-db: the first version holds the rest, and once the 0-db is up (its address is its
// node's result) an update adds the container.
import { ConflictError, UnavailableError, ValidationError, signDeployment, type KeyPair } from "../core/index.js";
import type { Contract, LedgerClient, LedgerEvent, NodeInfo, Signer } from "../ledger/client/index.js";
import { chooseNode, estimateCost, needOf } from "./planner.js";
import { DeploymentFailed, type DeployProgress, type Plan } from "./progress.js";
import { buildDeployment, placeholderSealer, sealerFor, translateWorkloads, type ResolvedSpec } from "./spec/index.js";
import { viewOf, zdbLookup, type DeploymentView } from "./views.js";
import { waitSettled } from "./wait.js";
import { deployMultiNode, isMultiNode } from "./network/index.js";

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
  /** A file spanning nodes: each node's contract (the fields above are the first one's, with every part's workloads). */
  parts?: DeploymentView[];
}

/** What deploying needs of the SDK: the ledger, this identity, and its live contracts by name. */
export interface DeployContext {
  client: LedgerClient;
  signer: Signer;
  keys: KeyPair;
  contractNamed(name: string): Promise<Contract | null>;
}

/** Where a spec would go and what it would cost; signs nothing. */
export async function planDeployment(ctx: DeployContext, spec: ResolvedSpec): Promise<Plan> {
  const need = needOf(translateWorkloads(spec, placeholderSealer).map((t) => t.workload));
  const existing = await ctx.contractNamed(spec.name);
  let node: NodeInfo;
  if (existing) {
    node = await ctx.client.node(existing.nodeId);
    if (spec.node !== undefined && spec.node !== existing.nodeId) {
      throw new ConflictError(`"${spec.name}" is deployed on node ${existing.nodeId}, the file asks for node ${spec.node}`, `cancel it first (kosmos cancel ${spec.name}) to move it`);
    }
  } else if (spec.node !== undefined) {
    node = chooseNode([await ctx.client.node(spec.node)], need, { node: spec.node, farm: spec.farm });
  } else {
    const candidates = await ctx.client.nodes({ status: "up", farmId: spec.farm, ...need });
    node = chooseNode(candidates, need, { farm: spec.farm });
  }
  return { name: spec.name, node, need, cost: estimateCost(need), existing };
}

/** Deploys `spec` as `twinId` (or updates the contract of the same name). */
export async function deploySpec(ctx: DeployContext, twinId: number, spec: ResolvedSpec, opts: DeployOptions = {}): Promise<DeployResult> {
  if (isMultiNode(spec)) {
    // Networks and containers on several nodes: one contract per node (src/kosmos/network).
    const r = await deployMultiNode(ctx, twinId, spec, { onProgress: opts.onProgress, timeoutMs: opts.timeoutMs, wait: opts.wait });
    return { ...r.parts[0], name: spec.name, status: r.status, workloads: r.parts.flatMap((p) => p.workloads), parts: r.parts };
  }
  const progress = opts.onProgress ?? (() => {});
  const plan = await planDeployment(ctx, spec);
  const wait = (contractId: number, version: number, from?: number) => waitSettled(ctx.client, contractId, version, { timeoutMs: opts.timeoutMs, from, onProgress: progress });
  let existing = plan.existing;
  let status: DeployResult["status"] = "unchanged";
  for (let round = 0; ; round++) {
    const { deployment, changed, held } = buildDeployment({
      spec, twinId, nodeId: plan.node.id, privateKey: ctx.keys.privateKey, sealSecret: sealerFor(plan.node.sealKey),
      previous: existing?.deployment, zdbs: zdbLookup(existing, spec),
    });
    let view: DeploymentView;
    let contractId: number;
    if (existing && !changed) {
      if (round === 0) progress({ stage: "unchanged", contractId: existing.id });
      contractId = existing.id;
      view = opts.wait === false ? viewOf(existing) : await wait(existing.id, deployment.version - 1);
    } else {
      if (round === 0) {
        progress({ stage: "planned", plan });
        if (opts.confirm && !(await opts.confirm(plan))) throw new ValidationError("deployment not confirmed; nothing was signed");
      }
      const from = (await ctx.client.status()).height;
      const deploymentSignature = signDeployment(deployment, ctx.keys.privateKey);
      if (existing) {
        await ctx.signer.send("contract.update", { contractId: existing.id, deployment, deploymentSignature });
        contractId = existing.id;
      } else {
        const receipt = await ctx.signer.send("contract.create", { deployment, deploymentSignature });
        contractId = await createdContractId(ctx, receipt, spec.name);
      }
      if (status === "unchanged") status = existing ? "updated" : "created";
      progress({ stage: "submitted", contractId, version: deployment.version, update: !!existing });
      view = opts.wait === false ? viewOf(await ctx.client.contract(contractId)) : await wait(contractId, deployment.version, from);
    }
    if (!held.length || opts.wait === false) return { ...view, status };
    const zdbs = [...new Set(spec.containers.filter((c) => held.includes(c.name)).map((c) => (c.logs as { zdb: string }).zdb))];
    if (round > 0) throw new DeploymentFailed(`container(s) ${held.join(", ")} wait for 0-db(s) ${zdbs.join(", ")}, which have no address`, view);
    progress({ stage: "held", contractId, containers: held, zdbs });
    existing = await ctx.client.contract(contractId);
  }
}

async function createdContractId(ctx: DeployContext, receipt: { events?: LedgerEvent[] }, name: string): Promise<number> {
  const ev = receipt.events?.find((e) => e.type === "contract.created");
  if (ev && "contractId" in ev) return ev.contractId;
  const c = await ctx.contractNamed(name);
  if (!c) throw new UnavailableError(`the ledger accepted the deployment but does not list "${name}"`);
  return c.id;
}

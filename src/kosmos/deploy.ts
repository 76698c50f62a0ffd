// Deploying a spec: plan it (node, capacity, cost), build and sign the deployment, create or update
// the contract, and wait until it settles. One file is one signed step: a container whose logs go
// to a 0-db of the same file names it, and the node starts the container once that 0-db is up.
import {
  CapacityError, ConflictError, NotFoundError, UnavailableError, ValidationError, capacityShortfall, deploymentCapacity, reservationCost, signDeployment,
  type KeyPair,
} from "../core/index.js";
import type { Contract, LedgerClient, LedgerEvent, NodeInfo, Signer } from "../ledger/client/index.js";
import { diffDeployments } from "./diff.js";
import { checkRunway, runway } from "./money.js";
import { chooseNode, describeNeed, estimateCost, needOf } from "./planner.js";
import { checkContainers, ledgerFacts, mustBeUp, nodeLiveness, roomFor } from "./preflight.js";
import { DeploymentFailed, type DeployProgress, type Plan } from "./progress.js";
import { buildDeployment, placeholderSealer, sealerFor, translateWorkloads, type ResolvedSpec } from "./spec/index.js";
import { viewOf, type DeploymentView } from "./views.js";
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
  /** Deploy even if the balance does not cover one billing period. */
  force?: boolean;
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

/** Where a spec would go, what it changes and costs, and whether it can work: the checks of
 *  preflight.ts and money.ts, before anything is signed. Signs nothing; throws what deploying would. */
export async function planDeployment(ctx: DeployContext, spec: ResolvedSpec, opts: { force?: boolean } = {}): Promise<Plan> {
  const need = needOf(translateWorkloads(spec, placeholderSealer).map((t) => t.workload));
  const [existing, facts, account] = await Promise.all([ctx.contractNamed(spec.name), ledgerFacts(ctx.client), ctx.client.account(ctx.keys.publicKey)]);
  const checks: string[] = [];
  let node: NodeInfo;
  let diff: Plan["diff"] = null;
  let changed = true;
  let toCheck = spec.containers;
  if (existing) {
    node = await ctx.client.node(existing.nodeId);
    if (spec.node !== undefined && spec.node !== existing.nodeId) {
      throw new ConflictError(`"${spec.name}" is deployed on node ${existing.nodeId}, the file asks for node ${spec.node}`, `cancel it first (kosmos cancel ${spec.name}) to move it`);
    }
    const built = buildDeployment({
      spec, twinId: existing.twinId, nodeId: node.id, privateKey: ctx.keys.privateKey, sealSecret: placeholderSealer, previous: existing.deployment,
    });
    changed = built.changed;
    diff = diffDeployments(existing.deployment, built.deployment);
    const touched = new Set(diff.workloads.filter((w) => w.change === "added" || w.change === "changed").map((w) => w.name));
    toCheck = spec.containers.filter((c) => touched.has(c.name));
    if (changed) {
      checks.push(mustBeUp(node, facts, `the update would wait for a node that does not answer; \`kosmos cancel ${spec.name}\` and deploy again to move it`));
      const short = capacityShortfall(need, roomFor(node, deploymentCapacity(existing.deployment)));
      if (short) throw new CapacityError(`node ${node.id} cannot take this version: it ${short}`, "make the deployment smaller, or cancel it and deploy again on a bigger node");
    }
  } else if (spec.node !== undefined) {
    let asked: NodeInfo;
    try { asked = await ctx.client.node(spec.node); } catch (e) {
      if (e instanceof NotFoundError) throw new NotFoundError(`node ${spec.node} (the file's \`node\`) is not on the ledger`, "list the nodes with `kosmos nodes`", { cause: e });
      throw e;
    }
    checks.push(mustBeUp(asked, facts, "choose another node, or leave `node` out and let the planner pick"));
    node = chooseNode([asked], need, { node: spec.node, farm: spec.farm });
  } else {
    // The ledger and the planner use the same rule (reported within two intervals); checked here too, on the ledger time read now.
    // Every node with room, down ones too, so that "none is up" can say which are there and why not.
    const roomy = await ctx.client.nodes({ farmId: spec.farm, ...need });
    const candidates = roomy.filter((n) => nodeLiveness(n, facts).up);
    if (roomy.length && !candidates.length) {
      const why = roomy.slice(0, 5).map((n) => nodeLiveness(n, facts).why).join("; ") + (roomy.length > 5 ? `; and ${roomy.length - 5} more` : "");
      throw new CapacityError(`no node with room for ${describeNeed(need)}${spec.farm !== undefined ? ` in farm ${spec.farm}` : ""} is up: ${why}`,
        "their zos may be stopped; see `kosmos nodes`, or try again once they report");
    }
    node = chooseNode(candidates, need, { farm: spec.farm });
    checks.push(nodeLiveness(node, facts).why);
  }
  if (changed) {
    checks.push(`node ${node.id} has room for ${describeNeed(need)}`);
    checks.push(...await checkContainers(toCheck));
  }
  const others = account.twinId === null ? [] : (await ctx.client.contracts({ twinId: account.twinId })).filter((c) => c.state !== "deleted" && c.id !== existing?.id);
  const money = runway(account.balance, reservationCost(need, { publicIps: 0, names: 0 }, facts.billingPeriod), others.reduce((s, c) => s + c.costPerPeriod, 0), facts.billingPeriod);
  if (changed) checkRunway(money, !!opts.force);
  // The ledger bills a contract from its creation, approved or not: say so when others must sign.
  const req = spec.signers;
  const mine = req?.requests.find((r) => r.twinId === account.twinId);
  const waitsForSignatures = !!req && ((mine?.weight ?? 0) < req.weightRequired || req.requests.some((r) => r.required && r.twinId !== account.twinId));
  return { name: spec.name, node, need, cost: estimateCost(need), existing, changed, diff, runway: money, checks, waitsForSignatures };
}

/** Deploys `spec` as `twinId` (or updates the contract of the same name). */
export async function deploySpec(ctx: DeployContext, twinId: number, spec: ResolvedSpec, opts: DeployOptions = {}): Promise<DeployResult> {
  if (isMultiNode(spec)) {
    // Networks and containers on several nodes: one contract per node (src/kosmos/network).
    const r = await deployMultiNode(ctx, twinId, spec, { onProgress: opts.onProgress, timeoutMs: opts.timeoutMs, wait: opts.wait });
    return { ...r.parts[0], name: spec.name, status: r.status, workloads: r.parts.flatMap((p) => p.workloads), parts: r.parts };
  }
  const progress = opts.onProgress ?? (() => {});
  const plan = await planDeployment(ctx, spec, { force: opts.force });
  const wait = (contractId: number, version: number, from?: number) => waitSettled(ctx.client, contractId, version, { timeoutMs: opts.timeoutMs, from, onProgress: progress });
  const existing = plan.existing;
  const { deployment, changed } = buildDeployment({
    spec, twinId, nodeId: plan.node.id, privateKey: ctx.keys.privateKey, sealSecret: sealerFor(plan.node.sealKey), previous: existing?.deployment,
  });
  if (existing && !changed) {
    progress({ stage: "unchanged", contractId: existing.id });
    const view = opts.wait === false ? viewOf(existing) : await wait(existing.id, deployment.version - 1);
    return { ...view, status: "unchanged" };
  }
  progress({ stage: "planned", plan });
  if (opts.confirm && !(await opts.confirm(plan))) throw new ValidationError("deployment not confirmed; nothing was signed");
  const from = (await ctx.client.status()).height;
  const deploymentSignature = signDeployment(deployment, ctx.keys.privateKey);
  let contractId: number;
  if (existing) {
    await ctx.signer.send("contract.update", { contractId: existing.id, deployment, deploymentSignature });
    contractId = existing.id;
  } else {
    const receipt = await ctx.signer.send("contract.create", { deployment, deploymentSignature });
    contractId = await createdContractId(ctx, receipt, spec.name);
  }
  progress({ stage: "submitted", contractId, version: deployment.version, update: !!existing });
  const view = opts.wait === false ? viewOf(await ctx.client.contract(contractId)) : await wait(contractId, deployment.version, from);
  return { ...view, status: existing ? "updated" : "created" };
}

async function createdContractId(ctx: DeployContext, receipt: { events?: LedgerEvent[] }, name: string): Promise<number> {
  const ev = receipt.events?.find((e) => e.type === "contract.created");
  if (ev && "contractId" in ev) return ev.contractId;
  const c = await ctx.contractNamed(name);
  if (!c) throw new UnavailableError(`the ledger accepted the deployment but does not list "${name}"`);
  return c.id;
}

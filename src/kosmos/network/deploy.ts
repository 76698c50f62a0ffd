// A deployment file that spans nodes (it declares networks, or places containers with `node:`):
// one contract per node, built and checked all before anything is signed, submitted together,
// waited for together. Each node's contract carries the file's name in its metadata (so `ls`
// lists the parts under one name) with its part's node list, and the network workloads of the
// networks its containers join: the node's /24, its WireGuard key (derived from the user's key,
// sealed to that node) and its peers. A node that no longer hosts anything of the file has its
// contract cancelled, which removes it from every other node's peers in the same round.
//
// Failure: a contract the ledger refuses (the node's part is bad, funds...) cancels the contracts
// this run created (rolled back: nothing new is left) and says which node refused and why; updates
// already submitted to existing parts stay (a re-deploy converges them). A node reporting a failed
// workload after submission leaves everything in place: `kosmos deploy` again retries.
//
// Logs: a container logging into a 0-db of the file (`logs: {zdb}`) needs that 0-db's address,
// which only its node's result gives (0-dbs live on the main node). As in the single-node deploy,
// the first round deploys everything else, and once the 0-db is up a second round adds the held
// containers, on whichever node they are, with the address read from the main part's result.
import { randomInt } from "node:crypto";
import { ConflictError, DeploymentFailedError, GridError, ValidationError, allocateHosts, signDeployment, type KeyPair, type Workload } from "../../core/index.js";
import type { Contract, LedgerClient, NodeInfo, Signer } from "../../ledger/client/index.js";
import { chooseNode, needOf } from "../planner.js";
import { buildDeployment, parseMeta, sealerFor, translateWorkloads, placeholderSealer, type ResolvedSpec, type Translated, type ResolvedContainer } from "../spec/index.js";
import { nameOf, viewOf, zdbLookup, type DeploymentView } from "../views.js";
import { waitSettled } from "../wait.js";
import type { DeployProgress } from "../progress.js";
import { deriveWgKeyPair } from "./keys.js";
import { allocateSubnets, peersFor, type AccessPeer, type Member } from "./plan.js";

export interface MultiContext { client: LedgerClient; signer: Signer; keys: KeyPair }

/** The metadata a part adds: the nodes of the whole deployment and the access peers per network. */
export interface PartMeta { nodes: number[]; access?: Record<string, AccessPeer[]> }

export interface MultiResult {
  status: "created" | "updated" | "unchanged";
  name: string;
  parts: DeploymentView[];
  /** Contracts cancelled because their node no longer hosts anything of the file. */
  removed: number[];
}

/** Whether the file needs several contracts (or the network machinery). */
export function isMultiNode(spec: ResolvedSpec): boolean {
  return (spec.networks?.length ?? 0) > 0 || spec.containers.some((c) => c.node !== undefined && c.node !== spec.node);
}

/** The live contracts of a deployment name, one per node. */
export async function partsOf(client: LedgerClient, twinId: number, name: string): Promise<Contract[]> {
  return (await client.contracts({ twinId })).filter((c) => c.state !== "deleted" && nameOf(c) === name).sort((a, b) => a.id - b.id);
}

/**
 * The WireGuard listen port of a network on each of its nodes: the one a node already uses, else
 * a free one from a random base — random, so a deployment cancelled and deployed again never waits
 * for its previous incarnation to free a port; distinct per node, so nodes that share one address
 * (a local grid without namespaces) do not collide.
 */
export function listenPorts(existing: Contract[], network: string, nodeIds: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const c of existing) {
    const w = c.deployment.workloads.find((x) => x.name === network);
    if (w?.type === "network" && nodeIds.includes(c.nodeId)) out.set(c.nodeId, w.data.wgListenPort);
  }
  const used = new Set(out.values());
  let next = out.size ? Math.min(...used) : 20000 + randomInt(40000);
  for (const id of nodeIds) {
    if (out.has(id)) continue;
    while (used.has(next)) next = next >= 65535 ? 20000 : next + 1;
    out.set(id, next);
    used.add(next);
  }
  return out;
}

export const keyLabel = (deployment: string, network: string, nodeId: number) => `${deployment}\0${network}\0node\0${nodeId}`;

interface Part { node: NodeInfo; containers: ResolvedContainer[]; main: boolean; existing?: Contract }

/** Where each container goes: its `node`, else the file's `node`, else an existing part's main node, else the planner's choice. */
async function place(ctx: MultiContext, spec: ResolvedSpec, existing: Contract[]): Promise<Part[]> {
  const mainId = spec.node ?? existing[0]?.nodeId;
  const unplaced = spec.containers.filter((c) => c.node === undefined);
  const mainNeed = needOf(translateWorkloads({ ...spec, containers: unplaced, networks: [] }, placeholderSealer).map((t) => t.workload));
  let main: NodeInfo;
  if (mainId !== undefined) main = await ctx.client.node(mainId);
  else main = chooseNode(await ctx.client.nodes({ status: "up", farmId: spec.farm, ...mainNeed }), mainNeed, { farm: spec.farm });
  const ids = [...new Set([main.id, ...spec.containers.flatMap((c) => (c.node !== undefined ? [c.node] : []))])];
  const parts: Part[] = [];
  for (const id of ids) {
    const node = id === main.id ? main : await ctx.client.node(id).catch((e: unknown) => { throw e instanceof GridError && e.code === "not_found" ? new ValidationError(`node ${id} (asked by a container) is not on the ledger`, "list the nodes with `kosmos nodes`", { cause: e }) : e; });
    const containers = spec.containers.filter((c) => (c.node ?? main.id) === id);
    const part: Part = { node, containers, main: id === main.id, existing: existing.find((c) => c.nodeId === id) };
    if (!part.existing) {
      // Logs take no capacity; without them a container logging into the main node's 0-db translates here too.
      const need = needOf(translateWorkloads({ ...spec, containers: containers.map((c) => ({ ...c, logs: undefined })), networks: [], zdbs: part.main ? spec.zdbs : [], volumes: part.main ? spec.volumes : [] }, placeholderSealer).map((t) => t.workload));
      chooseNode([node], need, { node: id, farm: undefined });
    }
    parts.push(part);
  }
  return parts;
}

/** Network workloads per node id, and each networked container's overlay address. */
function networksFor(ctx: MultiContext, spec: ResolvedSpec, parts: Part[], existing: Contract[], access: Record<string, AccessPeer[]>): { byNode: Map<number, Translated[]>; ips: Map<string, string> } {
  const byNode = new Map<number, Translated[]>();
  const ips = new Map<string, string>();
  for (const net of spec.networks ?? []) {
    const members = parts.filter((p) => p.containers.some((c) => c.network === net.name));
    if (!members.length) continue;
    const known = new Map<number, string>();
    for (const c of existing) {
      const w = c.deployment.workloads.find((x) => x.name === net.name && x.type === "network");
      if (w?.type === "network" && w.data.ipRange === net.ipRange) known.set(c.nodeId, w.data.subnet);
    }
    const subnets = allocateSubnets(net.ipRange, members.map((p) => p.node.id), known);
    const ports = listenPorts(existing, net.name, members.map((p) => p.node.id));
    const keys = new Map(members.map((p) => [p.node.id, deriveWgKeyPair(ctx.keys.privateKey, keyLabel(spec.name, net.name, p.node.id))]));
    const plan: Member[] = members.map((p) => ({ nodeId: p.node.id, subnet: subnets.get(p.node.id)!, publicKey: keys.get(p.node.id)!.publicKey, endpoint: `${p.node.underlay}:${ports.get(p.node.id)}` }));
    for (const m of plan) {
      const part = members.find((p) => p.node.id === m.nodeId)!;
      for (const [name, ip] of allocateHosts(m.subnet, part.containers.filter((c) => c.network === net.name).map((c) => ({ name: c.name, ip: c.ip })))) ips.set(name, ip);
      const peers = peersFor(m, plan, net.ipRange, access[net.name] ?? []);
      const key = keys.get(m.nodeId)!;
      const workload: Workload = {
        name: net.name, type: "network", version: 0, description: net.description ?? "",
        data: { ipRange: net.ipRange, subnet: m.subnet, wgListenPort: ports.get(m.nodeId)!, wgPrivateKey: sealerFor(part.node.sealKey)(key.privateKey), peers },
      };
      // The digest's source leaves the sealed key out (sealing is randomised): the public key stands for it.
      const list = byNode.get(m.nodeId) ?? [];
      list.push({ workload, source: { ipRange: net.ipRange, subnet: m.subnet, port: ports.get(m.nodeId), peers, key: key.publicKey } });
      byNode.set(m.nodeId, list);
    }
  }
  return { byNode, ips };
}

export interface MultiOptions { onProgress?: (p: DeployProgress) => void; timeoutMs?: number; wait?: boolean; confirm?: () => boolean | Promise<boolean> }

export async function deployMultiNode(ctx: MultiContext, twinId: number, spec: ResolvedSpec, opts: MultiOptions = {}): Promise<MultiResult> {
  const first = await deployRound(ctx, twinId, spec, opts, false);
  if (!first.held.length || opts.wait === false) return first.result;
  // The held containers' 0-dbs are up now (the round waited for every part): add them.
  opts.onProgress?.({ stage: "held", contractId: first.result.parts[0].contractId, containers: first.held, zdbs: first.heldZdbs });
  const second = await deployRound(ctx, twinId, spec, { ...opts, confirm: undefined }, true);
  return { ...second.result, status: first.result.status === "created" ? "created" : second.result.status, removed: [...first.result.removed, ...second.result.removed] };
}

async function deployRound(ctx: MultiContext, twinId: number, spec: ResolvedSpec, opts: MultiOptions, last: boolean): Promise<{ result: MultiResult; held: string[]; heldZdbs: string[] }> {
  const progress = opts.onProgress ?? (() => {});
  const existing = await partsOf(ctx.client, twinId, spec.name);
  const parts = await place(ctx, spec, existing);
  // 0-dbs are on the main part: its result has their addresses, for containers on every node.
  const mainContract = parts.find((p) => p.main)?.existing ?? null;
  // Access peers added with `kosmos network access` live in the parts' metadata: kept.
  const access: Record<string, AccessPeer[]> = {};
  for (const c of existing) {
    const a = (parseMeta(c.deployment.metadata) as { access?: Record<string, AccessPeer[]> } | null)?.access ?? {};
    for (const [net, peers] of Object.entries(a)) for (const p of peers) if (!(access[net] ??= []).some((x) => x.publicKey === p.publicKey)) access[net].push(p);
  }
  const { byNode, ips } = networksFor(ctx, spec, parts, existing, access);
  const meta: PartMeta = { nodes: parts.map((p) => p.node.id), ...(Object.keys(access).length ? { access } : {}) };
  // Every part built (and so checked) before anything is signed.
  const mainZdbs = zdbLookup(mainContract);
  const built = parts.map((p) => {
    // A container on another node than its logs' 0-db gets the 0-db's address written out (its
    // part does not hold the 0-db), or is held until the 0-db has one.
    const awayHeld: string[] = [];
    const containers = p.containers.flatMap((c): ResolvedContainer[] => {
      const x = c.network ? { ...c, ip: ips.get(c.name) } : c;
      if (p.main || !x.logs || !("zdb" in x.logs)) return [x];
      const name = x.logs.zdb;
      const at = mainZdbs(name), z = spec.zdbs.find((y) => y.name === name);
      if (!at || !z) { awayHeld.push(c.name); return []; }
      return [{ ...x, logs: { address: at.address, namespace: at.namespace, password: z.password } }];
    });
    const partSpec: ResolvedSpec = {
      ...spec, node: p.node.id, networks: [], containers,
      zdbs: p.main ? spec.zdbs : [], volumes: p.main ? spec.volumes : [],
    };
    const b = buildDeployment({
      spec: partSpec, twinId, nodeId: p.node.id, privateKey: ctx.keys.privateKey, sealSecret: sealerFor(p.node.sealKey),
      previous: p.existing?.deployment, extra: byNode.get(p.node.id) ?? [], meta: { ...meta },
    });
    // Containers on the main part log into a sibling 0-db: the node orders them (one step).
    return { part: p, ...b, held: awayHeld };
  });
  const held = built.flatMap((b) => b.held);
  const heldZdbs = [...new Set(spec.containers.filter((c) => held.includes(c.name)).map((c) => (c.logs as { zdb: string }).zdb))];
  if (held.length && last) throw new DeploymentFailedError(`container(s) ${held.join(", ")} wait for 0-db(s) ${heldZdbs.join(", ")}, which have no address`, "see `kosmos show` for the 0-db's state");
  const gone = existing.filter((c) => !parts.some((p) => p.node.id === c.nodeId));
  if (!built.some((b) => b.changed) && !gone.length) {
    const views = await Promise.all(parts.map((p) => ctx.client.contract(p.existing!.id).then(viewOf)));
    if (!last) for (const v of views) progress({ stage: "unchanged", contractId: v.contractId });
    return { result: { status: "unchanged", name: spec.name, parts: views, removed: [] }, held, heldZdbs };
  }
  if (opts.confirm && !(await opts.confirm())) throw new ValidationError("deployment not confirmed; nothing was signed");
  const from = (await ctx.client.status()).height;
  const created: number[] = [];
  const submitted: Array<{ contractId: number; version: number }> = [];
  for (const b of built) {
    const deploymentSignature = signDeployment(b.deployment, ctx.keys.privateKey);
    try {
      if (b.part.existing) {
        if (!b.changed) { submitted.push({ contractId: b.part.existing.id, version: b.deployment.version - 1 }); continue; }
        await ctx.signer.send("contract.update", { contractId: b.part.existing.id, deployment: b.deployment, deploymentSignature });
        submitted.push({ contractId: b.part.existing.id, version: b.deployment.version });
      } else {
        const r = await ctx.signer.send("contract.create", { deployment: b.deployment, deploymentSignature });
        const ev = r.events?.find((e) => e.type === "contract.created");
        if (ev?.type !== "contract.created") throw new ConflictError("the ledger accepted the contract but reported no id");
        created.push(ev.contractId);
        submitted.push({ contractId: ev.contractId, version: 0 });
      }
      progress({ stage: "submitted", contractId: submitted[submitted.length - 1].contractId, version: b.deployment.version, update: !!b.part.existing });
    } catch (e) {
      for (const id of created) await ctx.signer.send("contract.cancel", { contractId: id }).catch(() => {});
      const g = e instanceof GridError ? e : null;
      throw new GridError(g?.code ?? "internal", `node ${b.part.node.id} refused its part of "${spec.name}": ${(e as Error).message}; ${created.length ? `rolled back: cancelled the new contract(s) ${created.join(", ")}` : "no new contract was left"}`,
        "fix what the message names and deploy again", { cause: e });
    }
  }
  for (const c of gone) await ctx.signer.send("contract.cancel", { contractId: c.id });
  const status = existing.length ? "updated" : "created";
  if (opts.wait === false) {
    return { result: { status, name: spec.name, parts: await Promise.all(submitted.map((s) => ctx.client.contract(s.contractId).then(viewOf))), removed: gone.map((c) => c.id) }, held, heldZdbs };
  }
  const settled = await Promise.allSettled(submitted.map((s) => waitSettled(ctx.client, s.contractId, s.version, { timeoutMs: opts.timeoutMs, from, onProgress: progress })));
  const failed = settled.flatMap((r, i) => (r.status === "rejected" ? [`node ${built[i].part.node.id}: ${(r.reason as Error).message}`] : []));
  if (failed.length) throw new DeploymentFailedError(`"${spec.name}" did not settle on every node: ${failed.join("; ")}`, "the parts stay as they are; read `kosmos show` and deploy again to retry");
  return { result: { status, name: spec.name, parts: settled.map((r) => (r as PromiseFulfilledResult<DeploymentView>).value), removed: gone.map((c) => c.id) }, held, heldZdbs };
}

// `kosmos network access NAME`: the user's own machine as a peer of a deployment's network. The
// key pair is derived on the user's machine from the user's key (the private key never leaves it;
// asking again prints the same config). The first time, the peer is added: every part's network
// workload gets a new version (the relay peers with the machine's address, the other nodes route
// it through the relay), and the metadata remembers it so a later deploy keeps it.
import { NotFoundError, ValidationError, signDeployment, type Deployment, type Workload } from "../../core/index.js";
import { parseMeta } from "../spec/index.js";
import { waitSettled } from "../wait.js";
import { accessConfigText } from "./access.js";
import { keyLabel, partsOf, type MultiContext } from "./deploy.js";
import { deriveWgKeyPair } from "./keys.js";
import { nextAccessAddress, peersFor, relayOf, type AccessPeer, type Member } from "./plan.js";

export interface AccessResult { name: string; network: string; address: string; relay: { nodeId: number; endpoint: string; publicKey: string }; added: boolean; config: string }

export async function networkAccess(ctx: MultiContext, twinId: number, name: string, opts: { network?: string; label?: string; timeoutMs?: number } = {}): Promise<AccessResult> {
  const parts = await partsOf(ctx.client, twinId, name);
  if (!parts.length) throw new NotFoundError(`no deployment named "${name}"`, "list yours with `kosmos ls`");
  const nets = [...new Set(parts.flatMap((c) => c.deployment.workloads.filter((w) => w.type === "network").map((w) => w.name)))];
  if (!nets.length) throw new NotFoundError(`"${name}" has no network`, "declare `networks:` in its file and give containers `network:`");
  const net = opts.network ?? (nets.length === 1 ? nets[0] : undefined);
  if (!net) throw new ValidationError(`"${name}" has several networks (${nets.join(", ")})`, "choose one with --network NAME");
  const withNet = parts.filter((c) => c.deployment.workloads.some((w) => w.type === "network" && w.name === net));
  if (!withNet.length) throw new NotFoundError(`"${name}" has no network named "${net}"`, `its networks: ${nets.join(", ")}`);
  const first = withNet[0].deployment.workloads.find((w) => w.name === net && w.type === "network")!;
  if (first.type !== "network") throw new ValidationError("unreachable");
  const ipRange = first.data.ipRange;
  const members: Member[] = [];
  for (const c of withNet) {
    const w = c.deployment.workloads.find((x) => x.name === net)!;
    if (w.type !== "network") continue;
    const node = await ctx.client.node(c.nodeId);
    members.push({ nodeId: c.nodeId, subnet: w.data.subnet, publicKey: deriveWgKeyPair(ctx.keys.privateKey, keyLabel(name, net, c.nodeId)).publicKey, endpoint: `${node.underlay}:${w.data.wgListenPort}` });
  }
  const relay = relayOf(members)!;
  const access: AccessPeer[] = [];
  for (const c of parts) for (const p of (parseMeta(c.deployment.metadata) as { access?: Record<string, AccessPeer[]> } | null)?.access?.[net] ?? []) if (!access.some((x) => x.publicKey === p.publicKey)) access.push(p);
  const me = deriveWgKeyPair(ctx.keys.privateKey, `${name}\0${net}\0access\0${opts.label ?? "default"}`);
  let mine = access.find((p) => p.publicKey === me.publicKey);
  const added = !mine;
  if (!mine) {
    mine = { publicKey: me.publicKey, address: nextAccessAddress(ipRange, access.map((p) => p.address)) };
    access.push(mine);
    const from = (await ctx.client.status()).height;
    const waits: Array<Promise<unknown>> = [];
    for (const c of parts) {
      const prev = c.deployment;
      const version = prev.version + 1;
      const meta = { ...(parseMeta(prev.metadata) ?? { name }), access: { ...((parseMeta(prev.metadata) as { access?: Record<string, AccessPeer[]> } | null)?.access ?? {}), [net]: access } };
      const workloads: Workload[] = prev.workloads.map((w) => {
        if (w.type !== "network" || w.name !== net) return w;
        const m = members.find((x) => x.nodeId === c.nodeId)!;
        return { ...w, version, data: { ...w.data, peers: peersFor(m, members, ipRange, access) } };
      });
      const d: Deployment = { ...prev, version, metadata: JSON.stringify(meta), workloads };
      await ctx.signer.send("contract.update", { contractId: c.id, deployment: d, deploymentSignature: signDeployment(d, ctx.keys.privateKey) });
      waits.push(waitSettled(ctx.client, c.id, version, { from, timeoutMs: opts.timeoutMs }));
    }
    await Promise.all(waits);
  }
  const config = accessConfigText({ privateKey: me.privateKey, address: mine.address, ipRange, relay: { publicKey: relay.publicKey, endpoint: relay.endpoint! } });
  return { name, network: net, address: mine.address, relay: { nodeId: relay.nodeId, endpoint: relay.endpoint!, publicKey: relay.publicKey }, added, config };
}

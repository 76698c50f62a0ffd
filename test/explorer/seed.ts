// A small grid on a real ledger, made through the ledger client: a farm, nodes, twins, contracts.
import { GiB, generateKeyPair, generateSealKeyPair, seal, signDeployment, type Deployment } from "../../src/core/index.js";
import type { LedgerClient, Signer } from "../../src/ledger/client/index.js";

export async function fundedTwin(client: LedgerClient, amount = 1_000_000_000): Promise<{ signer: Signer; twinId: number; privateKey: string }> {
  const keys = generateKeyPair();
  const signer = client.signer(keys);
  const twinId = await signer.ensureTwin();
  if (amount > 0) await client.faucet(twinId, amount);
  return { signer, twinId, privateKey: keys.privateKey };
}

export interface Seeded {
  farmId: number;
  nodes: { id: number; signer: Signer; sealKey: string }[];
  user: { signer: Signer; twinId: number; privateKey: string };
  contractIds: number[];
}

export async function registerNode(client: LedgerClient, farmId: number, i: number, gateway = false): Promise<{ id: number; signer: Signer; sealKey: string }> {
  const owner = await fundedTwin(client, 0);
  const sealKey = generateSealKeyPair().publicKey;
  const r = await owner.signer.send("node.register", {
    farmId, capacity: { cru: 8, mru: 16 * GiB, sru: 200 * GiB, hru: 1000 * GiB }, sealKey, underlay: `10.0.0.${i}`,
    ...(gateway ? { publicConfig: { domain: `gw${i}.example.org`, ipv4: `198.51.100.${i}/24` } } : {}),
  });
  const id = (r.events!.find((e) => e.type === "node.registered") as { nodeId: number }).nodeId;
  await owner.signer.send("node.report", { nodeId: id, uptime: 1, used: { cru: 0, mru: 0, sru: 0, hru: 0 } });
  return { id, signer: owner.signer, sealKey };
}

export function deployment(twinId: number, nodeId: number, sealKey: string, description = "explorer test"): Deployment {
  return {
    version: 0, twinId, nodeId, metadata: "", description,
    signatureRequirement: { requests: [{ twinId, weight: 1, required: true }], weightRequired: 1 },
    workloads: [
      { name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } },
      { name: "db", type: "zdb", version: 0, description: "", data: { size: 20 * GiB, mode: "user", password: seal("s3cret-never-shown", sealKey), public: false } },
    ],
  };
}

export async function createContract(user: Seeded["user"], node: { id: number; sealKey: string }, description?: string): Promise<number> {
  const d = deployment(user.twinId, node.id, node.sealKey, description);
  const r = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.privateKey) });
  return (r.events!.find((e) => e.type === "contract.created") as { contractId: number }).contractId;
}

/** A farm, `nodeCount` nodes (the last a gateway), a funded user and one contract on the first node. */
export async function seed(client: LedgerClient, nodeCount = 2): Promise<Seeded> {
  const farmer = await fundedTwin(client, 0);
  const fr = await farmer.signer.send("farm.create", { name: `farm-${Math.random().toString(36).slice(2, 8)}` });
  const farmId = (fr.events!.find((e) => e.type === "farm.created") as { farmId: number }).farmId;
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) nodes.push(await registerNode(client, farmId, i + 2, i === nodeCount - 1));
  const user = await fundedTwin(client);
  const contractIds = [await createContract(user, nodes[0])];
  return { farmId, nodes, user, contractIds };
}

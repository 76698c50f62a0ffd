// The other side of a multi-signature deployment: what waits for this identity's signature, and
// signing it (one more `contract.approve` toward the requirement).
import { ConflictError, ForbiddenError, signDeployment, type Deployment, type KeyPair } from "../core/index.js";
import type { LedgerClient, Signer } from "../ledger/client/index.js";
import { pendingOf, type PendingSignature } from "./views.js";

/** Contracts waiting for `twinId`'s signature (their latest version asks it, and it has not signed). */
export async function pendingFor(client: LedgerClient, twinId: number): Promise<PendingSignature[]> {
  const list = await client.contracts({ signer: twinId, pending: true });
  return list.sort((a, b) => a.id - b.id).map((c) => pendingOf(c, twinId)).filter((p): p is PendingSignature => p !== null);
}

export interface SignResult {
  contractId: number;
  version: number;
  approved: boolean;
  /** This twin had signed that version already: nothing was sent. */
  alreadySigned: boolean;
}

/** Approves the latest version of a contract as `twinId`; signing twice sends nothing and says so. */
export async function signContract(
  ctx: { client: LedgerClient; signer: Signer; keys: KeyPair }, twinId: number, contractId: number,
): Promise<SignResult> {
  const c = await ctx.client.contract(contractId);
  if (c.state === "deleted") throw new ConflictError(`contract ${contractId} is deleted`);
  if (!c.deployment.signatureRequirement.requests.some((r) => r.twinId === twinId)) {
    throw new ForbiddenError(`twin ${twinId} is not one of the signers contract ${contractId} asks for`, "only the twins its signature requirement names can sign it");
  }
  if (c.signatures.some((s) => s.twinId === twinId)) {
    return { contractId, version: c.deployment.version, approved: c.approved, alreadySigned: true };
  }
  const deploymentSignature = signDeployment(c.deployment as Deployment, ctx.keys.privateKey);
  await ctx.signer.send("contract.approve", { contractId, version: c.deployment.version, deploymentSignature });
  const after = await ctx.client.contract(contractId);
  return { contractId, version: after.deployment.version, approved: after.approved, alreadySigned: false };
}

// The node trusts no one's word that a deployment is approved: it checks every signature itself,
// against the twins' public keys (fetched once from the ledger; a twin's key never changes).
import { approvalStatus, deploymentSchema, type Deployment } from "../core/index.js";
import type { ContractView, NodeLedger } from "./ledger.js";

export type Verdict =
  | { ok: true; deployment: Deployment; version: number }
  | { ok: false; reason: string };

export class ApprovalVerifier {
  private readonly keys = new Map<number, string>();

  constructor(private readonly ledger: Pick<NodeLedger, "twin">, private readonly nodeId: number) {}

  private async publicKeys(twinIds: number[]): Promise<void> {
    await Promise.all(twinIds.filter((t) => !this.keys.has(t)).map(async (t) => {
      try {
        const twin = await this.ledger.twin(t);
        this.keys.set(t, twin.publicKey);
      } catch (err) {
        // An unknown twin simply has no valid signature; anything else (ledger down) must retry.
        if ((err as { code?: string }).code !== "not_found") throw err;
      }
    }));
  }

  async verify(c: ContractView): Promise<Verdict> {
    if (c.approvedDeployment === null || c.approvedVersion === null) return { ok: false, reason: "no approved version yet" };
    const parsed = deploymentSchema.safeParse(c.approvedDeployment);
    if (!parsed.success) return { ok: false, reason: "approved deployment does not match the schema" };
    const d = parsed.data;
    if (d.nodeId !== this.nodeId || c.nodeId !== this.nodeId) return { ok: false, reason: `deployment is for node ${d.nodeId}, not this node` };
    if (d.twinId !== c.twinId) return { ok: false, reason: "deployment twin differs from the contract's twin" };
    if (d.version !== c.approvedVersion) return { ok: false, reason: "approved version differs from the deployment's version" };
    await this.publicKeys(c.approvedSignatures.map((s) => s.twinId));
    // Verify what the signers signed: the deployment exactly as the ledger holds it.
    const status = approvalStatus(c.approvedDeployment, c.approvedSignatures, (t) => this.keys.get(t));
    if (!status.approved) {
      const why = status.missingRequired.length ? `missing required signer(s) ${status.missingRequired.join(", ")}` : `signature weight ${status.weight} below ${d.signatureRequirement.weightRequired}`;
      return { ok: false, reason: `signatures do not approve version ${d.version}: ${why}${status.invalid.length ? `; invalid signature(s) from ${status.invalid.join(", ")}` : ""}` };
    }
    return { ok: true, deployment: d, version: d.version };
  }
}

// A deployment: one user's set of workloads on one node, with the signatures it requires.
import { z } from "zod";
import { workloadSchema, workloadCapacity, type Workload } from "./workloads.js";
import { ZERO_CAPACITY, addCapacity, type Capacity } from "./units.js";
import { signatureOf, verifyObject } from "./signing.js";

const id = z.number().int().positive();

export const signatureRequirementSchema = z.object({
  requests: z.array(z.object({ twinId: id, weight: z.number().int().min(1).max(1000), required: z.boolean().default(false) }).strict()).min(1).max(32),
  weightRequired: z.number().int().min(1),
}).strict().superRefine((r, ctx) => {
  const twins = new Set(r.requests.map((q) => q.twinId));
  if (twins.size !== r.requests.length) ctx.addIssue({ code: "custom", message: "a twin is listed twice in signatureRequirement.requests" });
  const total = r.requests.reduce((s, q) => s + q.weight, 0);
  if (r.weightRequired > total) ctx.addIssue({ code: "custom", message: `weightRequired ${r.weightRequired} exceeds the total weight ${total} of the requests` });
});

export const deploymentSchema = z.object({
  version: z.number().int().min(0),
  twinId: id,
  nodeId: id,
  metadata: z.string().max(4096).default(""),
  description: z.string().max(4096).default(""),
  signatureRequirement: signatureRequirementSchema,
  workloads: z.array(workloadSchema).max(64),
}).strict().superRefine((d, ctx) => {
  const seen = new Set<string>();
  for (const w of d.workloads) {
    if (seen.has(w.name)) ctx.addIssue({ code: "custom", path: ["workloads"], message: `workload name "${w.name}" is used twice` });
    seen.add(w.name);
  }
});
export type Deployment = z.infer<typeof deploymentSchema>;
export type SignatureRequirement = Deployment["signatureRequirement"];

/** One twin's signature of one deployment version (the deployment object, signed as a whole). */
export interface DeploymentSignature { twinId: number; signature: string }

export function signDeployment(d: Deployment, privateKeyHex: string): string {
  return signatureOf(d, privateKeyHex);
}

/** Whether `signatures` meet the deployment's requirement. `publicKeyOf` maps a twin to its key;
 *  used by the ledger when it approves and, independently, by the node before it acts. */
export function approvalStatus(d: Deployment, signatures: DeploymentSignature[], publicKeyOf: (twinId: number) => string | undefined): {
  approved: boolean; weight: number; missingRequired: number[]; invalid: number[];
} {
  let weight = 0;
  const valid = new Set<number>();
  const invalid: number[] = [];
  for (const s of signatures) {
    const req = d.signatureRequirement.requests.find((r) => r.twinId === s.twinId);
    const pk = publicKeyOf(s.twinId);
    if (!req || !pk || valid.has(s.twinId) || !verifyObject(d, pk, s.signature)) { invalid.push(s.twinId); continue; }
    valid.add(s.twinId);
    weight += req.weight;
  }
  const missingRequired = d.signatureRequirement.requests.filter((r) => r.required && !valid.has(r.twinId)).map((r) => r.twinId);
  return { approved: weight >= d.signatureRequirement.weightRequired && missingRequired.length === 0, weight, missingRequired, invalid };
}

export function deploymentCapacity(d: Deployment): Capacity {
  return d.workloads.reduce((c: Capacity, w: Workload) => addCapacity(c, workloadCapacity(w)), ZERO_CAPACITY);
}

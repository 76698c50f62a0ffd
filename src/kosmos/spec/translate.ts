// Spec → core workloads, one small function per kind (containers, networks and gateways come next
// as more entries of TRANSLATORS). Secrets are sealed to the chosen node here and nowhere else.
import { createHmac } from "node:crypto";
import {
  canonicalJson, seal as coreSeal, deploymentSchema, type Deployment, type Sealed, type Workload, type SignatureRequirement,
} from "../../core/index.js";
import type { ResolvedSpec } from "./parse.js";

export type Sealer = (secret: string) => Sealed;

/** A translated workload with the digest of the spec entry it came from (secrets included, keyed). */
interface Translated { workload: Workload; source: unknown }

type Translator = (spec: ResolvedSpec, sealSecret: Sealer) => Translated[];

function zdbWorkloads(spec: ResolvedSpec, sealSecret: Sealer): Translated[] {
  return spec.zdbs.map((z) => ({
    source: z,
    workload: {
      name: z.name, type: "zdb", version: 0, description: z.description ?? "",
      data: { size: z.size, mode: z.mode, password: sealSecret(z.password), public: z.public },
    },
  }));
}

function volumeWorkloads(spec: ResolvedSpec): Translated[] {
  return spec.volumes.map((v) => ({
    source: v,
    workload: { name: v.name, type: "volume", version: 0, description: v.description ?? "", data: { size: v.size } },
  }));
}

const TRANSLATORS: Translator[] = [zdbWorkloads, volumeWorkloads];

export function translateWorkloads(spec: ResolvedSpec, sealSecret: Sealer): Translated[] {
  return TRANSLATORS.flatMap((t) => t(spec, sealSecret));
}

/** Stand-in for sealing when only the shape matters (planning): never leaves the process. */
export const placeholderSealer: Sealer = () => ({ sealed: "AAAA" });

export function sealerFor(sealKey: string): Sealer {
  return (secret) => coreSeal(secret, sealKey);
}

/** What the deployment's metadata records: the name (unique per twin) and a keyed digest per
 *  workload, so a re-deploy can tell which workloads changed without ever seeing their secrets. */
export interface DeploymentMeta { name: string; digests?: Record<string, string> }

export function parseMeta(metadata: string): DeploymentMeta | null {
  try {
    const m = JSON.parse(metadata) as unknown;
    if (m && typeof m === "object" && typeof (m as DeploymentMeta).name === "string") return m as DeploymentMeta;
  } catch { /* not ours */ }
  return null;
}

function digestOf(source: unknown, privateKeyHex: string): string {
  return createHmac("sha256", Buffer.from(privateKeyHex, "hex")).update(canonicalJson(source as object)).digest("hex").slice(0, 24);
}

export function defaultRequirement(twinId: number, spec: ResolvedSpec): SignatureRequirement {
  return spec.signers ?? { requests: [{ twinId, weight: 1, required: false }], weightRequired: 1 };
}

export interface BuildInput {
  spec: ResolvedSpec;
  twinId: number;
  nodeId: number;
  privateKey: string;
  sealSecret: Sealer;
  /** The deployment it replaces (an update), if any. */
  previous?: Deployment;
}

/** The core Deployment for `spec` (defaults filled: it is what gets signed), and whether it
 *  differs from `previous`. Unchanged workloads keep their previous (sealed) form and version. */
export function buildDeployment(input: BuildInput): { deployment: Deployment; changed: boolean } {
  const { spec, twinId, nodeId, privateKey, previous } = input;
  const version = previous ? previous.version + 1 : 0;
  const prevMeta = previous ? parseMeta(previous.metadata) : null;
  const digests: Record<string, string> = {};
  let changed = !previous;
  const workloads: Workload[] = [];
  for (const t of translateWorkloads(spec, input.sealSecret)) {
    const d = digestOf({ type: t.workload.type, source: t.source }, privateKey);
    digests[t.workload.name] = d;
    const old = previous?.workloads.find((w) => w.name === t.workload.name);
    if (old && prevMeta?.digests?.[old.name] === d) workloads.push(old);
    else { changed = true; workloads.push({ ...t.workload, version }); }
  }
  const requirement = defaultRequirement(twinId, spec);
  if (previous) {
    if (previous.workloads.length !== workloads.length) changed = true;
    if (canonicalJson(previous.signatureRequirement) !== canonicalJson(requirement)) changed = true;
    if ((previous.description ?? "") !== (spec.description ?? "")) changed = true;
  }
  const deployment = deploymentSchema.parse({
    version, twinId, nodeId,
    metadata: JSON.stringify({ name: spec.name, digests }),
    description: spec.description ?? "",
    signatureRequirement: requirement,
    workloads,
  });
  return { deployment, changed };
}

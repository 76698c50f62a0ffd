// Spec → core workloads, one small function per kind (networks and gateways come next as more
// entries of TRANSLATORS). Secrets are sealed to the chosen node here and nowhere else.
import { createHmac } from "node:crypto";
import {
  canonicalJson, seal as coreSeal, deploymentSchema, type Deployment, type Sealed, type Workload, type SignatureRequirement,
} from "../../core/index.js";
import type { ResolvedSpec, ResolvedContainer } from "./parse.js";

export type Sealer = (secret: string) => Sealed;

/** Where a 0-db of the same deployment lives, once its node has said so (its result). */
export interface LogsAddress { address: string; namespace: string }
/** Looks up a 0-db of the deployment by name; null while it is not provisioned yet. */
export type ZdbLookup = (name: string) => LogsAddress | null;

/** A container's `logs.address` naming a 0-db of its own deployment: the node fills in that 0-db's
 *  address once it is up (the same form the node reads, src/node/provisioners/container.ts). */
export function siblingZdbAddress(name: string): string {
  return `zdb:${name}`;
}

/** A translated workload with the digest of the spec entry it came from (secrets included, keyed). */
export interface Translated { workload: Workload; source: unknown }

interface TranslateResult { items: Translated[] }

type Translator = (spec: ResolvedSpec, sealSecret: Sealer) => TranslateResult;

function zdbWorkloads(spec: ResolvedSpec, sealSecret: Sealer): TranslateResult {
  return { items: spec.zdbs.map((z) => ({
    source: z,
    workload: {
      name: z.name, type: "zdb", version: 0, description: z.description ?? "",
      data: { size: z.size, mode: z.mode, password: sealSecret(z.password), public: z.public },
    },
  })) };
}

function volumeWorkloads(spec: ResolvedSpec): TranslateResult {
  return { items: spec.volumes.map((v) => ({
    source: v,
    workload: { name: v.name, type: "volume", version: 0, description: v.description ?? "", data: { size: v.size } },
  })) };
}

/** The logs block of a container. One that names a 0-db of the file refers to it by name: the
 *  node provisions that 0-db first and starts the container once it is up, so the whole file is one
 *  signed deployment. */
function logsOf(c: ResolvedContainer, spec: ResolvedSpec, sealSecret: Sealer): { address: string; namespace: string; password?: Sealed } | undefined {
  if (!c.logs) return undefined;
  if ("zdb" in c.logs) {
    const z = spec.zdbs.find((x) => x.name === (c.logs as { zdb: string }).zdb)!;
    return { address: siblingZdbAddress(z.name), namespace: "", password: sealSecret(z.password) };
  }
  return { address: c.logs.address, namespace: c.logs.namespace, ...(c.logs.password !== undefined ? { password: sealSecret(c.logs.password) } : {}) };
}

function containerWorkloads(spec: ResolvedSpec, sealSecret: Sealer): TranslateResult {
  const out: TranslateResult = { items: [] };
  for (const c of spec.containers) {
    const logs = logsOf(c, spec, sealSecret);
    const secretEnv: Record<string, Sealed> = {};
    for (const [k, v] of Object.entries(c.secretEnv)) secretEnv[k] = sealSecret(v);
    out.items.push({
      source: c,
      workload: {
        name: c.name, type: "container", version: 0, description: c.description ?? "",
        data: {
          flist: c.flist, entrypoint: c.entrypoint ?? "", env: c.env, secretEnv, cpu: c.cpu, memory: c.memory, rootfsSize: c.rootfsSize,
          mounts: c.mounts, ...(logs ? { logs } : {}), ...(c.network ? { network: c.network } : {}), ...(c.ip ? { ip: c.ip } : {}),
        },
      },
    });
  }
  return out;
}

const TRANSLATORS: Translator[] = [zdbWorkloads, volumeWorkloads, containerWorkloads];

/** Every workload of the spec. */
export function translateAll(spec: ResolvedSpec, sealSecret: Sealer): TranslateResult {
  return { items: TRANSLATORS.flatMap((t) => t(spec, sealSecret).items) };
}

/** Planning view: every workload. */
export function translateWorkloads(spec: ResolvedSpec, sealSecret: Sealer): Translated[] {
  return translateAll(spec, sealSecret).items;
}

/** Stand-in for sealing when only the shape matters (planning): never leaves the process. */
export const placeholderSealer: Sealer = () => ({ sealed: "AAAA" });

export function sealerFor(sealKey: string): Sealer {
  return (secret) => coreSeal(secret, sealKey);
}

/** What the deployment's metadata records: the name (unique per twin) and a keyed digest per
 *  workload, so a re-deploy can tell which workloads changed without ever seeing their secrets. */
export interface DeploymentMeta { name: string; digests?: Record<string, string>; http?: Record<string, number> }

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
  /** Workloads made outside the spec's own kinds (a network's part on this node), with their source. */
  extra?: Translated[];
  /** More metadata fields (a multi-node deployment's parts and access peers). */
  meta?: Record<string, unknown>;
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
  const items = [...(input.extra ?? []), ...translateAll(spec, input.sealSecret).items];
  for (const t of items) {
    const d = digestOf({ type: t.workload.type, source: t.source }, privateKey);
    digests[t.workload.name] = d;
    const old = previous?.workloads.find((w) => w.name === t.workload.name);
    if (old && prevMeta?.digests?.[old.name] === d) workloads.push(old);
    else { changed = true; workloads.push({ ...t.workload, version }); }
  }
  const requirement = defaultRequirement(twinId, spec);
  if (previous) {
    if (previous.workloads.length !== workloads.length) changed = true;
    if (canonicalJson(prevMeta?.http ?? {}) !== canonicalJson(httpOf(spec).http ?? {})) changed = true;
    const { name: _n, digests: _d, http: _h, ...prevExtra } = (prevMeta ?? {}) as DeploymentMeta & Record<string, unknown>;
    if (canonicalJson(prevExtra) !== canonicalJson(input.meta ?? {})) changed = true;
    if (canonicalJson(previous.signatureRequirement) !== canonicalJson(requirement)) changed = true;
    if ((previous.description ?? "") !== (spec.description ?? "")) changed = true;
  }
  const deployment = deploymentSchema.parse({
    version, twinId, nodeId,
    metadata: JSON.stringify({ name: spec.name, digests, ...httpOf(spec), ...(input.meta ?? {}) }),
    description: spec.description ?? "",
    signatureRequirement: requirement,
    workloads,
  });
  return { deployment, changed };
}

function httpOf(spec: ResolvedSpec): { http?: Record<string, number> } {
  const http: Record<string, number> = {};
  for (const c of spec.containers) if (c.http) http[c.name] = c.http;
  return Object.keys(http).length ? { http } : {};
}

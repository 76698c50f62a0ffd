// What `kosmos ls`, `show` and `pending` render: pure views of the ledger's contracts. No I/O — a
// contract in, a view out — so the CLI, the deploy wait and tests read a contract the same way.
import type { Contract } from "../ledger/client/index.js";
import { formatBytes, isSealed, type WorkloadState } from "../core/index.js";
import { parseMeta, type ZdbLookup } from "./spec/index.js";

export interface WorkloadView {
  name: string;
  type: string;
  /** "pending" until the node has reported on this workload's current version. */
  state: WorkloadState | "pending";
  message: string;
  data: Record<string, unknown>;
  /** A container that declares `http: PORT` and runs: where its page is served. */
  url?: string;
  /** A container's restarts and out-of-memory kills so far (its node's word), for the tables. */
  restarts?: number;
  oomKills?: number;
}

/** What every view of a contract says about where it stands. */
export interface ContractFacts {
  contractId: number;
  nodeId: number;
  state: Contract["state"];
  version: number;
  approved: boolean;
  approvedVersion: number | null;
  costPerPeriod: number;
}

export interface DeploymentView extends ContractFacts {
  name: string;
  workloads: WorkloadView[];
  /** A deleted contract's end, in words ("cancelled by its owner", "out of funds: …"). */
  endReason?: string;
  /** Ledger time of its last change (for a deleted one: when it ended). */
  updatedAt: number;
}

/** Why a contract ended, as the ledger records it (it knows two reasons: the owner's cancel and
 *  grace running out; a node that disappears leaves its contracts active). */
export const END_REASONS: Record<string, string> = {
  cancelled: "cancelled by its owner",
  "out of funds": "out of funds: grace ran out before the balance paid a period",
};

/** A contract whose latest version asks this identity's signature and does not have it yet. */
export interface PendingSignature {
  contractId: number;
  /** The deployment's name (from its metadata), as its owner sees it. */
  name: string;
  ownerTwinId: number;
  nodeId: number;
  version: number;
  /** What signing approves: this twin's weight toward the requirement, and the workloads. */
  weight: number;
  required: boolean;
  weightRequired: number;
  weightSigned: number;
  /** Whether an earlier version is approved (this one would replace it on the node). */
  approvedVersion: number | null;
  workloads: { name: string; type: string }[];
}

export function nameOf(c: Contract): string | null {
  return parseMeta(c.deployment.metadata)?.name ?? null;
}

/** The contract's workloads with the node's latest word on each. A result counts only if it is
 *  about the workload's current version (a result's version is the deployment version it was for). */
export function viewOf(c: Contract): DeploymentView {
  const http = parseMeta(c.deployment.metadata)?.http ?? {};
  const workloads = c.deployment.workloads.map((w): WorkloadView => {
    const r = c.results[w.name];
    const current = r && r.version >= w.version && (c.approvedVersion ?? -1) >= w.version;
    const v: WorkloadView = { name: w.name, type: w.type, state: current ? r.state : "pending", message: current ? r.message : "", data: current ? r.data : {} };
    const ip = (v.data as { ip?: unknown }).ip;
    const port = http[w.name];
    if (w.type === "container" && v.state === "ok" && typeof ip === "string" && ip && port) v.url = `http://${ip}${port === 80 ? "" : `:${port}`}/`;
    const { restarts, oomKills } = v.data as { restarts?: unknown; oomKills?: unknown };
    if (w.type === "container" && typeof restarts === "number") { v.restarts = restarts; v.oomKills = typeof oomKills === "number" ? oomKills : 0; }
    return v;
  });
  return {
    name: nameOf(c) ?? `contract-${c.id}`, contractId: c.id, nodeId: c.nodeId, state: c.state, version: c.deployment.version,
    approved: c.approved, approvedVersion: c.approvedVersion, costPerPeriod: c.costPerPeriod, workloads, updatedAt: c.updatedAt,
    ...(c.state === "deleted" ? { endReason: END_REASONS[c.deletedReason ?? ""] ?? c.deletedReason ?? "deleted (no reason recorded)" } : {}),
  };
}

/** What a signer is asked to sign, field by field: the contract's latest version as the ledger
 *  holds it (secrets are sealed to the node: only their names show). */
export interface SigningView extends ContractFacts {
  name: string;
  ownerTwinId: number;
  signers: Array<{ twinId: number; weight: number; required: boolean; signed: boolean }>;
  weightRequired: number;
  workloads: Array<{ name: string; type: string; version: number; fields: Record<string, string> }>;
}

function fieldText(key: string, v: unknown): string {
  if (isSealed(v)) return "(sealed)";
  if ((key === "size" || key === "memory" || key === "rootfsSize") && typeof v === "number") return formatBytes(v);
  if (key === "secretEnv" && v && typeof v === "object") return Object.keys(v).length ? `${Object.keys(v).join(", ")} (values sealed)` : "(none)";
  if (key === "env" && v && typeof v === "object") return Object.entries(v).map(([k, x]) => `${k}=${String(x)}`).join(" ") || "(none)";
  if (key === "mounts" && Array.isArray(v)) return v.map((m: { volume: string; mountpoint: string }) => `${m.volume} at ${m.mountpoint}`).join(", ") || "(none)";
  if (key === "logs" && v && typeof v === "object") {
    const l = v as { address: string; namespace: string };
    return l.address.startsWith("zdb:") ? `0-db ${l.address.slice(4)} of this deployment` : `0-db ${l.address} namespace ${l.namespace}`;
  }
  if (v === "") return "(image default)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function signingViewOf(c: Contract): SigningView {
  const signed = new Set(c.signatures.map((s) => s.twinId));
  return {
    contractId: c.id, name: nameOf(c) ?? `contract-${c.id}`, ownerTwinId: c.twinId, nodeId: c.nodeId, state: c.state, version: c.deployment.version,
    approved: c.approved, approvedVersion: c.approvedVersion, costPerPeriod: c.costPerPeriod,
    signers: c.deployment.signatureRequirement.requests.map((r) => ({ twinId: r.twinId, weight: r.weight, required: r.required, signed: signed.has(r.twinId) })),
    weightRequired: c.deployment.signatureRequirement.weightRequired,
    workloads: c.deployment.workloads.map((w) => ({
      name: w.name, type: w.type, version: w.version,
      fields: Object.fromEntries(Object.entries(w.data as Record<string, unknown>).map(([k, v]) => [k, fieldText(k, v)])),
    })),
  };
}

/** The 0-dbs of a contract that its node has provisioned, as addresses (null before its node
 *  has said where it is). */
export function zdbLookup(c: Contract | null): ZdbLookup {
  return (name) => {
    const d = c?.results[name]?.data as { namespace?: string; ips?: string[]; port?: number } | undefined;
    if (!d?.namespace || !d.ips?.[0] || !d.port) return null;
    const host = d.ips[0].includes(":") ? `[${d.ips[0]}]` : d.ips[0];
    return { address: `${host}:${d.port}`, namespace: d.namespace };
  };
}

/** Where a container's logs go: its `logs` as signed, or, when they name a 0-db of the deployment
 *  (`zdb:NAME`, the node fills it in), that 0-db's address from its result; null while unknown. */
export function logsTargetOf(c: Contract, logs: { address: string; namespace: string }): { address: string; namespace: string } | null {
  const sib = /^zdb:(.+)$/.exec(logs.address)?.[1];
  return sib ? zdbLookup(c)(sib) : { address: logs.address, namespace: logs.namespace };
}

/** Where a deployment stands: every workload ok (and approved), one in error, or neither yet. */
export function settledState(v: DeploymentView): "ok" | "error" | null {
  if (v.workloads.some((w) => w.state === "error")) return "error";
  if (v.approved && v.workloads.every((w) => w.state === "ok")) return "ok";
  return null;
}

/** The multi-signature's progress: the weight signed so far and the twins not yet signed. */
export function signatureProgress(c: Contract): { weight: number; weightRequired: number; waitingFor: number[] } {
  const req = c.deployment.signatureRequirement;
  const signed = new Set(c.signatures.map((s) => s.twinId));
  return {
    weight: req.requests.filter((r) => signed.has(r.twinId)).reduce((s, r) => s + r.weight, 0),
    weightRequired: req.weightRequired,
    waitingFor: req.requests.filter((r) => !signed.has(r.twinId)).map((r) => r.twinId),
  };
}

/** A contract that asks `twinId`'s signature, as `kosmos pending` shows it; null if it does not ask it. */
export function pendingOf(c: Contract, twinId: number): PendingSignature | null {
  const mine = c.deployment.signatureRequirement.requests.find((r) => r.twinId === twinId);
  if (!mine) return null;
  const { weight: weightSigned, weightRequired } = signatureProgress(c);
  return {
    contractId: c.id, name: nameOf(c) ?? `contract-${c.id}`, ownerTwinId: c.twinId, nodeId: c.nodeId, version: c.deployment.version,
    weight: mine.weight, required: mine.required, weightRequired, weightSigned, approvedVersion: c.approvedVersion,
    workloads: c.deployment.workloads.map((w) => ({ name: w.name, type: w.type })),
  };
}

/** Why a deployment settled in error: each failed workload with the node's reason. */
export function failureText(v: DeploymentView): string {
  return v.workloads.filter((w) => w.state === "error").map((w) => `${w.name}: ${w.message || "failed"}`).join("; ");
}

/** What a wait that ran out was still waiting for. */
export function pendingText(v: DeploymentView | null): string {
  if (!v) return "no answer from the ledger";
  if (!v.approved) return "the deployment is not approved yet (signatures missing)";
  return v.workloads.filter((w) => w.state !== "ok").map((w) => `${w.name} is ${w.state}${w.message ? ` (${w.message})` : ""}`).join(", ");
}

// What an update changes, per workload, shown before it is signed. Pure: the deployment on the
// ledger and the one the file would make (built with placeholder seals) in, a list of changes out.
// Secrets are sealed on both sides, so their values never compare: a changed secret shows as
// "secret changed" when the keyed digest says the workload changed and nothing visible did.
import { canonicalJson, formatBytes, isSealed, type Deployment, type Workload } from "../core/index.js";

export interface WorkloadChange {
  name: string;
  type: string;
  change: "added" | "removed" | "changed" | "unchanged";
  /** For "changed": each field that differs, "field: old → new" (secrets by name only). */
  fields: string[];
}

export interface DeploymentDiff {
  workloads: WorkloadChange[];
  /** Changes to the deployment itself: signers, description, the http ports kosmos prints. */
  other: string[];
}

const SIZE_FIELDS = new Set(["size", "memory", "rootfsSize"]);

function show(key: string, v: unknown): string {
  if (v === undefined) return "(none)";
  if (SIZE_FIELDS.has(key) && typeof v === "number") return formatBytes(v);
  if (isSealed(v)) return "(secret)";
  return typeof v === "string" ? JSON.stringify(v) : canonicalJson(v as object);
}

/** The fields of two versions of a workload's data that differ, as a person reads them. */
export function fieldChanges(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[k], b = after[k];
    if (isSealed(a) && isSealed(b)) continue;
    // Maps of values (env, secretEnv) are told key by key: which variable changed.
    if ((k === "env" || k === "secretEnv") && a && b && typeof a === "object" && typeof b === "object") {
      const am = a as Record<string, unknown>, bm = b as Record<string, unknown>;
      for (const n of [...new Set([...Object.keys(am), ...Object.keys(bm)])].sort()) {
        if (!(n in bm)) out.push(`${k}.${n} removed`);
        else if (!(n in am)) out.push(`${k}.${n} added`);
        else if (!isSealed(am[n]) && canonicalJson({ v: am[n] }) !== canonicalJson({ v: bm[n] })) out.push(`${k}.${n}: ${show(n, am[n])} → ${show(n, bm[n])}`);
      }
      continue;
    }
    if (k === "logs" && a && b && typeof a === "object" && typeof b === "object") {
      const { password: _pa, ...ra } = a as Record<string, unknown>;
      const { password: _pb, ...rb } = b as Record<string, unknown>;
      if (canonicalJson(ra) !== canonicalJson(rb)) out.push(`logs: ${show(k, ra)} → ${show(k, rb)}`);
      continue;
    }
    if (canonicalJson({ v: a ?? null }) !== canonicalJson({ v: b ?? null })) out.push(`${k}: ${show(k, a)} → ${show(k, b)}`);
  }
  return out;
}

/** `next` was built from the file against `previous` (unchanged workloads kept as they were, so
 *  the same object). */
export function diffDeployments(previous: Deployment, next: Deployment): DeploymentDiff {
  const workloads: WorkloadChange[] = [];
  const before = new Map(previous.workloads.map((w) => [w.name, w]));
  for (const w of next.workloads) {
    const old = before.get(w.name);
    if (!old) { workloads.push({ name: w.name, type: w.type, change: "added", fields: [] }); continue; }
    if (old.version === w.version) { workloads.push({ name: w.name, type: w.type, change: "unchanged", fields: [] }); continue; }
    const fields = old.type !== w.type ? [`type: ${old.type} → ${w.type}`] : fieldChanges(old.data as Record<string, unknown>, w.data as Record<string, unknown>);
    if (old.description !== w.description) fields.push(`description: ${JSON.stringify(old.description)} → ${JSON.stringify(w.description)}`);
    workloads.push({ name: w.name, type: w.type, change: "changed", fields: fields.length ? fields : ["secret changed"] });
  }
  const kept = new Set(next.workloads.map((w) => w.name));
  for (const w of previous.workloads) if (!kept.has(w.name)) workloads.push({ name: w.name, type: w.type, change: "removed", fields: [] });
  const other: string[] = [];
  if (canonicalJson(previous.signatureRequirement) !== canonicalJson(next.signatureRequirement)) other.push("signers changed");
  if (previous.description !== next.description) other.push(`description: ${JSON.stringify(previous.description)} → ${JSON.stringify(next.description)}`);
  const http = (d: Deployment) => { try { return canonicalJson((JSON.parse(d.metadata) as { http?: object }).http ?? {}); } catch { return "{}"; } };
  if (http(previous) !== http(next)) other.push("http ports changed");
  return { workloads, other };
}

/** One line per workload, as `kosmos plan` prints it. */
export function diffLines(d: DeploymentDiff): string[] {
  const mark = { added: "+", removed: "-", changed: "~", unchanged: "=" } as const;
  const lines = d.workloads.map((w) => `  ${mark[w.change]} ${w.name} (${w.type}) ${w.change}${w.fields.length ? `: ${w.fields.join("; ")}` : ""}`);
  return [...lines, ...d.other.map((o) => `  ~ ${o}`)];
}

export type { Workload };

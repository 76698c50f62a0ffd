// Deployment file → DeploymentSpec with every error pointing at its field (path and line:column),
// and secrets given as `{env: NAME}` resolved from the environment.
import { readFileSync } from "node:fs";
import { parseDocument, LineCounter, isNode, isMap, isScalar } from "yaml";
import { ValidationError } from "../../core/index.js";
import { describeIssue } from "./issues.js";
import { deploymentSpecSchema, type DeploymentSpec, type ContainerSpec, type SecretRef } from "./schema.js";

export type ResolvedLogs = { zdb: string } | { address: string; namespace: string; password?: string };
export type ResolvedContainer = Omit<ContainerSpec, "flist" | "secretEnv" | "logs"> & { flist: string; secretEnv: Record<string, string>; logs?: ResolvedLogs };

/** A spec whose secrets are resolved to their values (kept in memory only, sealed before they leave). */
export type ResolvedSpec = Omit<DeploymentSpec, "zdbs" | "containers"> & {
  zdbs: Array<Omit<DeploymentSpec["zdbs"][number], "password"> & { password: string }>;
  containers: ResolvedContainer[];
};

function pathText(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `${out ? "." : ""}${String(p)}`;
  return out || "(top level)";
}

export function parseDeploymentText(text: string, opts: { file?: string; env?: NodeJS.ProcessEnv } = {}): ResolvedSpec {
  const file = opts.file ?? "deployment";
  const env = opts.env ?? process.env;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  /** The offset of the node at `path` (or of its nearest ancestor); with `key`, of that key itself. */
  const offsetOf = (path: readonly PropertyKey[], key?: string): number | undefined => {
    let node: unknown;
    for (let i = path.length; i >= 0 && !isNode(node); i--) node = doc.getIn(path.slice(0, i) as unknown[], true);
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key);
      if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
    }
    return isNode(node) && node.range ? node.range[0] : undefined;
  };
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return file;
    const pos = lines.linePos(offset);
    return `${file}:${pos.line}:${pos.col}`;
  };
  const where = (path: readonly PropertyKey[]): string => at(offsetOf(path));
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ValidationError(`${at(e.pos?.[0])}: not valid YAML: ${e.message.split("\n")[0]}`, "line:column is where the YAML parser stopped; the mistake is there or just before");
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError(`${file}: a deployment file is a YAML mapping with at least \`name\` and \`zdbs\` or \`volumes\``);
  }
  const parsed = deploymentSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const valueAt = (path: readonly PropertyKey[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined), raw);
    // In the file's order, so the first message is the first mistake a reader meets.
    const found = parsed.error.issues.flatMap((i) => describeIssue(deploymentSpecSchema, i, valueAt))
      .map((l) => ({ ...l, offset: offsetOf(l.path, l.key) ?? -1 }))
      .sort((a, b) => a.offset - b.offset);
    const msgs = found.slice(0, 5).map((l) => `${at(l.offset < 0 ? undefined : l.offset)}: ${pathText(l.key ? [...l.path, l.key] : l.path)}: ${l.message}`);
    if (found.length > 5) msgs.push(`(and ${found.length - 5} more)`);
    throw new ValidationError(msgs.join("\n"), "fix the field named above; see docs/kosmos.md for the file's format");
  }
  const spec = parsed.data;
  const resolve = (s: SecretRef, path: PropertyKey[]): string => {
    if (typeof s === "string") return s;
    const v = env[s.env];
    if (v === undefined || v === "") throw new ValidationError(`${where(path)}: ${pathText(path)}: environment variable ${s.env} is not set`, `export ${s.env}=... before deploying`);
    return v;
  };
  const containers = spec.containers.map((c, i): ResolvedContainer => {
    const secretEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.secretEnv)) secretEnv[k] = resolve(v, ["containers", i, "secretEnv", k]);
    const logs = !c.logs || "zdb" in c.logs ? c.logs
      : { address: c.logs.address, namespace: c.logs.namespace, ...(c.logs.password !== undefined ? { password: resolve(c.logs.password, ["containers", i, "logs", "password"]) } : {}) };
    return { ...c, flist: resolve(c.flist, ["containers", i, "flist"]), secretEnv, logs };
  });
  return { ...spec, zdbs: spec.zdbs.map((z, i) => ({ ...z, password: resolve(z.password, ["zdbs", i, "password"]) })), containers };
}

export function parseDeploymentFile(path: string, env?: NodeJS.ProcessEnv): ResolvedSpec {
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    throw new ValidationError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseDeploymentText(text, { file: path, env });
}

/** The clear passwords of the 0-db namespaces the spec's containers log into (container → password). */
export function logPasswordsOf(spec: ResolvedSpec): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of spec.containers) {
    if (!c.logs) continue;
    const pw = "zdb" in c.logs ? spec.zdbs.find((z) => z.name === (c.logs as { zdb: string }).zdb)?.password : c.logs.password;
    if (pw) out[c.name] = pw;
  }
  return out;
}

// Deployment file → DeploymentSpec with every error pointing at its field (path and line:column),
// and secrets given as `{env: NAME}` resolved from the environment.
import { readFileSync } from "node:fs";
import { parseDocument, LineCounter, isNode } from "yaml";
import { ValidationError } from "../../core/index.js";
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
  const where = (path: readonly PropertyKey[]): string => {
    let node: unknown;
    for (let i = path.length; i >= 0 && !isNode(node); i--) node = doc.getIn(path.slice(0, i) as unknown[], true);
    const start = isNode(node) && node.range ? node.range[0] : undefined;
    if (start === undefined) return file;
    const pos = lines.linePos(start);
    return `${file}:${pos.line}:${pos.col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new ValidationError(`${file}${pos ? `:${pos.line}:${pos.col}` : ""}: not valid YAML: ${e.message.split("\n")[0]}`);
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ValidationError(`${file}: a deployment file is a YAML mapping with at least \`name\` and \`zdbs\` or \`volumes\``);
  }
  const parsed = deploymentSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const msgs = parsed.error.issues.slice(0, 5).map((i) => `${where(i.path)}: ${pathText(i.path)}: ${i.message}`);
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

// The deployment file, in a user's words: sizes like "10GiB", passwords inline or from the
// environment. Validated here; translate.ts turns it into core workloads.
import { z } from "zod";
import { describeError, nameSchema, parseSize } from "../../core/index.js";
import { checkRange } from "../network/plan.js";
import { cidrOverlaps, parseCidr } from "../../core/index.js";

const size = z.union([z.string(), z.number()]).transform((v, ctx) => {
  let n: number;
  try { n = parseSize(v); } catch (e) {
    ctx.addIssue({ code: "custom", message: describeError(e) });
    return z.NEVER;
  }
  if (!Number.isSafeInteger(n) || n <= 0) {
    ctx.addIssue({ code: "custom", message: `size must be more than 0 bytes, got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

/** A secret: inline, or `{env: NAME}` to keep it out of the file. */
export const secretSchema = z.union([
  z.string().min(1, "a password cannot be empty"),
  z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name") }).strict(),
]);
export type SecretRef = z.infer<typeof secretSchema>;

export const zdbSpecSchema = z.object({
  name: nameSchema,
  size,
  mode: z.enum(["user", "seq"]).default("user"),
  password: secretSchema,
  public: z.boolean().default(false),
  description: z.string().max(1024).optional(),
}).strict();

export const volumeSpecSchema = z.object({
  name: nameSchema,
  size,
  description: z.string().max(1024).optional(),
}).strict();

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");
const envValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));

/** Where a container's output is streamed: a 0-db of the same file (by name; it must be `mode: seq`),
 *  or any 0-db namespace given by address. */
export const containerLogsSpecSchema = z.union([
  z.object({ zdb: nameSchema }).strict(),
  z.object({
    address: z.string().regex(/^(\[[0-9a-f:]+\]|[^\s:]+):\d{1,5}$/i, "HOST:PORT"),
    namespace: z.string().min(1).max(128),
    password: secretSchema.optional(),
  }).strict(),
]);

export const containerSpecSchema = z.object({
  name: nameSchema,
  /** The flist's address (`kosmos flist build` prints it), or `{env: NAME}`. */
  flist: z.union([z.string().min(1).max(2048), z.object({ env: envName }).strict()]),
  entrypoint: z.string().max(4096).optional(),
  env: z.record(envName, envValue).default({}),
  secretEnv: z.record(envName, secretSchema).default({}),
  cpu: z.number().int().min(1).max(1024).default(1),
  memory: size,
  rootfsSize: size,
  mounts: z.array(z.object({ volume: nameSchema, mountpoint: z.string().regex(/^\/[^\0]*$/, "an absolute path") }).strict()).max(32).default([]),
  logs: containerLogsSpecSchema.optional(),
  /** A network of this file the container joins (its overlay address: `ip`, or allocated). */
  network: nameSchema.optional(),
  ip: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "an IPv4 address").optional(),
  /** The node it goes to (default: the file's `node`, or the planner's choice). */
  node: z.number().int().positive().optional(),
  /** The port the container serves HTTP on: kosmos then prints its URL (nothing changes on the node). */
  http: z.number().int().min(1).max(65535).optional(),
  description: z.string().max(1024).optional(),
}).strict();

/** A private network between the file's containers, across nodes (each node gets a /24 of it). */
export const networkSpecSchema = z.object({
  name: nameSchema,
  ipRange: z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "an IPv4 CIDR like 10.20.0.0/16"),
  description: z.string().max(1024).optional(),
}).strict();

export const signersSpecSchema = z.object({
  requests: z.array(z.object({
    twinId: z.number().int().positive(),
    weight: z.number().int().min(1).max(1000).default(1),
    required: z.boolean().default(false),
  }).strict()).min(1).max(32),
  weightRequired: z.number().int().min(1),
}).strict();

export const deploymentSpecSchema = z.object({
  name: nameSchema,
  description: z.string().max(4096).optional(),
  node: z.number().int().positive().optional(),
  farm: z.number().int().positive().optional(),
  zdbs: z.array(zdbSpecSchema).max(64).default([]),
  volumes: z.array(volumeSpecSchema).max(64).default([]),
  containers: z.array(containerSpecSchema).max(64).default([]),
  networks: z.array(networkSpecSchema).max(16).default([]),
  signers: signersSpecSchema.optional(),
}).strict().superRefine((d, ctx) => {
  const seen = new Map<string, string>();
  for (const kind of ["zdbs", "volumes", "containers", "networks"] as const) {
    d[kind].forEach((w, i) => {
      const other = seen.get(w.name);
      if (other) ctx.addIssue({ code: "custom", path: [kind, i, "name"], message: `"${w.name}" is already the name of ${other}; names are unique in a deployment` });
      else seen.set(w.name, `${kind}[${i}]`);
    });
  }
  if (d.zdbs.length + d.volumes.length + d.containers.length === 0) ctx.addIssue({ code: "custom", path: [], message: "the deployment has no workloads: add zdbs, volumes or containers" });
  d.networks.forEach((n, i) => {
    try { checkRange(n.ipRange); } catch (e) { ctx.addIssue({ code: "custom", path: ["networks", i, "ipRange"], message: describeError(e) }); return; }
    d.networks.slice(0, i).forEach((o) => {
      try { if (cidrOverlaps(parseCidr(o.ipRange), parseCidr(n.ipRange))) ctx.addIssue({ code: "custom", path: ["networks", i, "ipRange"], message: `${n.ipRange} overlaps network "${o.name}" (${o.ipRange})` }); } catch { /* reported on its own entry */ }
    });
  });
  d.containers.forEach((c, i) => {
    if (c.network && !d.networks.some((n) => n.name === c.network)) ctx.addIssue({ code: "custom", path: ["containers", i, "network"], message: `no network named "${c.network}" in this file` });
    if (c.ip && !c.network) ctx.addIssue({ code: "custom", path: ["containers", i, "ip"], message: "an overlay address needs a `network`" });
    c.mounts.forEach((m, j) => {
      if (!d.volumes.some((v) => v.name === m.volume)) ctx.addIssue({ code: "custom", path: ["containers", i, "mounts", j, "volume"], message: `no volume named "${m.volume}" in this file` });
    });
    if (c.logs && "zdb" in c.logs) {
      const z = d.zdbs.find((x) => x.name === (c.logs as { zdb: string }).zdb);
      if (!z) ctx.addIssue({ code: "custom", path: ["containers", i, "logs", "zdb"], message: `no zdb named "${c.logs.zdb}" in this file` });
      else if (z.mode !== "seq") ctx.addIssue({ code: "custom", path: ["containers", i, "logs", "zdb"], message: `zdb "${z.name}" must have \`mode: seq\` to hold logs (one entry per line)` });
    }
  });
  if (d.signers) {
    const total = d.signers.requests.reduce((s, r) => s + r.weight, 0);
    if (d.signers.weightRequired > total) ctx.addIssue({ code: "custom", path: ["signers", "weightRequired"], message: `weightRequired ${d.signers.weightRequired} exceeds the total weight ${total}` });
    const ids = d.signers.requests.map((r) => r.twinId);
    if (new Set(ids).size !== ids.length) ctx.addIssue({ code: "custom", path: ["signers", "requests"], message: "a twin is listed twice" });
  }
});
export type DeploymentSpec = z.infer<typeof deploymentSpecSchema>;
export type ZdbSpec = z.infer<typeof zdbSpecSchema>;
export type VolumeSpec = z.infer<typeof volumeSpecSchema>;
export type ContainerSpec = z.infer<typeof containerSpecSchema>;
export type NetworkSpec = z.infer<typeof networkSpecSchema>;

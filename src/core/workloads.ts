// The workload types a deployment can hold (ARCHITECTURE.md, "Workload types"). Every secret is a
// Sealed value: the schema makes a clear-text secret impossible to put on the ledger.
import { z } from "zod";
import { sealedSchema } from "./sealed.js";
import type { Capacity } from "./units.js";

export const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/i, "letters, digits, - and _, starting with a letter or digit, at most 63");
const size = z.number().int().positive().max(2 ** 50);
const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "an IPv4 CIDR like 10.1.0.0/16");
const url = z.string().min(1).max(2048);

export const zdbDataSchema = z.object({
  size,
  mode: z.enum(["user", "seq"]).default("user"),
  password: sealedSchema,
  public: z.boolean().default(false),
}).strict();

export const volumeDataSchema = z.object({ size }).strict();

export const containerDataSchema = z.object({
  flist: url,
  entrypoint: z.string().max(4096).default(""),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().max(65536)).default({}),
  secretEnv: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), sealedSchema).default({}),
  cpu: z.number().int().min(1).max(1024),
  memory: size,
  rootfsSize: size,
  mounts: z.array(z.object({ volume: nameSchema, mountpoint: z.string().regex(/^\/[^\0]*$/) }).strict()).max(32).default([]),
  network: nameSchema.optional(),
  ip: z.string().optional(),
  /** Stream stdout/stderr into a 0-db namespace: address "host:port", namespace, sealed password. */
  logs: z.object({ address: z.string().max(256), namespace: z.string().max(128), password: sealedSchema.optional() }).strict().optional(),
}).strict();

export const networkDataSchema = z.object({
  ipRange: cidr,
  subnet: cidr,
  wgPrivateKey: sealedSchema,
  wgListenPort: z.number().int().min(1).max(65535),
  peers: z.array(z.object({
    subnet: cidr,
    wgPublicKey: z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=$/, "a WireGuard public key (base64)"),
    allowedIps: z.array(cidr).max(256),
    endpoint: z.string().max(256).optional(),
  }).strict()).max(256).default([]),
}).strict();

export const gatewayNameProxyDataSchema = z.object({
  name: nameSchema,
  backends: z.array(url).min(1).max(16),
  tlsPassthrough: z.boolean().default(false),
}).strict();

export const gatewayFqdnProxyDataSchema = z.object({
  fqdn: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/i, "a fully qualified domain name"),
  backends: z.array(url).min(1).max(16),
  tlsPassthrough: z.boolean().default(false),
}).strict();

const base = { name: nameSchema, version: z.number().int().min(0), description: z.string().max(1024).default("") };

export const workloadSchema = z.discriminatedUnion("type", [
  z.object({ ...base, type: z.literal("zdb"), data: zdbDataSchema }).strict(),
  z.object({ ...base, type: z.literal("volume"), data: volumeDataSchema }).strict(),
  z.object({ ...base, type: z.literal("container"), data: containerDataSchema }).strict(),
  z.object({ ...base, type: z.literal("network"), data: networkDataSchema }).strict(),
  z.object({ ...base, type: z.literal("gateway-name-proxy"), data: gatewayNameProxyDataSchema }).strict(),
  z.object({ ...base, type: z.literal("gateway-fqdn-proxy"), data: gatewayFqdnProxyDataSchema }).strict(),
]);
export type Workload = z.infer<typeof workloadSchema>;
export type WorkloadType = Workload["type"];
export type WorkloadOf<T extends WorkloadType> = Extract<Workload, { type: T }>;
export const WORKLOAD_TYPES = ["zdb", "volume", "container", "network", "gateway-name-proxy", "gateway-fqdn-proxy"] as const;

/** A node's report of one workload (ARCHITECTURE.md: `{state, message, data, created}`). */
export const workloadStateSchema = z.enum(["init", "ok", "error", "deleted", "paused"]);
export type WorkloadState = z.infer<typeof workloadStateSchema>;
export const workloadResultSchema = z.object({
  name: nameSchema,
  state: workloadStateSchema,
  message: z.string().max(4096).default(""),
  data: z.record(z.string(), z.unknown()).default({}),
  /** Ledger-time seconds (the block time the node last saw) when the state was reached. */
  created: z.number().int().min(0),
}).strict();
export type WorkloadResult = z.infer<typeof workloadResultSchema>;

/** What one workload reserves on its node. */
export function workloadCapacity(w: Workload): Capacity {
  switch (w.type) {
    case "zdb": return { cru: 0, mru: 0, sru: 0, hru: w.data.size };
    case "volume": return { cru: 0, mru: 0, sru: w.data.size, hru: 0 };
    // The writable root is a tmpfs (RAM) outliving process restarts: it is reserved as memory.
    case "container": return { cru: w.data.cpu, mru: w.data.memory + w.data.rootfsSize, sru: 0, hru: 0 };
    default: return { cru: 0, mru: 0, sru: 0, hru: 0 };
  }
}

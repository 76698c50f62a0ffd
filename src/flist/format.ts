// The flist document: a small description of a file system tree whose file contents live elsewhere,
// as content-addressed chunks. The document is addressed by the SHA-256 of its canonical JSON, so a
// node that holds the hash can check what a hub served it, and each file lists its chunks' hashes,
// so every byte fetched is checked too. See docs/flist.md.
import { z } from "zod";
import { canonicalJson, sha256Hex, ValidationError, formatIssues } from "../core/index.js";

export const FLIST_VERSION = 1;
/** Content is cut into chunks of this size (the last chunk of a file may be shorter). */
export const CHUNK_SIZE = 1024 * 1024;

const hash = z.string().regex(/^[0-9a-f]{64}$/, "a SHA-256, 64 lowercase hex digits");
const relPath = z.string().min(1).max(4096).refine((p) => isSafeRelativePath(p), "a relative path inside the root (no '..', no leading '/')");
const common = { path: relPath, mode: z.number().int().min(0).max(0o7777), uid: z.number().int().min(0), gid: z.number().int().min(0) };

export const flistEntrySchema = z.discriminatedUnion("type", [
  z.object({ ...common, type: z.literal("dir") }).strict(),
  z.object({ ...common, type: z.literal("file"), size: z.number().int().min(0), chunks: z.array(hash) }).strict(),
  z.object({ ...common, type: z.literal("symlink"), target: z.string().min(1).max(4096) }).strict(),
]);
export type FlistEntry = z.infer<typeof flistEntrySchema>;

/** What an image says about how to run it (OCI image config's entrypoint/cmd/env/workdir). */
export const imageConfigSchema = z.object({
  entrypoint: z.array(z.string()).default([]),
  cmd: z.array(z.string()).default([]),
  env: z.array(z.string()).default([]),
  workdir: z.string().default("/"),
}).strict();
export type ImageConfig = z.infer<typeof imageConfigSchema>;

export const flistSchema = z.object({
  version: z.literal(FLIST_VERSION),
  chunkSize: z.number().int().positive(),
  /** Sorted by path; a directory comes before what it holds. */
  entries: z.array(flistEntrySchema),
  config: imageConfigSchema,
}).strict();
export type Flist = z.infer<typeof flistSchema>;

/** The flist's address: SHA-256 of its canonical JSON. */
export function flistHash(f: Flist): string {
  return sha256Hex(canonicalJson(f));
}

export function parseFlist(v: unknown): Flist {
  const r = flistSchema.safeParse(v);
  if (!r.success) throw new ValidationError(`not a valid flist: ${formatIssues(r.error)}`);
  return r.data;
}

/** Total content size and the set of distinct chunks. */
export function flistStats(f: Flist): { files: number; size: number; chunks: string[] } {
  const chunks = new Set<string>();
  let size = 0, files = 0;
  for (const e of f.entries) if (e.type === "file") { files++; size += e.size; for (const c of e.chunks) chunks.add(c); }
  return { files, size, chunks: [...chunks] };
}

export function isSafeRelativePath(p: string): boolean {
  if (p.startsWith("/") || p.includes("\0")) return false;
  return p.split("/").every((s) => s !== ".." && s !== "." && s !== "");
}

/** Normalise an archive member name ("./a/b/", "/a//b") to "a/b"; throws if it leaves the root. */
export function normaliseMemberPath(name: string): string {
  const parts: string[] = [];
  for (const s of name.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") throw new ValidationError(`archive member "${name}" escapes the root ('..')`, "rebuild the image without paths outside its root");
    parts.push(s);
  }
  return parts.join("/");
}

/**
 * Where a symlink at `linkPath` pointing at `target` lands, relative to the root, or null when it
 * resolves outside. An absolute target is outside unless it is read as inside the image root: an
 * image's `/usr/bin/x` means its own /usr/bin/x when run in a container, so absolute targets are
 * resolved against the root; only `..` climbing above the root is an escape.
 */
export function resolveSymlinkTarget(linkPath: string, target: string): string | null {
  const base = target.startsWith("/") ? [] : linkPath.split("/").slice(0, -1);
  for (const s of target.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") { if (!base.length) return null; base.pop(); } else base.push(s);
  }
  return base.join("/");
}

/**
 * Checks that materialising `f` under a root cannot write outside it: every entry's parents are
 * directories of the flist (never symlinks or files), no path appears twice, symlinks stay inside.
 */
export function checkTree(f: Flist): void {
  const kinds = new Map<string, FlistEntry["type"]>();
  for (const e of f.entries) {
    if (kinds.has(e.path)) throw new ValidationError(`flist lists ${e.path} twice`);
    const slash = e.path.lastIndexOf("/");
    if (slash > 0) {
      const parent = e.path.slice(0, slash);
      const k = kinds.get(parent);
      if (k !== "dir") throw new ValidationError(`flist entry ${e.path}: its parent ${parent} is ${k ? `a ${k}` : "not listed before it"}`, "a folder must come before what it holds, and never be a symlink");
    }
    if (e.type === "symlink" && resolveSymlinkTarget(e.path, e.target) === null) throw new ValidationError(`flist symlink ${e.path} -> ${e.target} points outside the root`);
    if (e.type === "file") {
      const expect = Math.ceil(e.size / f.chunkSize);
      if (e.chunks.length !== expect) throw new ValidationError(`flist file ${e.path}: ${e.chunks.length} chunks for ${e.size} bytes (expected ${expect})`);
    }
    kinds.set(e.path, e.type);
  }
}

// The node's flist cache (`${dataDir}/flist-cache/`): chunks by hash (shared by every flist),
// flist documents by hash, and one read-only tree per flist hash, materialised once and used as the
// lower layer of every container's overlayfs. Every chunk is checked against its hash before use.
import { chmod, lchown, mkdir, open, readFile, rename, rm, stat, symlink, writeFile, chown, readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { sha256Hex, ValidationError, formatBytes } from "../core/index.js";
import { fetchFlist, HubClient } from "./client.js";
import { checkTree, flistStats, parseFlist, type Flist } from "./format.js";

export interface EnsureOptions {
  /** Called as bytes arrive: (bytes fetched so far, bytes to fetch). */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  parallel?: number;
}
export interface CachedFlist { hash: string; flist: Flist; lower: string }

function exists(p: string): Promise<boolean> { return stat(p).then(() => true, () => false); }

export class FlistCache {
  private inflight = new Map<string, Promise<CachedFlist>>();
  constructor(readonly root: string) {}
  chunkPath(h: string): string { return join(this.root, "chunks", h.slice(0, 2), h); }
  treePath(hash: string): string { return join(this.root, "trees", hash); }
  private docPath(hash: string): string { return join(this.root, "flists", `${hash}.json`); }

  /** The tree of an flist already materialised here, or null. */
  async cached(hash: string): Promise<CachedFlist | null> {
    if (!(await exists(join(this.root, "trees", `${hash}.ok`)))) return null;
    const flist = parseFlist(JSON.parse(await readFile(this.docPath(hash), "utf8")));
    return { hash, flist, lower: this.treePath(hash) };
  }

  /** Fetch (unless cached), verify and materialise the flist at `address`; its read-only tree. */
  async ensure(address: string, opts: EnsureOptions = {}): Promise<CachedFlist> {
    const pin = /#([0-9a-f]{64})$/.exec(address)?.[1];
    if (pin) { const c = await this.cached(pin); if (c) return c; }
    const { flist, hash, address: a } = await fetchFlist(address, opts.signal);
    const c = await this.cached(hash);
    if (c) return c;
    let p = this.inflight.get(hash);
    if (!p) {
      p = this.materialise(new HubClient(a.hub), flist, hash, opts).finally(() => this.inflight.delete(hash));
      this.inflight.set(hash, p);
    }
    return p;
  }

  private async fetchChunks(hub: HubClient, flist: Flist, opts: EnsureOptions, address: string): Promise<void> {
    // Sizes of the chunks we still need, for progress in bytes.
    const sizes = new Map<string, number>();
    for (const e of flist.entries) if (e.type === "file") for (const [i, h] of e.chunks.entries()) sizes.set(h, Math.min(flist.chunkSize, e.size - i * flist.chunkSize));
    const need: string[] = [];
    for (const h of sizes.keys()) if (!(await exists(this.chunkPath(h)))) need.push(h);
    const total = need.reduce((s, h) => s + sizes.get(h)!, 0);
    let done = 0;
    opts.onProgress?.(0, total);
    const queue = [...need];
    await Promise.all(Array.from({ length: Math.min(opts.parallel ?? 4, queue.length) }, async () => {
      for (let h = queue.shift(); h; h = queue.shift()) {
        opts.signal?.throwIfAborted();
        const data = await hub.getChunk(h, opts.signal);
        if (sha256Hex(data) !== h) throw new ValidationError(`flist ${address}: chunk ${h} from the hub does not match its hash (tampered or corrupt); refused`, "republish the flist, or use another hub");
        const p = this.chunkPath(h);
        await mkdir(dirname(p), { recursive: true });
        const tmp = `${p}.${randomBytes(4).toString("hex")}.tmp`;
        await writeFile(tmp, data);
        await rename(tmp, p);
        done += data.length;
        opts.onProgress?.(done, total);
      }
    }));
  }

  private async materialise(hub: HubClient, flist: Flist, hash: string, opts: EnsureOptions): Promise<CachedFlist> {
    checkTree(flist);
    await this.fetchChunks(hub, flist, opts, `${hub.url} ${hash.slice(0, 12)}`);
    await mkdir(join(this.root, "flists"), { recursive: true });
    await writeFile(this.docPath(hash), JSON.stringify(flist));
    const tmp = join(this.root, "trees", `${hash}.${randomBytes(4).toString("hex")}.tmp`);
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    try {
      const dirs: Array<{ p: string; mode: number }> = [];
      for (const e of flist.entries) {
        const p = join(tmp, e.path);
        if (e.type === "dir") { await mkdir(p, { mode: 0o700 }); await chown(p, e.uid, e.gid); dirs.push({ p, mode: e.mode }); }
        else if (e.type === "symlink") { await symlink(e.target, p); await lchown(p, e.uid, e.gid); }
        else {
          const fh = await open(p, "wx", 0o600);
          try {
            for (const h of e.chunks) {
              const d = await readFile(this.chunkPath(h));
              if (sha256Hex(d) !== h) throw new ValidationError(`cached chunk ${h} is corrupt`, "remove the node's flist cache");
              await fh.write(d);
            }
          } finally { await fh.close(); }
          await chown(p, e.uid, e.gid);
          await chmod(p, e.mode); // after chown, which clears setuid bits
        }
      }
      for (const d of dirs.reverse()) await chmod(d.p, d.mode);
      await rm(this.treePath(hash), { recursive: true, force: true });
      await rename(tmp, this.treePath(hash));
      await writeFile(join(this.root, "trees", `${hash}.ok`), "");
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return { hash, flist, lower: this.treePath(hash) };
  }

  /** Remove trees (and then chunks) not used by the flists in `keep`. */
  async gc(keep: Set<string>): Promise<void> {
    const trees = join(this.root, "trees");
    const used = new Set<string>();
    for (const h of keep) { const c = await this.cached(h).catch(() => null); if (c) for (const x of flistStats(c.flist).chunks) used.add(x); }
    for (const n of await readdir(trees).catch(() => [] as string[])) {
      const h = n.slice(0, 64);
      if (!keep.has(h)) await rm(join(trees, n), { recursive: true, force: true });
    }
    for (const d of await readdir(join(this.root, "chunks")).catch(() => [] as string[]))
      for (const n of await readdir(join(this.root, "chunks", d))) if (!used.has(n)) await rm(join(this.root, "chunks", d, n), { force: true });
  }
}

/** "fetching flist: 45% of 310 MB" */
export function progressMessage(done: number, total: number): string {
  return `fetching flist: ${total ? Math.floor((done / total) * 100) : 100}% of ${formatBytes(total)}`;
}

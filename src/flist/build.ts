// The builder: a folder or an image archive (docker save / OCI layout tar) → an flist, with its
// content handed chunk by chunk to a ChunkSink (the hub uploader, or a local store). Anything that
// would place a file outside the root is refused before a byte is sent.
import { lstat, open, readdir, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { sha256Hex, ValidationError } from "../core/index.js";
import { CHUNK_SIZE, FLIST_VERSION, type Flist, type FlistEntry, type ImageConfig, normaliseMemberPath, resolveSymlinkTarget } from "./format.js";
import { readTar, type TarEntry } from "./tar.js";

export interface ChunkSink {
  /** Store one chunk (the sink may skip chunks it already has). */
  put(hash: string, data: Buffer): Promise<void>;
  /** Called once at the end: wait for anything still in flight. */
  flush?(): Promise<void>;
}
export interface BuildOptions {
  onProgress?: (message: string) => void;
  chunkSize?: number;
}

async function chunkBuffer(data: Buffer, sink: ChunkSink, chunkSize: number): Promise<string[]> {
  const out: string[] = [];
  for (let off = 0; off < data.length; off += chunkSize) {
    const piece = data.subarray(off, Math.min(off + chunkSize, data.length));
    const h = sha256Hex(piece);
    await sink.put(h, piece);
    out.push(h);
  }
  return out;
}

function sortEntries(entries: FlistEntry[]): FlistEntry[] {
  // Parents before children: compare path component lists.
  return entries.sort((a, b) => {
    const pa = a.path.split("/"), pb = b.path.split("/");
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
    return pa.length - pb.length;
  });
}

/** An flist of the folder `root` (owners, modes and symlinks kept; sockets/fifos skipped). */
export async function buildFromFolder(root: string, sink: ChunkSink, opts: BuildOptions = {}): Promise<Flist> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const st = await stat(root).catch(() => null);
  if (!st?.isDirectory()) throw new ValidationError(`${root} is not a folder`);
  const entries: FlistEntry[] = [];
  let done = 0, lastReport = 0;
  const buf = Buffer.alloc(chunkSize);
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const s = await lstat(abs);
      const base = { path, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid };
      if (s.isDirectory()) { entries.push({ ...base, type: "dir" }); await walk(path); }
      else if (s.isSymbolicLink()) {
        const target = await readlink(abs);
        if (resolveSymlinkTarget(path, target) === null) throw new ValidationError(`symlink ${path} -> ${target} points outside the root`, "make it relative to a place inside the folder");
        entries.push({ ...base, type: "symlink", target });
      } else if (s.isFile()) {
        const chunks: string[] = [];
        const fh = await open(abs, "r");
        try {
          for (;;) {
            let n = 0;
            while (n < chunkSize) { const r = await fh.read(buf, n, chunkSize - n, null); if (!r.bytesRead) break; n += r.bytesRead; }
            if (!n) break;
            const piece = Buffer.from(buf.subarray(0, n)); // the sink may keep it
            const h = sha256Hex(piece);
            await sink.put(h, piece);
            chunks.push(h);
            done += n;
            if (n < chunkSize) break;
          }
        } finally { await fh.close(); }
        entries.push({ ...base, type: "file", size: s.size, chunks });
        if (opts.onProgress && done - lastReport >= 16 * CHUNK_SIZE) { lastReport = done; opts.onProgress(`hashed ${(done / 1e6).toFixed(0)} MB, ${entries.length} entries`); }
      } else if (s.isBlockDevice() || s.isCharacterDevice()) {
        throw new ValidationError(`${path} is a device file; flists hold files, folders and symlinks only`);
      }
    }
  }
  await walk("");
  await sink.flush?.();
  opts.onProgress?.(`done: ${(done / 1e6).toFixed(1)} MB in ${entries.length} entries`);
  return { version: FLIST_VERSION, chunkSize, entries: sortEntries(entries), config: { entrypoint: [], cmd: [], env: [], workdir: "/" } };
}

// ---- image archives ----

type Node =
  | { type: "dir"; mode: number; uid: number; gid: number }
  | { type: "file"; mode: number; uid: number; gid: number; data: Buffer }
  | { type: "symlink"; mode: number; uid: number; gid: number; target: string };

function maybeGunzip(b: Buffer): Buffer { return b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b; }

/** Layer paths and config of a docker-save or OCI-layout archive, read from its members. */
function locateImage(files: Map<string, Buffer>): { layers: string[]; config: Buffer } {
  const get = (p: string) => {
    const b = files.get(normaliseMemberPath(p));
    if (!b) throw new ValidationError(`image archive lacks ${p}`, "give a `docker save` tarball or an OCI image layout tar");
    return b;
  };
  const json = (p: string) => { try { return JSON.parse(get(p).toString("utf8")); } catch (e) { if (e instanceof ValidationError) throw e; throw new ValidationError(`image archive: ${p} is not JSON`); } };
  if (files.has("manifest.json")) {
    const m = json("manifest.json");
    if (!Array.isArray(m) || !m[0]?.Config || !Array.isArray(m[0]?.Layers)) throw new ValidationError("image archive: manifest.json is not a docker save manifest");
    return { layers: m[0].Layers, config: get(m[0].Config) };
  }
  if (files.has("index.json")) {
    const blob = (digest: string) => `blobs/${String(digest).replace(":", "/")}`;
    let m = json(blob(json("index.json").manifests?.[0]?.digest));
    while (Array.isArray(m.manifests)) {
      const pick = m.manifests.find((x: { platform?: { architecture?: string } }) => !x.platform || x.platform.architecture === "amd64") ?? m.manifests[0];
      m = json(blob(pick.digest));
    }
    if (!m.config?.digest || !Array.isArray(m.layers)) throw new ValidationError("image archive: OCI manifest without config or layers");
    return { layers: m.layers.map((l: { digest: string }) => blob(l.digest)), config: get(blob(m.config.digest)) };
  }
  throw new ValidationError("not an image archive: neither manifest.json (docker save) nor index.json (OCI layout) at its top", "give a folder, a `docker save` tarball or an OCI image layout tar");
}

function applyLayer(tree: Map<string, Node>, layer: Buffer, layerName: string): void {
  const entries: Array<TarEntry & { path: string }> = [];
  for (const e of readTar(layer)) {
    const path = normaliseMemberPath(e.name);
    if (path) entries.push({ ...e, path });
  }
  const removeTree = (p: string, keepSelf: boolean) => {
    for (const k of [...tree.keys()]) if (k.startsWith(`${p}/`) || (!keepSelf && k === p)) tree.delete(k);
  };
  // Whiteouts hide what lower layers hold; apply them before this layer's own entries.
  for (const e of entries) {
    const slash = e.path.lastIndexOf("/");
    const dir = slash < 0 ? "" : e.path.slice(0, slash), base = e.path.slice(slash + 1);
    if (base === ".wh..wh..opq") { if (dir) removeTree(dir, true); else tree.clear(); }
    else if (base.startsWith(".wh.")) removeTree(dir ? `${dir}/${base.slice(4)}` : base.slice(4), false);
  }
  for (const e of entries) {
    const base = e.path.slice(e.path.lastIndexOf("/") + 1);
    if (base.startsWith(".wh.")) continue;
    // Refuse a member whose parent is a symlink: writing through it could land anywhere.
    const parts = e.path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      const n = tree.get(p);
      if (n?.type === "symlink") throw new ValidationError(`${layerName}: ${e.path} lies under the symlink ${p}`, "archives must not write through symlinks");
      if (n && n.type !== "dir") throw new ValidationError(`${layerName}: ${e.path} lies under the file ${p}`);
      if (!n) tree.set(p, { type: "dir", mode: 0o755, uid: 0, gid: 0 });
    }
    const meta = { mode: e.mode, uid: e.uid, gid: e.gid };
    if (e.type !== "dir") removeTree(e.path, false);
    switch (e.type) {
      case "dir": tree.set(e.path, { type: "dir", ...meta }); break;
      case "file": tree.set(e.path, { type: "file", ...meta, data: e.data }); break;
      case "symlink":
        if (resolveSymlinkTarget(e.path, e.linkname) === null) throw new ValidationError(`${layerName}: symlink ${e.path} -> ${e.linkname} points outside the root`, "rebuild the image with links that stay inside it");
        tree.set(e.path, { type: "symlink", ...meta, target: e.linkname });
        break;
      case "hardlink": {
        const to = normaliseMemberPath(e.linkname);
        const n = tree.get(to);
        if (!n) throw new ValidationError(`${layerName}: hard link ${e.path} -> ${e.linkname} points to nothing inside the image`);
        if (n.type !== "file") throw new ValidationError(`${layerName}: hard link ${e.path} -> ${e.linkname} is not to a file`);
        tree.set(e.path, { ...n });
        break;
      }
      default: break; // devices, fifos: not part of an flist
    }
  }
}

/** An flist of a `docker save` or OCI layout tar: layers applied in order, whiteouts honoured. */
export async function buildFromImage(archivePath: string, sink: ChunkSink, opts: BuildOptions = {}): Promise<Flist> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const outer = maybeGunzip(await readFile(archivePath));
  const files = new Map<string, Buffer>();
  for (const e of readTar(outer)) if (e.type === "file") files.set(normaliseMemberPath(e.name), e.data);
  const { layers, config } = locateImage(files);
  const tree = new Map<string, Node>();
  layers.forEach((l, i) => {
    opts.onProgress?.(`applying layer ${i + 1}/${layers.length}`);
    const b = files.get(normaliseMemberPath(l));
    if (!b) throw new ValidationError(`image archive lacks layer ${l}`);
    applyLayer(tree, maybeGunzip(b), `layer ${i + 1}`);
  });
  let cfg: ImageConfig = { entrypoint: [], cmd: [], env: [], workdir: "/" };
  try {
    const c = JSON.parse(config.toString("utf8")).config ?? {};
    cfg = { entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], env: c.Env ?? [], workdir: c.WorkingDir || "/" };
  } catch { throw new ValidationError("image archive: its config is not JSON"); }
  const entries: FlistEntry[] = [];
  let done = 0;
  for (const [path, n] of tree) {
    const base = { path, mode: n.mode, uid: n.uid, gid: n.gid };
    if (n.type === "file") {
      entries.push({ ...base, type: "file", size: n.data.length, chunks: await chunkBuffer(n.data, sink, chunkSize) });
      done += n.data.length;
    } else if (n.type === "symlink") entries.push({ ...base, type: "symlink", target: n.target });
    else entries.push({ ...base, type: "dir" });
  }
  await sink.flush?.();
  opts.onProgress?.(`done: ${(done / 1e6).toFixed(1)} MB in ${entries.length} entries`);
  return { version: FLIST_VERSION, chunkSize, entries: sortEntries(entries), config: cfg };
}

/** A folder or an image archive, whichever `source` is. */
export async function buildFlist(source: string, sink: ChunkSink, opts: BuildOptions = {}): Promise<Flist> {
  const st = await stat(source).catch(() => null);
  if (!st) throw new ValidationError(`${source} does not exist`);
  return st.isDirectory() ? buildFromFolder(source, sink, opts) : buildFromImage(source, sink, opts);
}

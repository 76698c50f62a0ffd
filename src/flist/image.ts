// An flist of a `docker save` or OCI layout tar, in flat memory whatever the image's size.
//
// Two passes over the layers, both streamed. The first applies every layer's entries to a tree of
// metadata (whiteouts, opaque folders, hard links, and every refusal of a path or link that would
// leave the root) and notes, for each file, which layer entry holds its content — no content is
// kept, and nothing reaches the sink, so a refused archive uploads nothing. The second reads the
// layers again and hashes, chunk by chunk, only the entries whose content is in the final tree.
import { ValidationError } from "../core/index.js";
import { ImageArchive, type LayerEntry } from "./archive.js";
import { chunkStream, sortEntries, type BuildOptions, type ChunkSink } from "./chunks.js";
import { CHUNK_SIZE, FLIST_VERSION, type Flist, type FlistEntry, type ImageConfig, normaliseMemberPath, resolveSymlinkTarget } from "./format.js";

/** Where a file's content is: entry `entry` of layer `layer` (counting every entry in order). */
interface Source { layer: number; entry: number }
type Meta = { mode: number; uid: number; gid: number };
type Node =
  | ({ type: "dir" } & Meta)
  | ({ type: "file"; size: number; src: Source; chunks?: string[] } & Meta)
  | ({ type: "symlink"; target: string } & Meta);

/** Layer paths and config member of a docker-save or OCI-layout archive, read from its members. */
async function locateImage(a: ImageArchive): Promise<{ layers: string[]; config: string }> {
  const json = async (p: string) => {
    const b = await a.readSmall(p, "manifest");
    try { return JSON.parse(b.toString("utf8")); } catch (e) { throw new ValidationError(`image archive: ${p} is not JSON`, undefined, { cause: e }); }
  };
  if (a.has("manifest.json")) {
    const m = await json("manifest.json");
    if (!Array.isArray(m) || typeof m[0]?.Config !== "string" || !Array.isArray(m[0]?.Layers)) throw new ValidationError("image archive: manifest.json is not a docker save manifest");
    return { layers: m[0].Layers.map(String), config: m[0].Config };
  }
  if (a.has("index.json")) {
    const blob = (digest: unknown) => `blobs/${String(digest).replace(":", "/")}`;
    let m = await json(blob((await json("index.json")).manifests?.[0]?.digest));
    for (let depth = 0; Array.isArray(m.manifests); depth++) {
      if (depth > 8) throw new ValidationError("image archive: OCI indexes nested too deep");
      const pick = m.manifests.find((x: { platform?: { architecture?: string } }) => !x.platform || x.platform.architecture === "amd64") ?? m.manifests[0];
      m = await json(blob(pick?.digest));
    }
    if (!m.config?.digest || !Array.isArray(m.layers)) throw new ValidationError("image archive: OCI manifest without config or layers");
    return { layers: m.layers.map((l: { digest: string }) => blob(l.digest)), config: blob(m.config.digest) };
  }
  throw new ValidationError("not an image archive: neither manifest.json (docker save) nor index.json (OCI layout) at its top", "give a folder, a `docker save` tarball or an OCI image layout tar");
}

/** Pass 1 for one layer: its entries applied to `tree` (metadata and content sources only). */
async function applyLayer(tree: Map<string, Node>, a: ImageArchive, member: string, layer: number): Promise<void> {
  const layerName = `layer ${layer + 1}`;
  const removeTree = (p: string, keepSelf: boolean) => {
    for (const k of [...tree.keys()]) if (k.startsWith(`${p}/`) || (!keepSelf && k === p)) tree.delete(k);
  };
  // Whiteouts hide what lower layers hold, and apply before this layer's own entries wherever they
  // stand in it: collect them, and this layer's entries, then apply whiteouts first.
  const whiteouts: string[] = [];
  const own: Array<{ path: string; e: Omit<LayerEntry, "body">; entry: number }> = [];
  let index = 0;
  for await (const e of a.layer(member)) {
    const entry = index++;
    const path = normaliseMemberPath(e.name);
    if (!path) continue;
    const base = path.slice(path.lastIndexOf("/") + 1);
    if (base.startsWith(".wh.")) { whiteouts.push(path); continue; }
    const { body: _body, ...meta } = e;
    own.push({ path, e: meta, entry });
  }
  for (const path of whiteouts) {
    const slash = path.lastIndexOf("/");
    const dir = slash < 0 ? "" : path.slice(0, slash), base = path.slice(slash + 1);
    if (base === ".wh..wh..opq") { if (dir) removeTree(dir, true); else tree.clear(); }
    else removeTree(dir ? `${dir}/${base.slice(4)}` : base.slice(4), false);
  }
  for (const { path, e, entry } of own) {
    // Refuse a member whose parent is a symlink: writing through it could land anywhere.
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      const n = tree.get(p);
      if (n?.type === "symlink") throw new ValidationError(`${layerName}: ${path} lies under the symlink ${p}`, "archives must not write through symlinks");
      if (n && n.type !== "dir") throw new ValidationError(`${layerName}: ${path} lies under the file ${p}`);
      if (!n) tree.set(p, { type: "dir", mode: 0o755, uid: 0, gid: 0 });
    }
    const meta = { mode: e.mode, uid: e.uid, gid: e.gid };
    if (e.type !== "dir") removeTree(path, false);
    switch (e.type) {
      case "dir": tree.set(path, { type: "dir", ...meta }); break;
      case "file": tree.set(path, { type: "file", ...meta, size: e.size, src: { layer, entry } }); break;
      case "symlink":
        if (resolveSymlinkTarget(path, e.linkname) === null) throw new ValidationError(`${layerName}: symlink ${path} -> ${e.linkname} points outside the root`, "rebuild the image with links that stay inside it");
        tree.set(path, { type: "symlink", ...meta, target: e.linkname });
        break;
      case "hardlink": {
        const to = normaliseMemberPath(e.linkname);
        const n = tree.get(to);
        if (!n) throw new ValidationError(`${layerName}: hard link ${path} -> ${e.linkname} points to nothing inside the image`);
        if (n.type !== "file") throw new ValidationError(`${layerName}: hard link ${path} -> ${e.linkname} is not to a file`);
        tree.set(path, { ...n }); // one inode: the link shares the file's mode and owner
        break;
      }
      default: break; // devices, fifos: not part of an flist
    }
  }
}

/** An flist of a `docker save` or OCI layout tar: layers applied in order, whiteouts honoured. */
export async function buildFromImage(archivePath: string, sink: ChunkSink, opts: BuildOptions = {}): Promise<Flist> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const a = await ImageArchive.open(archivePath);
  try {
    const { layers, config } = await locateImage(a);
    let cfg: ImageConfig;
    try {
      const c = JSON.parse((await a.readSmall(config, "config")).toString("utf8")).config ?? {};
      cfg = { entrypoint: c.Entrypoint ?? [], cmd: c.Cmd ?? [], env: c.Env ?? [], workdir: c.WorkingDir || "/" };
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw new ValidationError("image archive: its config is not JSON", undefined, { cause: e });
    }
    for (const l of layers) if (!a.has(l)) throw new ValidationError(`image archive lacks layer ${l}`);

    const tree = new Map<string, Node>();
    for (let i = 0; i < layers.length; i++) {
      opts.onProgress?.(`reading layer ${i + 1}/${layers.length}`);
      await applyLayer(tree, a, layers[i], i);
    }

    // Pass 2: each surviving file's content, hashed once even when hard links share it.
    const wanted = new Map<number, Map<number, Array<Node & { type: "file" }>>>();
    for (const n of tree.values()) {
      if (n.type !== "file") continue;
      const byEntry = wanted.get(n.src.layer) ?? new Map<number, Array<Node & { type: "file" }>>();
      wanted.set(n.src.layer, byEntry);
      byEntry.set(n.src.entry, [...(byEntry.get(n.src.entry) ?? []), n]);
    }
    let done = 0;
    for (let i = 0; i < layers.length; i++) {
      const byEntry = wanted.get(i);
      if (!byEntry) continue;
      opts.onProgress?.(`hashing layer ${i + 1}/${layers.length}`);
      let index = 0;
      for await (const e of a.layer(layers[i])) {
        const nodes = byEntry.get(index++);
        if (!nodes) continue; // drained by the reader
        const chunks = await chunkStream(e.body, sink, chunkSize, e.size, `${layers[i]}: ${e.name}`);
        for (const n of nodes) n.chunks = chunks;
        done += e.size;
      }
    }

    const entries: FlistEntry[] = [];
    for (const [path, n] of tree) {
      const base = { path, mode: n.mode, uid: n.uid, gid: n.gid };
      if (n.type === "file") {
        if (!n.chunks) throw new ValidationError(`image archive: ${path}'s content was not found on the second read of its layer`, "the archive changed while it was read");
        entries.push({ ...base, type: "file", size: n.size, chunks: n.chunks });
      } else if (n.type === "symlink") entries.push({ ...base, type: "symlink", target: n.target });
      else entries.push({ ...base, type: "dir" });
    }
    await sink.flush?.();
    opts.onProgress?.(`done: ${(done / 1e6).toFixed(1)} MB in ${entries.length} entries`);
    return { version: FLIST_VERSION, chunkSize, entries: sortEntries(entries), config: cfg };
  } finally {
    await a.close();
  }
}

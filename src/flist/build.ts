// The builder: a folder or an image archive (docker save / OCI layout tar, see image.ts) → an
// flist, with its content handed chunk by chunk to a ChunkSink (the hub uploader, or a local
// store). Anything that would place a file outside the root is refused before a byte is sent.
// Files are read a chunk at a time: memory stays flat whatever the size of what is built.
import { lstat, open, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { sha256Hex, ValidationError } from "../core/index.js";
import { sortEntries, type BuildOptions, type ChunkSink } from "./chunks.js";
import { CHUNK_SIZE, FLIST_VERSION, type Flist, type FlistEntry, resolveSymlinkTarget } from "./format.js";
import { buildFromImage } from "./image.js";

export type { BuildOptions, ChunkSink } from "./chunks.js";
export { buildFromImage } from "./image.js";

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

/** A folder or an image archive, whichever `source` is. */
export async function buildFlist(source: string, sink: ChunkSink, opts: BuildOptions = {}): Promise<Flist> {
  const st = await stat(source).catch(() => null);
  if (!st) throw new ValidationError(`${source} does not exist`);
  return st.isDirectory() ? buildFromFolder(source, sink, opts) : buildFromImage(source, sink, opts);
}

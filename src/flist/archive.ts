// Reading an image archive from disk without holding it in memory: the outer tar is indexed by
// walking its headers (positioned reads, members skipped, never read), small members (manifests,
// configs) are read on demand, and a layer is streamed — gunzipped on the fly — into tar-stream,
// one entry at a time. A gzipped outer archive cannot be seeked, so it is gunzipped once into a
// temporary file first (disk, not memory).
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import tarStream from "tar-stream";
import { ValidationError } from "../core/index.js";
import { normaliseMemberPath } from "./format.js";
import { BLOCK, decodeHeader, TarExtensions, type TarEntry } from "./tar.js";

/** Where a regular file's content lies inside the archive file. */
export interface Member { offset: number; size: number }

/** Manifests and configs are small; anything bigger where one is expected is refused. */
const MAX_SMALL_MEMBER = 16 * 1024 * 1024;
/** Pax records and GNU long names are a few hundred bytes; a huge one is an attack on memory. */
const MAX_EXTENSION = 1024 * 1024;

function isGzip(head: Buffer): boolean { return head[0] === 0x1f && head[1] === 0x8b; }
function isZstd(head: Buffer): boolean { return head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd; }

async function readAt(fh: FileHandle, offset: number, length: number): Promise<Buffer> {
  const b = Buffer.alloc(length);
  let n = 0;
  while (n < length) {
    const r = await fh.read(b, n, length - n, offset + n);
    if (!r.bytesRead) break;
    n += r.bytesRead;
  }
  return n === length ? b : b.subarray(0, n);
}

/** An image archive opened for reading: its regular-file members by normalised path. */
export class ImageArchive {
  private constructor(private readonly fh: FileHandle, readonly path: string, readonly members: Map<string, Member>, private readonly cleanup: () => Promise<void>) {}

  static async open(archivePath: string): Promise<ImageArchive> {
    let path = archivePath;
    let cleanup = async (): Promise<void> => {};
    const first = await open(archivePath, "r");
    const head = await readAt(first, 0, 4).finally(() => first.close());
    if (isGzip(head)) {
      const tmp = await mkdtemp(join(tmpdir(), "flist-image-"));
      cleanup = () => rm(tmp, { recursive: true, force: true });
      path = join(tmp, "image.tar");
      try {
        await pipeline(createReadStream(archivePath), createGunzip(), createWriteStream(path));
      } catch (e) {
        await cleanup();
        throw new ValidationError(`${archivePath}: not a readable gzip stream (${(e as Error).message})`, undefined, { cause: e });
      }
    }
    const fh = await open(path, "r");
    try {
      return new ImageArchive(fh, path, await indexTar(fh, (await fh.stat()).size), cleanup);
    } catch (e) {
      await fh.close();
      await cleanup();
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
    await this.cleanup();
  }

  has(name: string): boolean { return this.members.has(normaliseMemberPath(name)); }

  /** A small member (a manifest, a config) read whole. */
  async readSmall(name: string, what: string): Promise<Buffer> {
    const m = this.members.get(normaliseMemberPath(name));
    if (!m) throw new ValidationError(`image archive lacks ${name}`, "give a `docker save` tarball or an OCI image layout tar");
    if (m.size > MAX_SMALL_MEMBER) throw new ValidationError(`image archive: ${what} ${name} is ${m.size} bytes, more than ${MAX_SMALL_MEMBER}`);
    return readAt(this.fh, m.offset, m.size);
  }

  /** The entries of the layer `name` (a tar, gzipped or not), streamed: each entry's `body` must be
   *  consumed (or drained) before the next one is yielded. */
  async *layer(name: string): AsyncGenerator<LayerEntry> {
    const m = this.members.get(normaliseMemberPath(name));
    if (!m) throw new ValidationError(`image archive lacks layer ${name}`);
    if (m.size === 0) return;
    const head = await readAt(this.fh, m.offset, Math.min(4, m.size));
    if (isZstd(head)) throw new ValidationError(`image archive: layer ${name} is zstd-compressed`, "rebuild or convert the image with gzip or uncompressed layers");
    const raw: Readable = createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1 << 20 });
    const extract = tarStream.extract({ allowUnknownFormat: true } as Parameters<typeof tarStream.extract>[0]);
    const source = isGzip(head) ? raw.pipe(createGunzip()) : raw;
    // pipeline's failure (a corrupt gzip stream) also fails the iteration below, via `extract`.
    const piped = pipeline(source, extract).catch((e: unknown) => { extract.destroy(e as Error); });
    try {
      for await (const entry of extract) {
        const h = entry.header;
        const pax = (h as { pax?: Record<string, string> }).pax ?? {};
        yield {
          name: h.name, type: typeOfStream(h.type), linkname: h.linkname ?? "", mode: (h.mode ?? 0) & 0o7777,
          uid: pax.uid !== undefined ? Number(pax.uid) : h.uid ?? 0, gid: pax.gid !== undefined ? Number(pax.gid) : h.gid ?? 0,
          size: h.size ?? 0, body: entry as AsyncIterable<Buffer>,
        };
        entry.resume(); // whatever the caller left unread is drained, so the next header arrives
      }
    } catch (e) {
      if (e instanceof ValidationError) throw e;
      throw new ValidationError(`image archive: layer ${name} is not a readable tar (${(e as Error).message})`, undefined, { cause: e });
    } finally {
      raw.destroy();
      await piped;
    }
  }
}

export type LayerEntry = Omit<TarEntry, "data"> & { body: AsyncIterable<Buffer> };

function typeOfStream(t: string | null | undefined): TarEntry["type"] {
  switch (t) {
    case "file": case "contiguous-file": return "file";
    case "directory": return "dir";
    case "symlink": return "symlink";
    case "link": return "hardlink";
    default: return "other";
  }
}

/** The regular-file members of the tar in `fh`, by normalised path, read from headers only. */
async function indexTar(fh: FileHandle, fileSize: number): Promise<Map<string, Member>> {
  const out = new Map<string, Member>();
  const ext = new TarExtensions();
  let off = 0;
  while (off + BLOCK <= fileSize) {
    const h = decodeHeader(await readAt(fh, off, BLOCK), off);
    if (!h) break;
    const dataStart = off + BLOCK;
    if (dataStart + h.size > fileSize) throw new ValidationError("corrupt tar: truncated archive");
    off = dataStart + Math.ceil(h.size / BLOCK) * BLOCK;
    if (TarExtensions.isExtension(h.flag)) {
      if (h.size > MAX_EXTENSION) throw new ValidationError(`corrupt tar: a ${h.size}-byte extended header at offset ${dataStart - BLOCK}`);
      ext.feed(h.flag, await readAt(fh, dataStart, h.size));
      continue;
    }
    const e = ext.entry(h);
    if (e.type === "file") out.set(normaliseMemberPath(e.name), { offset: dataStart, size: h.size });
  }
  return out;
}

// Content into chunks: what a builder hands its sink (the hub uploader, or a local store), and the
// cutting of a stream into fixed-size, content-addressed chunks without holding more than one.
import { sha256Hex, ValidationError } from "../core/index.js";
import type { FlistEntry } from "./format.js";

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

/**
 * Cuts `body` into `chunkSize` pieces, hands each to the sink as soon as it is full, and returns
 * their hashes. Memory: one chunk being filled (the sink may keep the ones it was given). `size` is
 * what the archive declared: a body of any other length is a corrupt archive.
 */
export async function chunkStream(body: AsyncIterable<Buffer>, sink: ChunkSink, chunkSize: number, size: number, what: string): Promise<string[]> {
  const out: string[] = [];
  let buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size, 1)));
  let fill = 0, total = 0;
  const emit = async () => {
    const piece = buf.subarray(0, fill);
    const h = sha256Hex(piece);
    await sink.put(h, piece); // the sink may keep it: the next chunk gets a fresh buffer
    out.push(h);
    total += fill;
    fill = 0;
    buf = Buffer.allocUnsafe(Math.min(chunkSize, Math.max(size - total, 1)));
  };
  for await (const data of body) {
    let off = 0;
    while (off < data.length) {
      const n = Math.min(buf.length - fill, data.length - off);
      data.copy(buf, fill, off, off + n);
      fill += n; off += n;
      if (fill === buf.length) await emit();
    }
  }
  if (fill) await emit();
  if (total !== size) throw new ValidationError(`corrupt archive: ${what} holds ${total} bytes, its header says ${size}`);
  return out;
}

/** Parents before children: compare path component lists. */
export function sortEntries(entries: FlistEntry[]): FlistEntry[] {
  return entries.sort((a, b) => {
    const pa = a.path.split("/"), pb = b.path.split("/");
    for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
    return pa.length - pb.length;
  });
}

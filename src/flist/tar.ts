// A small tar reader and writer: ustar, pax extended headers ('x' per entry, 'g' global) and GNU
// long names ('L') / long link names ('K'). Pure: works on Buffers, no I/O. The header decoding is
// shared with archive.ts, which indexes an image archive on disk without reading its members.
import { ValidationError } from "../core/index.js";

export type TarType = "file" | "dir" | "symlink" | "hardlink" | "other";
export interface TarEntry {
  name: string;
  type: TarType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  data: Buffer; // a view into the archive, for regular files
}

export const BLOCK = 512;

function str(b: Buffer, off: number, len: number): string {
  const end = b.indexOf(0, off);
  return b.toString("utf8", off, end >= 0 && end < off + len ? end : off + len);
}

function num(b: Buffer, off: number, len: number): number {
  if (b[off] & 0x80) { // GNU base-256
    let v = 0;
    for (let i = off + 1; i < off + len; i++) v = v * 256 + b[i];
    return v;
  }
  const s = str(b, off, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(data.toString("utf8", i, sp), 10);
    if (!Number.isFinite(len) || len <= 0) throw new ValidationError("corrupt tar: bad pax record");
    const rec = data.toString("utf8", sp + 1, i + len - 1); // without trailing \n
    const eq = rec.indexOf("=");
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

function typeOf(flag: string): TarType {
  switch (flag) {
    case "0": case "\0": case "": case "7": return "file";
    case "5": return "dir";
    case "2": return "symlink";
    case "1": return "hardlink";
    default: return "other";
  }
}

/** One header block as written, before pax records or GNU long names are applied. */
export interface RawHeader { flag: string; size: number; name: string; linkname: string; mode: number; uid: number; gid: number }

/** Decodes the 512-byte header block `h` (found at `at`, for messages); null for an all-zero block,
 *  the end of the archive. Throws ValidationError on a checksum mismatch. */
export function decodeHeader(h: Buffer, at: number): RawHeader | null {
  if (h.every((x) => x === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  if (sum !== num(h, 148, 8)) throw new ValidationError(`corrupt tar: header checksum mismatch at offset ${at}`);
  const magic = h.toString("latin1", 257, 263);
  const prefix = magic.startsWith("ustar") ? str(h, 345, 155) : "";
  const name = str(h, 0, 100);
  return {
    flag: String.fromCharCode(h[156]), size: num(h, 124, 12), name: prefix ? `${prefix}/${name}` : name,
    linkname: str(h, 157, 100), mode: num(h, 100, 8) & 0o7777, uid: num(h, 108, 8), gid: num(h, 116, 8),
  };
}

/** Pax records ('x' for the next entry, 'g' for all) and GNU long names ('L', 'K'), carried from
 *  their own header blocks to the entry they describe. */
export class TarExtensions {
  private global: Record<string, string> = {};
  private pax: Record<string, string> = {};
  private longName: string | null = null;
  private longLink: string | null = null;
  /** True when `flag` is an extension header (its data consumed here), not an entry. */
  static isExtension(flag: string): boolean { return flag === "x" || flag === "g" || flag === "L" || flag === "K"; }
  feed(flag: string, data: Buffer): void {
    if (flag === "x") this.pax = parsePax(data);
    else if (flag === "g") this.global = { ...this.global, ...parsePax(data) };
    else if (flag === "L") this.longName = str(data, 0, data.length);
    else if (flag === "K") this.longLink = str(data, 0, data.length);
  }
  /** The entry `h` describes, with the pending extensions applied (and then forgotten). */
  entry(h: RawHeader): Omit<TarEntry, "data"> {
    const attrs = { ...this.global, ...this.pax };
    const name = attrs.path ?? this.longName ?? h.name;
    const linkname = attrs.linkpath ?? this.longLink ?? h.linkname;
    this.pax = {}; this.longName = null; this.longLink = null;
    return {
      name, type: typeOf(h.flag), linkname, mode: h.mode,
      uid: attrs.uid !== undefined ? Number(attrs.uid) : h.uid,
      gid: attrs.gid !== undefined ? Number(attrs.gid) : h.gid,
      size: attrs.size !== undefined ? Number(attrs.size) : h.size,
    };
  }
}

/** Every entry of a tar archive held in memory, in order. Throws ValidationError on a corrupt
 *  archive. (Image archives are not read this way: see archive.ts, which streams them.) */
export function* readTar(buf: Buffer): Generator<TarEntry> {
  let off = 0;
  const ext = new TarExtensions();
  while (off + BLOCK <= buf.length) {
    const h = decodeHeader(buf.subarray(off, off + BLOCK), off);
    if (!h) return;
    const dataStart = off + BLOCK;
    if (dataStart + h.size > buf.length) throw new ValidationError("corrupt tar: truncated archive");
    const data = buf.subarray(dataStart, dataStart + h.size);
    off = dataStart + Math.ceil(h.size / BLOCK) * BLOCK;
    if (TarExtensions.isExtension(h.flag)) { ext.feed(h.flag, data); continue; }
    const e = ext.entry(h);
    yield { ...e, data: e.type === "file" ? data : Buffer.alloc(0) };
  }
}

export interface TarWriteEntry {
  name: string;
  type?: "file" | "dir" | "symlink" | "hardlink";
  mode?: number;
  uid?: number;
  gid?: number;
  linkname?: string;
  data?: Buffer | string;
}

/** The 512-byte ustar header of one entry whose content (`size` bytes, then zero padding to a
 *  block) the caller writes itself: archives too big to build in memory, made piece by piece. */
export function tarHeader(e: TarWriteEntry & { size: number }): Buffer {
  const flag = { file: "0", dir: "5", symlink: "2", hardlink: "1" }[e.type ?? "file"];
  return header(e.name, flag, e.size, e);
}

function header(name: string, flag: string, size: number, e: TarWriteEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (s: string, off: number, len: number) => { h.write(s.slice(0, len), off, len, "utf8"); };
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, "0"), off, len);
  put(name, 0, 100);
  oct(e.mode ?? (flag === "5" ? 0o755 : 0o644), 100, 8);
  oct(e.uid ?? 0, 108, 8);
  oct(e.gid ?? 0, 116, 8);
  oct(size, 124, 12);
  oct(0, 136, 12);
  h[156] = flag.charCodeAt(0);
  put(e.linkname ?? "", 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of h) sum += x;
  put(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8);
  return h;
}

function pad(n: number): Buffer { return Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK); }

/** A tar archive of `entries` (pax headers for names or link names longer than ustar allows). */
export function writeTar(entries: TarWriteEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? "file";
    const flag = { file: "0", dir: "5", symlink: "2", hardlink: "1" }[type];
    const data = type === "file" ? Buffer.from(e.data ?? "") : Buffer.alloc(0);
    const paxRecs: string[] = [];
    if (Buffer.byteLength(e.name) > 99) paxRecs.push(paxRecord("path", e.name));
    if (e.linkname && Buffer.byteLength(e.linkname) > 99) paxRecs.push(paxRecord("linkpath", e.linkname));
    if (paxRecs.length) {
      const body = Buffer.from(paxRecs.join(""));
      parts.push(header("PaxHeader", "x", body.length, { name: "PaxHeader" }), body, pad(body.length));
    }
    parts.push(header(e.name, flag, data.length, e), data, pad(data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body) + 1;
  while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
  return `${len}${body}`;
}

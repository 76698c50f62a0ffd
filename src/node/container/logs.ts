// A container's output: one append-only file its stdout and stderr go to directly (so it keeps
// logging while the node restarts), bounded by copy-and-truncate rotation, and optionally shipped
// line by line into a 0-db namespace in sequential mode (SET with an empty key, one entry per line;
// the server picks the id, 8 bytes little-endian, so nothing here builds or parses one).
import { copyFile, open, stat, truncate } from "node:fs/promises";
import { Redis } from "ioredis";
import { UnavailableError } from "../../core/index.js";

export const LOG_MAX_BYTES = 1024 * 1024;

/** How much of a container's output its result carries (its last lines, bounded). */
export const TAIL = { lines: 20, bytes: 2048 };

/** The last lines of `file` (at most TAIL.lines and TAIL.bytes; a cut first line is dropped); "" if none. */
export async function logTail(file: string, max = TAIL): Promise<string> {
  const fh = await open(file, "r").catch(() => null);
  if (!fh) return "";
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - max.bytes);
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    let lines = buf.subarray(0, bytesRead).toString("utf8").split("\n");
    if (start > 0) lines = lines.slice(1);
    if (lines.at(-1) === "") lines.pop();
    return lines.slice(-max.lines).join("\n");
  } finally { await fh.close(); }
}

/** When `file` is over `max` bytes: keep its content as `file.1` and empty it. True if rotated. */
export async function rotateLog(file: string, max = LOG_MAX_BYTES): Promise<boolean> {
  const s = await stat(file).catch(() => null);
  if (!s || s.size <= max) return false;
  await copyFile(file, `${file}.1`);
  await truncate(file, 0); // the writer has it O_APPEND: it continues at the new end
  return true;
}

export interface LogTarget { address: string; namespace: string; password?: string }

/** One entry of a shipped log: what `kosmos logs` reads back. */
export interface LogLine { time: string; line: string }

export class LogShipper {
  private redis: Redis;
  private partial = "";
  offset: number;
  shipped = 0;
  constructor(private readonly file: string, target: LogTarget, offset: number, private readonly now: () => Date = () => new Date()) {
    const [host, port] = [target.address.slice(0, target.address.lastIndexOf(":")).replace(/^\[|\]$/g, ""), Number(target.address.slice(target.address.lastIndexOf(":") + 1))];
    this.offset = offset;
    this.redis = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true });
    const select = () => (target.password ? this.redis.call("SELECT", target.namespace, target.password) : this.redis.call("SELECT", target.namespace));
    this.redis.on("ready", () => { void select().catch(() => undefined); });
    this.redis.on("error", () => { /* reconnects by itself; lines wait in the file */ });
  }

  /** Ships every complete line written since the last call. */
  async pump(): Promise<void> {
    if (this.redis.status === "wait") await this.redis.connect().catch(() => undefined);
    if (this.redis.status !== "ready") return;
    const s = await stat(this.file).catch(() => null);
    if (!s) return;
    if (s.size < this.offset) { this.offset = 0; this.partial = ""; } // rotated
    if (s.size === this.offset) return;
    const fh = await open(this.file, "r");
    let buf: Buffer;
    try {
      buf = Buffer.alloc(Math.min(s.size - this.offset, 4 * 1024 * 1024));
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset);
      buf = buf.subarray(0, bytesRead);
    } finally { await fh.close(); }
    const text = this.partial + buf.toString("utf8");
    const lines = text.split("\n");
    this.partial = lines.pop() ?? "";
    if (lines.length) {
      const p = this.redis.pipeline();
      const time = this.now().toISOString();
      for (const line of lines) p.set("", JSON.stringify({ time, line } satisfies LogLine));
      const r = await p.exec();
      const failed = r?.find(([e]) => e);
      if (failed) throw new UnavailableError(`shipping logs: ${failed[0]!.message}`, "the lines stay in the file and are sent again", { cause: failed[0] });
      this.shipped += lines.length;
    }
    this.offset += buf.length;
  }

  /** Rotation emptied the file: start from its beginning. */
  rotated(): void { this.offset = 0; this.partial = ""; }
  close(): void { this.redis.disconnect(); }
}

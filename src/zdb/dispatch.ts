// From a parsed request to its command handler: a case-insensitive lookup by a hash of the name
// (no string is built per request), errors of a handler turned into error replies, and the
// bookkeeping of write replies and WAIT around each command.
import { ExhaustedError, InternalError } from "../core/index.js";
import { NO_SPACE, type Client } from "./client.js";
import { COMMANDS, type Command } from "./commands/index.js";
import type { FrameParser } from "./resp.js";
import type { Server } from "./server.js";

function cmdHash(b: Buffer, start: number, len: number): number {
  let h = len;
  for (let i = start, e = start + len; i < e; i++) {
    let ch = b[i];
    if (ch >= 97 && ch <= 122) ch -= 32;
    h = (Math.imul(h, 31) + ch) | 0;
  }
  return h;
}

/** Case-insensitive comparison of a request's command name with an upper-case ASCII name, without
 *  building a string. */
function sameName(b: Buffer, start: number, len: number, upper: string): boolean {
  if (len !== upper.length) return false;
  for (let i = 0; i < len; i++) {
    let ch = b[start + i];
    if (ch >= 97 && ch <= 122) ch -= 32;
    if (ch !== upper.charCodeAt(i)) return false;
  }
  return true;
}

export class Dispatcher {
  readonly names = new Set(COMMANDS.map((c) => c.name));
  private readonly table = new Map<number, Command>();

  constructor(private readonly server: Server) {
    for (const c of COMMANDS) {
      const h = cmdHash(Buffer.from(c.name, "latin1"), 0, c.name.length);
      if (this.table.has(h)) throw new InternalError(`command hash collision: ${c.name}`);
      this.table.set(h, c);
    }
  }

  execute(c: Client, f: FrameParser): void {
    const s = this.server;
    s.stats.commands++;
    if (c.ns === null) {
      c.out.error("Your active namespace is not available anymore (probably removed).");
      c.closeAfterReply = true;
      return;
    }
    const src = f.src, start = f.starts[0], len = f.ends[0] - start;
    const cmd = this.table.get(cmdHash(src, start, len));
    if (!cmd || !sameName(src, start, len, cmd.name)) {
      s.stats.failed++;
      c.out.error("Command not supported");
      return;
    }
    const mark = c.out.len;
    c.wroteNs = null;
    try {
      if (cmd.fast) cmd.fast(s, c, f); else cmd.handler(s, c, f.args, f.argc);
    } catch (err) {
      c.out.len = mark;
      if (err instanceof ExhaustedError) { c.out.error(NO_SPACE); s.opts.log.warn({ cmd: cmd.name, err: err.message }, "write refused"); }
      else { s.opts.log.error({ err, cmd: cmd.name }, "command failed"); c.out.error("Internal Error"); }
    }
    // A write's reply is remembered until it is delivered: a failed flush turns it into an error.
    if (c.wroteNs) { c.spans.push(mark, c.out.len, c.wroteNs); c.wroteNs = null; }
    if (cmd.name !== "WAIT") s.waiters.notify(c, cmd.name);
  }
}

// One client connection's state: its parser and reply buffer, session (namespace, rights) and
// what holds its replies back (unflushed writes, WAIT, a password-guess delay, a full socket).
import type * as net from "node:net";
import type { Namespace } from "./namespace.js";
import { ReplyWriter, RequestReader } from "./resp.js";

/** The replies to write commands in a connection's pending output, so that they can be turned
 *  into errors if their writes do not reach the disk: reply i is out[at[2i], at[2i+1]) and wrote
 *  into ns[i]. Flat arrays, reused: no object per write on the hot path. */
export class WriteSpans {
  at: number[] = [];
  ns: Namespace[] = [];
  get length(): number { return this.ns.length; }
  push(start: number, end: number, ns: Namespace): void { this.at.push(start, end); this.ns.push(ns); }
  clear(): void { if (this.ns.length) { this.at.length = 0; this.ns.length = 0; } }
}

/** The reply to a write that could not be made whole on disk. */
export const NO_SPACE = "No space left on device";

export class Client {
  static nextId = 1;
  readonly id = Client.nextId++;
  readonly reader = new RequestReader();
  readonly out = new ReplyWriter(4096);
  ns: Namespace | null;
  writable: boolean;
  admin = false;
  master = false;
  nonce: string | null = null;
  name: string | null = null;
  /** Replies wait until the store has written (and with --sync fsynced) this mutation. */
  needSeq = 0;
  waiting: { target: string; timer: NodeJS.Timeout } | null = null;
  /** The idle timeout suspended while the client WAITs (ms; 0: none). */
  idleMs = 0;
  mirror: { acked: number } | null = null;
  closeAfterReply = false;
  closed = false;
  /** Output above the high-water mark: requests stay unread until the socket drains. */
  blocked = false;
  /** A failed password guess: nothing is answered or read until this timer fires. */
  penalty: NodeJS.Timeout | null = null;
  /** The password this session SELECTed its namespace with (null: none given). */
  nsPassword: string | null = null;
  /** Set by a write command; the dispatcher turns it into a span. */
  wroteNs: Namespace | null = null;
  readonly spans = new WriteSpans();
  constructor(readonly socket: net.Socket, ns: Namespace, writable: boolean) { this.ns = ns; this.writable = writable; }
}

// WAIT: a client parks until another client of the same namespace runs a given command (or any,
// with "*"), or its timeout passes. Its other requests wait behind it.
import type { Client } from "./client.js";
import type { Connections } from "./connection.js";

export class Waiters {
  private readonly waiting = new Set<Client>();

  constructor(private readonly conns: Connections) {}

  add(c: Client, target: string, timeout: number): void {
    // A client waiting is not idle: --idle-timeout is off meanwhile (its 'timeout' listener stays).
    const idle = c.socket.timeout ?? 0;
    if (idle) c.socket.setTimeout(0);
    c.idleMs = idle;
    const timer = setTimeout(() => {
      if (!c.waiting) return;
      this.waiting.delete(c); this.done(c);
      c.out.error("Timeout");
      this.conns.deliver(c);
      this.conns.process(c);
    }, timeout);
    c.waiting = { target, timer };
    this.waiting.add(c);
  }

  /** `by` ran `name`: the waiters in its namespace that watch it get the name as their answer. */
  notify(by: Client, name: string): void {
    if (this.waiting.size === 0) return;
    for (const w of this.waiting) {
      if (w === by || w.ns !== by.ns || !w.waiting) continue;
      if (w.waiting.target !== "*" && w.waiting.target !== name) continue;
      clearTimeout(w.waiting.timer);
      this.waiting.delete(w); this.done(w);
      w.out.simple(name);
      this.conns.deliver(w);
      setImmediate(() => this.conns.process(w));
    }
  }

  private done(c: Client): void {
    c.waiting = null;
    if (c.idleMs && !c.closed) c.socket.setTimeout(c.idleMs);
  }

  remove(c: Client): void {
    if (c.waiting) { clearTimeout(c.waiting.timer); c.waiting = null; }
    this.waiting.delete(c);
  }

  clear(): void { for (const c of this.waiting) this.remove(c); }
}

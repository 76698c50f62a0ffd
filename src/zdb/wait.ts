// WAIT: a client parks until another client of the same namespace runs a given command (or any,
// with "*"), or its timeout passes. Its other requests wait behind it.
import type { Client } from "./client.js";
import type { Connections } from "./connection.js";

export class Waiters {
  private readonly waiting = new Set<Client>();

  constructor(private readonly conns: Connections) {}

  add(c: Client, target: string, timeout: number): void {
    const timer = setTimeout(() => {
      if (!c.waiting) return;
      this.waiting.delete(c); c.waiting = null;
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
      this.waiting.delete(w); w.waiting = null;
      w.out.simple(name);
      this.conns.deliver(w);
      setImmediate(() => this.conns.process(w));
    }
  }

  remove(c: Client): void {
    if (c.waiting) { clearTimeout(c.waiting.timer); c.waiting = null; }
    this.waiting.delete(c);
  }

  clear(): void { for (const c of this.waiting) this.remove(c); }
}

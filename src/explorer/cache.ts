// A small bounded cache: least recently used out first, and entries that expire after `ttlMs`
// (0: never — for immutable things such as blocks). Keeps what many open browsers ask for at once
// from becoming as many requests to the ledger.
export class Lru<K, V> {
  private readonly map = new Map<K, { v: V; at: number }>();
  private readonly inflight = new Map<K, Promise<V>>();
  constructor(private readonly max: number, private readonly ttlMs = 0) {}

  get(k: K): V | undefined {
    const e = this.map.get(k);
    if (!e) return undefined;
    if (this.ttlMs > 0 && Date.now() - e.at > this.ttlMs) { this.map.delete(k); return undefined; }
    this.map.delete(k); this.map.set(k, e);
    return e.v;
  }

  set(k: K, v: V): void {
    this.map.delete(k);
    this.map.set(k, { v, at: Date.now() });
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  /** The cached value, or `load()`'s — one load per key at a time: callers arriving while it runs share it. */
  through(k: K, load: () => Promise<V>): Promise<V> {
    const hit = this.get(k);
    if (hit !== undefined) return Promise.resolve(hit);
    let p = this.inflight.get(k);
    if (!p) {
      p = load().then((v) => { this.set(k, v); return v; }).finally(() => this.inflight.delete(k));
      this.inflight.set(k, p);
    }
    return p;
  }

  get size(): number { return this.map.size; }
}

// All namespaces of one server, and the write batching: every append of an event-loop turn is
// written (and, with --sync, fsynced) once, then held replies are released.
import * as fs from "node:fs";
import * as path from "node:path";
import { NotFoundError } from "../core/index.js";
import { Namespace, type Mode, type NsSettings, type StorageOptions } from "./namespace.js";

export const DEFAULT_NS = "default";

export interface StoreOptions extends StorageOptions {
  mode: Mode;
  sync: boolean;
  synctime: number; // seconds; 0 = off
  maxsize: number;  // default namespace limit
}

export class Store {
  readonly namespaces = new Map<string, Namespace>();
  writeSeq = 0;    // one per mutation, the unit of acknowledgement and of replication
  durableSeq = 0;  // mutations that are written (and fsynced when --sync)
  afterFlush: () => void = () => {};
  /** A namespace's pending writes could not be written (its files are cut back to the last whole entry). */
  onWriteFailed: (ns: Namespace, err: unknown) => void = () => {};
  private failed = new Map<Namespace, unknown>();
  private dirty = new Set<Namespace>();
  private scheduled = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private unsynced = new Set<Namespace>();

  constructor(readonly opts: StoreOptions) {}

  open(): void {
    fs.mkdirSync(this.opts.dataRoot, { recursive: true });
    fs.mkdirSync(this.opts.indexRoot, { recursive: true });
    const names = Namespace.list(this.opts);
    if (!names.includes(DEFAULT_NS)) names.unshift(DEFAULT_NS);
    for (const n of names) this.attach(Namespace.open(this.opts, n, this.defaults(n)));
    if (this.opts.synctime > 0) {
      this.syncTimer = setInterval(() => this.syncAll(), this.opts.synctime * 1000);
      this.syncTimer.unref();
    }
  }

  defaults(name: string): NsSettings {
    return { password: null, public: true, maxsize: name === DEFAULT_NS ? this.opts.maxsize : 0, worm: false, mode: this.opts.mode };
  }

  private attach(ns: Namespace): Namespace {
    ns.onDirty = (n) => this.markDirty(n);
    ns.onFailed = (n, err) => { this.failed.set(n, err); this.schedule(); };
    this.namespaces.set(ns.name, ns);
    return ns;
  }

  get(name: string): Namespace | undefined { return this.namespaces.get(name); }

  /** A new namespace, born with its final settings: they are on disk before it is reachable. */
  create(name: string, settings: Partial<NsSettings> = {}): Namespace {
    return this.attach(Namespace.open(this.opts, name, { ...this.defaults(name), ...settings }));
  }

  /** Drops a namespace's in-memory state and pending writes and reads it again from its files. */
  reload(name: string): Namespace {
    const old = this.namespaces.get(name);
    if (!old) throw new NotFoundError(`namespace ${name} not found`);
    this.dirty.delete(old); this.unsynced.delete(old); this.failed.delete(old);
    if (old.broken) old.abandon(); else old.close();
    return this.attach(Namespace.open(this.opts, name, old.settings));
  }

  remove(name: string): void {
    const ns = this.namespaces.get(name);
    if (!ns) return;
    this.dirty.delete(ns); this.unsynced.delete(ns);
    this.namespaces.delete(name);
    ns.destroy();
  }

  markDirty(ns: Namespace): void {
    this.dirty.add(ns);
    this.schedule();
  }

  /** Asks for a flush at the end of this turn even without appends (e.g. to release held replies). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushAll());
  }

  flushAll(): void {
    this.scheduled = false;
    for (const ns of this.dirty) {
      try { ns.flush(this.opts.sync); } catch (err) { this.failed.set(ns, err); continue; }
      if (!this.opts.sync && this.opts.synctime > 0) this.unsynced.add(ns);
    }
    this.dirty.clear();
    this.durableSeq = this.writeSeq;
    if (this.failed.size) {
      const failed = [...this.failed]; this.failed.clear();
      for (const [ns, err] of failed) this.onWriteFailed(ns, err);
    }
    this.afterFlush();
  }

  private syncAll(): void {
    for (const ns of this.unsynced) ns.fsync();
    this.unsynced.clear();
  }

  close(): void {
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const ns of this.namespaces.values()) ns.close();
  }

  static validName(name: string): boolean {
    return name.length > 0 && name.length <= 128 && name !== "." && name !== ".." && !name.includes("/")
      && !name.includes("\\") && /^[\x21-\x7e]+$/.test(name) && path.basename(name) === name;
  }
}

// The ledger engine: admits signed transactions, makes blocks of them and commits each to the
// block store, and rebuilds its state from the store at start. A coordinator: the blocks are made
// by block-builder.ts (pure), written by block-store.ts, block 0 comes from genesis.ts; on a
// replica the order is decided by an Orderer (etcd/replication.ts).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  ConflictError, DamagedError, ForbiddenError, GridError, UnavailableError, ValidationError, canonicalJson, payloadSchemas, signTx,
  toGridError, txHash, type KeyPair, type Tx,
} from "../core/index.js";
import { ZERO_HASH, type EncodedBlock } from "./block.js";
import { parseSubmitted } from "./admission.js";
import { buildBlock, replayBlock, type Candidate } from "./block-builder.js";
import { BlockStore, type BlockEvents } from "./block-store.js";
import { genesisState, makeGenesisBlock, readGenesisKey } from "./genesis.js";
import { ReplicaMemory, verifyOrderedBlock } from "./replica.js";
import type { State } from "./state.js";
import type { Block, BlockMarker, ChainEvent, Genesis, Receipt } from "./types.js";

export type { BlockEvents } from "./block-store.js";
export { DEFAULT_SUPPLY, ensureGenesisKey, makeGenesisBlock } from "./genesis.js";
export { replayBlock } from "./block-builder.js";

export interface ChainOptions {
  dir: string;
  billingPeriod: number;
  gracePeriod: number;
  reportInterval: number;
  /** Initial supply owned by the genesis twin on a new chain. */
  supply?: number;
  /** Snapshot after this many blocks, or this many transactions, since the last one. */
  snapshotBlocks?: number;
  snapshotTxs?: number;
  /** Milliseconds since the epoch; ledger time is derived from it only when a block is produced. */
  now?: () => number;
  log?: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void };
  /** Replicas: block 0 as the ordering service holds it (a new data folder starts from it). */
  genesis?: EncodedBlock;
  /** Replicas: the ordering service that decides which block is at each height (etcd/replication.ts). */
  orderer?: Orderer;
  /** Replicas: most transaction bytes per block (a block must fit in one etcd request). */
  maxBlockBytes?: number;
  /** Called once when the chain stops because it cannot go on (its state cannot be put back in
   *  step with the log). Default: throw from the production loop. */
  onFatal?: (e: unknown) => void;
}

/** Orders blocks among replicas. A block is committed once the orderer says it won its height. */
export interface Orderer {
  /** Commit `block` at its height unless a block is already there (then return that one). Throws
   *  UnavailableError when the service cannot be reached and the outcome is unknown. */
  propose(block: Block, bytes: Buffer): Promise<{ won: true } | { won: false; block: Block }>;
  /** The block committed at `height`, if any (a linearizable read). */
  at(height: number): Promise<Block | undefined>;
  /** Another replica that proposes the blocks now (its URL): this one sends it its transactions
   *  rather than racing it. Undefined: propose here. */
  leader?(): string | undefined;
  /** Send a verified transaction (its canonical JSON) to the leader: its receipt, its refusal, or
   *  `unreachable` (it did not take it: propose it here). */
  forward?(url: string, canon: string): Promise<{ receipt: Receipt } | { error: GridError } | { unreachable: string }>;
}

interface Pending {
  tx?: Tx; raw?: unknown; canon?: string; hash?: string;
  faucet?: { twinId: number; amount: number };
  submittedAt: number;
  /** Replicas: proposed here, never forwarded (it came forwarded from another replica). */
  local?: boolean;
  /** Replicas: the leader did not take it; if it turns out to be in a block already, that is its receipt. */
  orphan?: boolean;
  resolve: (r: Receipt) => void;
  reject: (e: unknown) => void;
}

export class Chain {
  state!: State;
  /** Absent on a replica that joined a chain without its genesis key: no faucet there. */
  genesisKey?: KeyPair;
  private store!: BlockStore;
  private pending: Pending[] = [];
  private producing = false;
  private closed = false;
  private lastBlockAt = 0;
  private beat = false;
  /** Set while blocks cannot be written (a full disk): said once when it starts and once when it ends. */
  private writeFailing = false;
  /** Set when a failed write could not be undone: the state is out of step with the log. */
  private broken: unknown;
  private readonly now: () => number;
  private listeners = new Set<(b: BlockEvents, block: Block) => void>();
  /** Replicas: verified forwards, the newest blocks, clients waiting for a height. */
  private readonly replica = new ReplicaMemory();
  /** Replicas: checks a received transaction (its canonical JSON) off the main thread, on the
   *  verification threads; rejects when it does not verify. Absent: checked here. */
  verifyOffThread?: (canon: string) => Promise<unknown>;
  /** Observers for metrics: one call per produced block. */
  onRefused?: (refused: { code: string }[]) => void;
  onProduced?: (info: { txs: number; seconds: number; latencies: number[] }) => void;

  private constructor(readonly opts: ChainOptions) {
    this.now = opts.now ?? Date.now;
  }

  static async open(opts: ChainOptions): Promise<Chain> {
    const c = new Chain(opts);
    await c.load();
    return c;
  }

  /** The last block that is durable, with its events logged: what readers and subscribers see. */
  committed = { height: 0, hash: ZERO_HASH, time: 0 };
  get height(): number { return this.committed.height; }
  get pendingCount(): number { return this.pending.length; }

  // ---- admission ----

  /** Verify a transaction now (shape, size, signature) and resolve once a block includes it. */
  submit(raw: unknown, o: { forwarded?: boolean } = {}): Promise<Receipt> {
    if (this.closed) return Promise.reject(new UnavailableError("the ledger is shutting down"));
    let tx: Tx;
    try { tx = parseSubmitted(raw); } catch (e) {
      this.onRefused?.([{ code: e instanceof GridError ? e.code : "internal" }]);
      return Promise.reject(e);
    }
    return this.admit({ tx, raw, canon: canonicalJson(raw) }, o);
  }

  /** Queue a transaction that was already verified (by parseTx, e.g. on a verification thread). */
  admit(v: { tx: Tx; raw: unknown; canon: string }, o: { forwarded?: boolean } = {}): Promise<Receipt> {
    if (this.closed) return Promise.reject(new UnavailableError("the ledger is shutting down"));
    return new Promise((resolve, reject) => {
      const p: Pending = { tx: v.tx, raw: v.raw, canon: v.canon, submittedAt: this.now(), resolve, reject, ...(o.forwarded ? { local: true } : {}) };
      const leader = o.forwarded ? undefined : this.opts.orderer?.leader?.();
      if (leader) return this.forwardTx(leader, p);
      this.pending.push(p);
      this.schedule();
    });
  }

  // ---- replicas: one proposer, the others forward ----

  /** Send `p` to the leader; answer its client from this replica's copy of the block. */
  private forwardTx(leader: string, p: Pending): void {
    const canon = p.canon!;
    this.replica.markVerified(canon);
    this.opts.orderer!.forward!(leader, canon).then(async (r) => {
      if ("receipt" in r) return p.resolve(await this.localReceipt(r.receipt));
      if ("error" in r) { this.replica.takeVerified(canon); return p.reject(r.error); }
      // The leader may or may not have ordered it before it went away: propose it here.
      p.orphan = true;
      if (this.closed) return p.reject(new UnavailableError("the ledger is shutting down"));
      this.pending.push(p);
      this.schedule();
    }).catch((e) => p.reject(e));
  }

  /** The receipt the leader gave, from this replica's own block once it has it on disk. */
  private async localReceipt(r: Receipt): Promise<Receipt> {
    await this.replica.reach(r.height, this.committed.height);
    return this.replica.localReceipt(this, r);
  }

  /** An orphaned transaction refused for its nonce may be in a recent block: find it there. */
  private findRecent(hash: string): Receipt | undefined {
    return this.replica.receiptOf(this, hash);
  }

  /** Count a transaction refused before it reached the chain (metrics). */
  refusedOnAdmission(e: unknown): void {
    this.onRefused?.([{ code: e instanceof GridError ? e.code : "internal" }]);
  }

  /** Mint from the genesis key (the local grid's faucet). The mint is signed when its block is made. */
  faucet(twinId: number, amount: number): Promise<Receipt> {
    const p = payloadSchemas.mint.safeParse({ to: twinId, amount });
    if (!p.success) return Promise.reject(new ValidationError("faucet wants {twinId, amount}: positive integers"));
    if (!this.genesisKey) return Promise.reject(new ForbiddenError("this replica does not hold the chain's genesis key", `copy genesis.key from the data folder of the replica that created the chain into ${this.opts.dir}, or use that replica's faucet`));
    return new Promise((resolve, reject) => {
      this.pending.push({ faucet: { twinId, amount }, submittedAt: this.now(), resolve, reject });
      this.schedule();
    });
  }

  subscribe(fn: (b: BlockEvents, block: Block) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  // ---- block production ----

  private schedule(): void {
    if (this.producing || this.closed) return;
    this.producing = true;
    setImmediate(() => void this.produceLoop());
  }

  /** Called by the heartbeat timer: make an empty block if none was made for `intervalMs`. */
  heartbeat(intervalMs: number): void {
    if (this.producing || this.closed) return;
    // A follower leaves the heartbeat to the leader, and takes over when the leader falls silent.
    const wait = this.opts.orderer?.leader?.() ? 3 * intervalMs : intervalMs;
    if (this.now() - this.lastBlockAt >= wait) { this.beat = true; this.schedule(); }
  }

  private async produceLoop(): Promise<void> {
    try {
      do { await this.exclusive(() => this.produceBlock()); } while (this.pending.length && !this.closed);
    } catch (e) {
      // The state cannot be put back in step with the log (or, on a replica, the ordered chain
      // cannot be followed): stop rather than diverge.
      this.opts.log?.warn({ err: String(e) }, "the chain cannot go on; stopping");
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new UnavailableError(`the ledger stopped: ${e instanceof Error ? e.message : String(e)}`));
      if (!this.opts.onFatal) throw e;
      this.opts.onFatal(e);
    } finally {
      this.producing = false;
    }
  }

  private async produceBlock(): Promise<void> {
    const started = process.hrtime.bigint();
    const ord = this.opts.orderer;
    let batch = this.pending;
    this.pending = [];
    const leader = ord?.leader?.();
    if (leader) {
      // Leadership moved (e.g. this replica lost a race): what its own clients sent goes to the leader.
      const keep: Pending[] = [];
      for (const p of batch) if (p.local || p.faucet || p.orphan || !p.canon) keep.push(p); else this.forwardTx(leader, p);
      batch = keep;
      if (!batch.length && !this.beat) return;
    }
    if (ord) {
      // A replica builds on a copy: its block counts only if the orderer takes it.
      let bytes = 0, n = 0;
      while (n < batch.length && (n === 0 || bytes + (batch[n].canon?.length ?? 300) <= (this.opts.maxBlockBytes ?? 1 << 20))) bytes += batch[n++].canon?.length ?? 300;
      this.pending = batch.slice(n);
      batch = batch.slice(0, n);
    }
    const s = ord ? cloneState(this.state) : this.state;
    const time = Math.max(s.time, Math.floor(this.now() / 1000));
    const beat = this.beat;
    this.beat = false;
    // A block of nothing (a heartbeat, no billing due) changes only the head: undone in place if
    // it cannot be written, instead of folding the state again from the log (a full disk would
    // otherwise cost a replay per heartbeat).
    const head = { height: s.height, hash: s.hash, time: s.time };
    const quiet = time < s.billingDue;
    const entries = batch.map((p): Candidate | ((st: State) => Candidate) => p.faucet ? (st) => this.mint(st, p.faucet!) : { tx: p.tx!, raw: p.raw, canon: p.canon!, hash: p.hash });
    const { built, refused } = buildBlock(s, entries, time, beat);
    const codes = refused.map((r) => ({ code: codeOf(r.error) }));
    const refusedP = refused.map((r) => ({ p: batch[r.at], e: r.error }));
    // A replica's state may be behind the ordered chain: it refuses only what the head refuses (settle).
    if (!ord) for (const { p, e } of refusedP) p.reject(e);
    // Nothing accepted, no heartbeat and no billing due: a refusal leaves not even a block behind.
    if (!built) {
      if (ord && refusedP.length && !(await this.settle(batch, refusedP, () => ord.at(s.height + 1)))) return;
      this.onRefused?.(codes); return;
    }
    const { block } = built;
    if (ord && !(await this.settle(batch, refusedP, async () => { const r = await ord.propose(block, built.bytes); return r.won ? undefined : r.block; }))) return;
    try {
      const undo = ord ? undefined : quiet && block.txs.length === 0 ? () => { Object.assign(this.state, head); } : () => { this.state = this.rebuild(false); };
      await this.commit(s, built, built.events, undo);
    } catch (e) {
      if (this.broken) throw this.broken;
      // Not on disk, so not acknowledged. On a replica the block is ordered all the same; this
      // replica writes it when it comes back from the orderer.
      const err = toGridError(e);
      for (const inc of built.included) {
        batch[inc.at].reject(ord
          ? new UnavailableError(`block ${block.height} is ordered but this replica could not write it: ${err.message}`, "check the signer's nonce (GET /accounts/:publicKey) before sending again", { cause: e })
          : err);
      }
      this.onRefused?.([...codes, ...built.included.map(() => ({ code: err.code }))]);
      return;
    }
    const latencies: number[] = [];
    const done = this.now();
    for (const inc of built.included) {
      const p = batch[inc.at];
      latencies.push((done - p.submittedAt) / 1000);
      p.resolve({ height: block.height, index: inc.index, hash: inc.hash, events: built.events.slice(inc.first, inc.first + inc.count) });
    }
    this.onRefused?.(codes);
    this.onProduced?.({ txs: block.txs.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies });
  }

  /** The faucet's mint, signed now with the genesis key's next nonce in `s`. */
  private mint(s: State, f: { twinId: number; amount: number }): Candidate {
    const gk = this.genesisKey!;
    const raw = signTx({ type: "mint", signer: gk.publicKey, nonce: (s.nonces.get(gk.publicKey) ?? 0) + 1, payload: { to: f.twinId, amount: f.amount } }, gk.privateKey);
    return { tx: raw, raw, canon: canonicalJson(raw) };
  }

  /**
   * The one way a block becomes part of this ledger: written (block durably, then its events) and
   * only then the state, the head, the readers and subscribers move on. `s` is the state after the
   * block. When it is `this.state` itself, changed while the block was made, `undo` puts it back
   * if the write fails (fold it again from the log, or reset the head of an empty block); a copy
   * needs no undo. A write that fails throws, and nothing moved.
   */
  private async commit(s: State, enc: EncodedBlock, events: ChainEvent[], undo?: () => void): Promise<void> {
    const { block, bytes } = enc;
    const be: BlockEvents = { height: block.height, time: block.time, hash: block.hash, events };
    try {
      await this.store.commit(bytes, be);
    } catch (e) {
      const err = toGridError(e);
      if (!this.writeFailing) this.opts.log?.warn({ err: err.message, code: err.code, height: block.height }, "cannot write a block; refusing its transactions until blocks can be written again");
      this.writeFailing = true;
      // If the state cannot be put back, the chain cannot go on: fatal, whatever the write said.
      try { undo?.(); } catch (u) { this.broken = u; }
      throw err;
    }
    if (this.writeFailing) this.opts.log?.info({ height: block.height }, "blocks are written again");
    this.writeFailing = false;
    this.state = s;
    this.lastBlockAt = this.now();
    this.committed = { height: block.height, hash: block.hash, time: block.time };
    if (this.opts.orderer) this.replica.committed(block);
    for (const fn of this.listeners) fn(be, block);
    this.store.counted(s, block.txs.length, this.now());
  }

  /** Replicas: find out whether the state `batch` was judged on was the head of the ordered chain
   *  (`ask` returns the block that was already at the next height, if any). If it was, refusals
   *  stand: true. If another block got there first, it is applied and the whole batch goes back to
   *  the front of the queue, to be judged again on the new state: false. If the orderer cannot be
   *  reached, the batch is refused as unavailable: false. */
  private async settle(batch: Pending[], refused: { p: Pending; e: unknown }[], ask: () => Promise<Block | undefined>): Promise<boolean> {
    let other: Block | undefined;
    try { other = await ask(); } catch (e) {
      this.opts.log?.warn({ err: String(e) }, "the ordering service is unreachable; refusing the batch");
      const err = toGridError(e);
      for (const p of batch) p.reject(new UnavailableError(`${err.message}; the transaction may or may not be in a block`, "check the signer's nonce (GET /accounts/:publicKey) before sending again"));
      this.onRefused?.(batch.map(() => ({ code: "unavailable" })));
      return false;
    }
    if (!other) {
      for (const { p, e } of refused) {
        const there = p.orphan && e instanceof GridError && e.code === "bad_nonce" && p.canon ? this.findRecent(txHash(p.raw as object)) : undefined;
        if (there) p.resolve(there); else p.reject(e);
      }
      return true;
    }
    await this.receiveBlock(other);
    this.pending = [...batch, ...this.pending];
    return false;
  }

  // ---- replicas: blocks ordered elsewhere ----

  /** Apply a block the orderer committed (from another replica), after checking it: its height
   *  and link, its hash, every signature, and that it applies to this state. A block at a height
   *  already held must be the same block. Throws (state unchanged) when it is not sound; a block
   *  that cannot be written (exhausted) throws a transient error and is received again later. */
  receive(block: Block): Promise<void> {
    return this.exclusive(() => this.receiveBlock(block));
  }

  private async receiveBlock(block: Block): Promise<void> {
    const c = this.committed;
    if (block.height <= c.height) {
      const mine = this.readBlock(block.height);
      if (mine?.hash !== block.hash) throw new ConflictError(`the ordered chain has block ${block.height} ${block.hash.slice(0, 12)}…, this replica ${mine?.hash.slice(0, 12)}…: the logs diverge`);
      return;
    }
    const enc = await verifyOrderedBlock(block, this.state, this.replica, this.verifyOffThread);
    const s = cloneState(this.state);
    const events = replayBlock(s, enc.block);
    await this.commit(s, enc, events);
  }

  private serial: Promise<unknown> = Promise.resolve();
  /** Block production and received blocks change the state one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.serial.then(fn);
    this.serial = r.catch(() => undefined);
    return r;
  }

  // ---- reads ----

  readBlock(height: number): Block | undefined {
    if (!Number.isInteger(height) || height < 0 || height > this.committed.height) return undefined;
    return this.store.readBlock(height);
  }

  /** Block `height` as logged: its canonical JSON. */
  readBlockBytes(height: number): Buffer | undefined {
    if (!Number.isInteger(height) || height < 0 || height > this.committed.height) return undefined;
    return this.store.readBlockBytes(height);
  }

  readEvents(height: number): BlockEvents | undefined {
    if (!Number.isInteger(height) || height < 0 || height > this.committed.height) return undefined;
    return this.store.readEvents(height);
  }

  static marker(be: BlockEvents): BlockMarker {
    return { type: "block", height: be.height, time: be.time, hash: be.hash };
  }

  // ---- start ----

  private async load(): Promise<void> {
    const { dir } = this.opts;
    mkdirSync(dir, { recursive: true });
    // A replica joining a chain does not make a key of its own: the chain's is another's.
    this.genesisKey = readGenesisKey(dir, !this.opts.genesis);
    this.store = BlockStore.open(dir, { blocks: this.opts.snapshotBlocks, txs: this.opts.snapshotTxs }, this.opts.log);

    if (this.store.count === 0) {
      const g = this.opts.genesis ?? makeGenesisBlock(this.genesisKey!.publicKey, this.opts, Math.floor(this.now() / 1000));
      await this.store.commit(g.bytes, { height: 0, time: g.block.time, hash: g.block.hash, events: [] });
      this.state = genesisState(g.block);
      this.committed = { height: 0, hash: g.block.hash, time: g.block.time };
      if (this.opts.genesis) this.checkGenesisKey(g.block.genesis!);
      this.lastBlockAt = this.now();
      return;
    }
    const genesisBlock = this.store.readBlock(0);
    const g = genesisBlock.genesis!;
    if (this.opts.genesis && this.opts.genesis.block.hash !== genesisBlock.hash) {
      throw new ConflictError(`${dir} holds another chain (block 0 ${genesisBlock.hash.slice(0, 12)}…) than the ordering service (block 0 ${this.opts.genesis.block.hash.slice(0, 12)}…)`, "give this replica an empty --data folder");
    }
    this.checkGenesisKey(g);
    for (const [k, v] of Object.entries({ billingPeriod: this.opts.billingPeriod, gracePeriod: this.opts.gracePeriod })) {
      if (g[k as keyof Genesis] !== v) this.opts.log?.warn({ [k]: g[k as keyof Genesis], requested: v }, `${k} is fixed at genesis; keeping the chain's value`);
    }
    const t0 = Date.now();
    this.state = this.rebuild(true);
    this.committed = { height: this.state.height, hash: this.state.hash, time: this.state.time };
    this.opts.log?.info({ height: this.state.height, ms: Date.now() - t0 }, "state rebuilt from the block log");
    this.lastBlockAt = this.now();
  }

  /**
   * The state of the block log's last block: from the snapshot if it is sound, else from genesis,
   * replaying the blocks after it (and writing the events the derived event log lacks). At start
   * it snapshots on the way as the running ledger would have (`counting`). A block that does not
   * follow or does not apply is damage: the log is not the chain it claims to be.
   */
  private rebuild(counting: boolean): State {
    const genesisBlock = this.store.readBlock(0);
    const state = this.store.loadSnapshot() ?? genesisState(genesisBlock);
    this.store.appendEvents({ height: 0, time: genesisBlock.time, hash: genesisBlock.hash, events: [] });
    const path = join(this.opts.dir, "blocks.log");
    for (let h = state.height + 1; h < this.store.count; h++) {
      const block = this.store.readBlock(h);
      if (block.prevHash !== state.hash) throw new DamagedError(`${path}: block ${h} does not follow block ${h - 1} (prevHash mismatch)`, "run bcdb verify DIR; restore the folder from a replica or a backup");
      let events: ChainEvent[];
      try { events = replayBlock(state, block); } catch (e) {
        throw new DamagedError(`${path}: ${e instanceof Error ? e.message : String(e)}`, "run bcdb verify DIR; restore the folder from a replica or a backup", { cause: e });
      }
      this.store.appendEvents({ height: h, time: block.time, hash: block.hash, events });
      if (counting) this.store.counted(state, block.txs.length);
    }
    return state;
  }

  private checkGenesisKey(g: Genesis): void {
    if (this.genesisKey && this.genesisKey.publicKey !== g.publicKey) {
      this.opts.log?.warn({ dir: this.opts.dir }, "genesis.key is not this chain's genesis key; no faucet here");
      this.genesisKey = undefined;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.producing) await new Promise((r) => setTimeout(r, 5));
    await this.serial;
    for (const p of this.pending.splice(0)) p.reject(new UnavailableError("the ledger is shutting down"));
    this.replica.close();
    this.store.close();
  }
}

function codeOf(e: unknown): string {
  return e instanceof GridError ? e.code : "internal";
}

/** A deep copy, for a replica's speculative block (Maps, Sets and records alike). */
function cloneState(s: State): State {
  return structuredClone(s);
}

// The ledger engine: admits signed transactions, produces blocks, keeps the block log, the event
// log and snapshots, and rebuilds its state from them at start. The I/O loop around the pure
// state machine in apply.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, openSync, fsyncSync, closeSync, chmodSync } from "node:fs";
import { join } from "node:path";
import {
  ForbiddenError, GridError, UnavailableError, ValidationError, canonicalJson, generateKeyPair, keyPairFromSeed, parseTx, payloadSchemas, signTx, txHash,
  type KeyPair, type Tx,
} from "../core/index.js";
import { apply, applyBilling } from "./apply.js";
import { decodeBlock, encodeBlock, computeBlockHash, ZERO_HASH, type EncodedBlock } from "./block.js";
import { RecordFile } from "./records.js";
import { emptyState, stateFromJson, stateToJson, type State, type StateJson } from "./state.js";
import type { Block, BlockMarker, ChainEvent, EventBody, Genesis, Receipt } from "./types.js";

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

/** One block's events as the event log stores them. */
export interface BlockEvents { height: number; time: number; hash: string; events: ChainEvent[] }

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

export const DEFAULT_SUPPLY = 100_000_000_000_000;

export class Chain {
  state!: State;
  /** Absent on a replica that joined a chain without its genesis key: no faucet there. */
  genesisKey?: KeyPair;
  private blocks!: RecordFile;
  private eventLog!: RecordFile;
  private pending: Pending[] = [];
  private producing = false;
  private closed = false;
  private lastBlockAt = 0;
  private beat = false;
  private sinceSnapshot = { blocks: 0, txs: 0 };
  private recent = new Map<number, BlockEvents>();
  private readonly now: () => number;
  private listeners = new Set<(b: BlockEvents, block: Block) => void>();
  /** Replicas: the newest blocks, for answering forwarded transactions' clients. */
  private recentBlocks = new Map<number, Block>();
  /** Replicas: canonical transactions this replica verified (shape and signature) before sending
   *  them to the leader; their signatures are not checked twice when the block comes back. */
  private verified = new Set<string>();
  /** Replicas: checks a received transaction (its canonical JSON) off the main thread, on the
   *  verification threads; rejects when it does not verify. Absent: checked here. */
  verifyOffThread?: (canon: string) => Promise<unknown>;
  private waiters: { height: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
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
    try { tx = parseTx(raw); } catch (e) {
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
    this.verified.add(canon);
    if (this.verified.size > 100_000) this.verified.delete(this.verified.values().next().value as string);
    this.opts.orderer!.forward!(leader, canon).then(async (r) => {
      if ("receipt" in r) return p.resolve(await this.localReceipt(r.receipt));
      if ("error" in r) { this.verified.delete(canon); return p.reject(r.error); }
      // The leader may or may not have ordered it before it went away: propose it here.
      p.orphan = true;
      if (this.closed) return p.reject(new UnavailableError("the ledger is shutting down"));
      this.pending.push(p);
      this.schedule();
    }).catch((e) => p.reject(e));
  }

  /** The receipt the leader gave, from this replica's own block once it has it on disk. */
  private async localReceipt(r: Receipt): Promise<Receipt> {
    await this.reach(r.height);
    const found = this.includedAt(r.height, r.index, r.hash);
    if (!found) throw new UnavailableError(`the leader's receipt (block ${r.height}, tx ${r.index}) does not match this replica's block ${r.height}`, "ask another replica");
    return found;
  }

  private includedAt(height: number, index: number, hash: string): Receipt | undefined {
    const block = this.recentBlocks.get(height) ?? this.readBlock(height);
    const raw = block?.txs[index];
    if (!raw || txHash(raw as object) !== hash) return undefined;
    const be = this.readEvents(height)!;
    return { height, index, hash, events: be.events.filter((e) => e.tx === index) };
  }

  /** An orphaned transaction refused for its nonce may be in a recent block: find it there. */
  private findRecent(hash: string): Receipt | undefined {
    for (const [h, b] of this.recentBlocks) {
      const i = b.txs.findIndex((t) => txHash(t as object) === hash);
      if (i >= 0) return this.includedAt(h, i, hash);
    }
    return undefined;
  }

  /** Resolves once this replica has committed `height` (30 s at most). */
  private reach(height: number): Promise<void> {
    if (this.committed.height >= height) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new UnavailableError(`block ${height} is committed but this replica has not received it in 30 s`, "ask another replica, or check its etcd connection"));
      }, 30_000);
      const done = () => { clearTimeout(timer); resolve(); };
      this.waiters.push({ height, resolve: done, reject: (e) => { clearTimeout(timer); reject(e); } });
    });
  }

  private committedTo(c: { height: number; hash: string; time: number }, block: Block): void {
    this.committed = c;
    if (!this.opts.orderer) return;
    this.recentBlocks.set(c.height, block);
    if (this.recentBlocks.size > 256) this.recentBlocks.delete(this.recentBlocks.keys().next().value as number);
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) if (w.height <= c.height) w.resolve(); else still.push(w);
    this.waiters = still;
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
      // The in-memory state is ahead of a block that could not be written (or, on a replica, the
      // ordered chain cannot be followed): stop rather than diverge.
      this.opts.log?.warn({ err: String(e) }, "block log write failed; stopping");
      this.closed = true;
      for (const p of this.pending.splice(0)) p.reject(new UnavailableError(`the ledger stopped: ${e instanceof Error ? e.message : String(e)}`));
      process.exitCode = 1;
      throw e;
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
    const beat = this.beat || time >= s.billingDue;
    this.beat = false;
    const bodies: { e: EventBody; tx?: number }[] = applyBilling(s, time).map((e) => ({ e }));
    const txs: unknown[] = [], canons: string[] = [];
    const included: { p: Pending; index: number; hash: string; first: number; count: number }[] = [];
    const refused: { code: string }[] = [];
    const refusedP: { p: Pending; e: unknown }[] = [];
    for (const p of batch) {
      let tx = p.tx, raw = p.raw, canon = p.canon;
      if (p.faucet) {
        const gk = this.genesisKey!;
        raw = tx = signTx({ type: "mint", signer: gk.publicKey, nonce: (s.nonces.get(gk.publicKey) ?? 0) + 1, payload: { to: p.faucet.twinId, amount: p.faucet.amount } }, gk.privateKey);
        canon = canonicalJson(raw);
      }
      try {
        const evs = apply(s, tx!, time);
        const index = txs.length;
        included.push({ p, index, hash: p.hash ?? txHash(raw as object), first: bodies.length, count: evs.length });
        for (const e of evs) bodies.push({ e, tx: index });
        txs.push(raw);
        canons.push(canon!);
      } catch (e) {
        refused.push({ code: e instanceof GridError ? e.code : "internal" });
        if (ord) refusedP.push({ p, e }); else p.reject(e);
      }
    }
    // Nothing accepted, no heartbeat and no billing due: a refusal leaves not even a block behind.
    if (!beat && txs.length === 0) {
      // A replica's state may be behind the ordered chain: refuse only what the head refuses.
      if (ord && refusedP.length && !(await this.settle(batch, refusedP, () => ord.at(s.height + 1)))) return;
      this.onRefused?.(refused); return;
    }
    const { block, bytes } = encodeBlock({ height: s.height + 1, prevHash: s.hash, time }, txs, canons);
    const events = bodies.map(({ e, tx }, index) => ({ ...e, height: block.height, index, time, ...(tx !== undefined ? { tx } : {}) }) as ChainEvent);
    if (ord) {
      if (!(await this.settle(batch, refusedP, async () => { const r = await ord.propose(block, bytes); return r.won ? undefined : r.block; }))) return;
      this.state = s;
    }
    s.height = block.height; s.hash = block.hash; s.time = time;
    this.lastBlockAt = this.now();
    await this.blocks.append(bytes, true);
    const be: BlockEvents = { height: block.height, time, hash: block.hash, events };
    this.eventLog.append(Buffer.from(JSON.stringify(be)), false);
    this.remember(be);
    this.committedTo({ height: block.height, hash: block.hash, time }, block);
    const latencies: number[] = [];
    const done = this.now();
    for (const inc of included) {
      latencies.push((done - inc.p.submittedAt) / 1000);
      inc.p.resolve({ height: block.height, index: inc.index, hash: inc.hash, events: events.slice(inc.first, inc.first + inc.count) });
    }
    for (const fn of this.listeners) fn(be, block);
    this.sinceSnapshot.blocks++;
    this.sinceSnapshot.txs += txs.length;
    if (this.sinceSnapshot.blocks >= (this.opts.snapshotBlocks ?? 1000) || this.sinceSnapshot.txs >= (this.opts.snapshotTxs ?? 100_000)) this.snapshot();
    this.onRefused?.(refused);
    this.onProduced?.({ txs: txs.length, seconds: Number(process.hrtime.bigint() - started) / 1e9, latencies });
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
      const err = e instanceof GridError ? e : new UnavailableError(String(e));
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
   *  already held must be the same block. Throws (state unchanged) when it is not sound. */
  receive(block: Block): Promise<void> {
    return this.exclusive(() => this.receiveBlock(block));
  }

  private async receiveBlock(block: Block): Promise<void> {
    const c = this.committed;
    if (block.height <= c.height) {
      const mine = this.readBlock(block.height);
      if (mine?.hash !== block.hash) throw new Error(`the ordered chain has block ${block.height} ${block.hash.slice(0, 12)}…, this replica ${mine?.hash.slice(0, 12)}…: the logs diverge`);
      return;
    }
    if (block.height !== c.height + 1) throw new Error(`block ${block.height} arrived while block ${c.height + 1} is missing`);
    if (block.genesis) throw new Error(`block ${block.height} carries genesis parameters`);
    if (block.prevHash !== this.state.hash) throw new Error(`block ${block.height} does not follow block ${c.height} (prevHash mismatch)`);
    if (block.time < this.state.time) throw new Error(`block ${block.height} goes back in time (${block.time} < ${this.state.time})`);
    const off = this.verifyOffThread, checks: Promise<unknown>[] = [];
    const bad = (i: number, e: unknown) => new Error(`block ${block.height} tx ${i}: ${e instanceof Error ? e.message : String(e)}`);
    const canons = block.txs.map((raw, i) => {
      const canon = canonicalJson(raw);
      // Checked already if this replica verified these very bytes before forwarding them.
      if (this.verified.delete(canon)) return canon;
      if (off) checks.push(off(canon).catch((e) => { throw bad(i, e); }));
      else try { parseTx(raw); } catch (e) { throw bad(i, e); }
      return canon;
    });
    if (checks.length) await Promise.all(checks);
    // Re-encoding checks the hash and gives the bytes every replica logs.
    const enc = encodeBlock({ height: block.height, prevHash: block.prevHash, time: block.time }, block.txs, canons);
    if (enc.block.hash !== block.hash) throw new Error(`block ${block.height}: hash does not match its content`);
    const s = cloneState(this.state);
    const events = replayBlock(s, enc.block);
    this.state = s;
    this.lastBlockAt = this.now();
    await this.blocks.append(enc.bytes, true);
    const be: BlockEvents = { height: block.height, time: block.time, hash: block.hash, events };
    this.eventLog.append(Buffer.from(JSON.stringify(be)), false);
    this.remember(be);
    this.committedTo({ height: block.height, hash: block.hash, time: block.time }, enc.block);
    for (const fn of this.listeners) fn(be, enc.block);
    this.sinceSnapshot.blocks++;
    this.sinceSnapshot.txs += block.txs.length;
    if (this.sinceSnapshot.blocks >= (this.opts.snapshotBlocks ?? 1000) || this.sinceSnapshot.txs >= (this.opts.snapshotTxs ?? 100_000)) this.snapshot();
  }

  private serial: Promise<unknown> = Promise.resolve();
  /** Block production and received blocks change the state one at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.serial.then(fn);
    this.serial = r.catch(() => undefined);
    return r;
  }

  private remember(be: BlockEvents): void {
    this.recent.set(be.height, be);
    if (this.recent.size > 2048) this.recent.delete(this.recent.keys().next().value as number);
  }

  // ---- reads ----

  readBlock(height: number): Block | undefined {
    if (!Number.isInteger(height) || height < 0 || height > this.committed.height) return undefined;
    return decodeBlock(this.blocks.read(height));
  }

  readEvents(height: number): BlockEvents | undefined {
    if (!Number.isInteger(height) || height < 0 || height > this.committed.height) return undefined;
    return this.recent.get(height) ?? (JSON.parse(this.eventLog.read(height).toString("utf8")) as BlockEvents);
  }

  static marker(be: BlockEvents): BlockMarker {
    return { type: "block", height: be.height, time: be.time, hash: be.hash };
  }

  // ---- persistence ----

  private snapshot(): void {
    const s = this.state;
    const snap = { height: s.height, hash: s.hash, logBytes: this.blocks.offsets[s.height + 1] ?? this.blocks.bytes, state: stateToJson(s) };
    const path = join(this.opts.dir, "snapshot.json");
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, canonicalJson(snap));
    const fd = openSync(tmp, "r+"); fsyncSync(fd); closeSync(fd);
    renameSync(tmp, path);
    this.sinceSnapshot = { blocks: 0, txs: 0 };
  }

  private async load(): Promise<void> {
    const { dir } = this.opts;
    mkdirSync(dir, { recursive: true });
    const keyPath = join(dir, "genesis.key");
    // A replica joining a chain does not make a key of its own: the chain's is another's.
    if (!this.opts.genesis) ensureGenesisKey(dir);
    if (existsSync(keyPath)) {
      this.genesisKey = JSON.parse(readFileSync(keyPath, "utf8")) as KeyPair;
      keyPairFromSeed(this.genesisKey.privateKey); // fails loudly on a damaged key file
    }

    const b = RecordFile.open(join(dir, "blocks.log"));
    this.blocks = b.file;
    if (b.torn) this.opts.log?.warn({ bytes: b.torn }, "cut a torn block off the end of the block log");
    const ev = RecordFile.open(join(dir, "events.log"));
    this.eventLog = ev.file;

    if (this.blocks.count === 0 && this.opts.genesis) {
      const { block, bytes } = this.opts.genesis;
      await this.blocks.append(bytes, true);
      this.eventLog.truncate(0);
      this.state = emptyState(block.genesis!, block.time);
      this.state.height = 0; this.state.hash = block.hash;
      this.eventLog.append(Buffer.from(JSON.stringify({ height: 0, time: block.time, hash: block.hash, events: [] })), false);
      this.lastBlockAt = this.now();
      this.committed = { height: 0, hash: block.hash, time: block.time };
      this.checkGenesisKey(block.genesis!);
      return;
    }
    if (this.blocks.count === 0) {
      const time = Math.floor(this.now() / 1000);
      const { block, bytes } = makeGenesisBlock(this.genesisKey!.publicKey, this.opts, time);
      const genesis = block.genesis!;
      await this.blocks.append(bytes, true);
      this.eventLog.truncate(0);
      this.state = emptyState(genesis, time);
      this.state.height = 0; this.state.hash = block.hash;
      this.eventLog.append(Buffer.from(JSON.stringify({ height: 0, time, hash: block.hash, events: [] })), false);
      this.lastBlockAt = this.now();
      this.committed = { height: 0, hash: block.hash, time };
      return;
    }

    // The last block must be whole and sound; a checksum failure there is a torn write of its payload.
    if (this.blocks.count > 1) try { this.blocks.read(this.blocks.count - 1); } catch {
      this.opts.log?.warn({ height: this.blocks.count - 1 }, "the last block fails its checksum; cutting it off");
      this.blocks.truncate(this.blocks.count - 1);
    }
    const last = this.blocks.count - 1;
    if (this.eventLog.count > last + 1) this.eventLog.truncate(last + 1);

    const genesisBlock = decodeBlock(this.blocks.read(0));
    const g = genesisBlock.genesis!;
    if (this.opts.genesis && this.opts.genesis.block.hash !== genesisBlock.hash) {
      throw new Error(`${dir} holds another chain (block 0 ${genesisBlock.hash.slice(0, 12)}…) than the ordering service (block 0 ${this.opts.genesis.block.hash.slice(0, 12)}…); give this replica an empty --data folder`);
    }
    this.checkGenesisKey(g);
    for (const [k, v] of Object.entries({ billingPeriod: this.opts.billingPeriod, gracePeriod: this.opts.gracePeriod })) {
      if (g[k as keyof Genesis] !== v) this.opts.log?.warn({ [k]: g[k as keyof Genesis], requested: v }, `${k} is fixed at genesis; keeping the chain's value`);
    }

    let state: State | undefined;
    const snapPath = join(dir, "snapshot.json");
    if (existsSync(snapPath)) {
      try {
        const snap = JSON.parse(readFileSync(snapPath, "utf8")) as { height: number; hash: string; logBytes: number; state: StateJson };
        const atHeight = snap.height <= last ? decodeBlock(this.blocks.read(snap.height)) : undefined;
        // A snapshot counts only if the log still holds its block and the event log reaches it.
        if (atHeight && atHeight.hash === snap.hash && this.eventLog.count > snap.height) state = stateFromJson(snap.state);
        else this.opts.log?.warn({ height: snap.height }, "snapshot does not match the block log; replaying from genesis");
      } catch (e) {
        this.opts.log?.warn({ err: String(e) }, "unreadable snapshot; replaying from genesis");
      }
    }
    if (!state) {
      state = emptyState(g, genesisBlock.time);
      state.height = 0; state.hash = genesisBlock.hash;
      if (this.eventLog.count === 0) this.eventLog.append(Buffer.from(JSON.stringify({ height: 0, time: genesisBlock.time, hash: genesisBlock.hash, events: [] })), false);
    }
    this.state = state;
    const from = state.height + 1;
    const t0 = Date.now();
    for (let h = from; h <= last; h++) {
      const block = decodeBlock(this.blocks.read(h));
      if (block.prevHash !== state.hash) throw new Error(`block ${h} does not follow block ${h - 1} (prevHash mismatch); run bcdb verify`);
      const events = replayBlock(state, block);
      if (this.eventLog.count === h) this.eventLog.append(Buffer.from(JSON.stringify({ height: h, time: block.time, hash: block.hash, events })), false);
      // Snapshot on the way, as the running ledger would have: the next start replays only the tail.
      this.sinceSnapshot.blocks++;
      this.sinceSnapshot.txs += block.txs.length;
      if (this.sinceSnapshot.blocks >= (this.opts.snapshotBlocks ?? 1000) || this.sinceSnapshot.txs >= (this.opts.snapshotTxs ?? 100_000)) this.snapshot();
    }
    this.committed = { height: state.height, hash: state.hash, time: state.time };
    if (last >= from) this.opts.log?.info({ blocks: last - from + 1, ms: Date.now() - t0 }, "replayed the block log");
    this.lastBlockAt = this.now();
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
    for (const w of this.waiters.splice(0)) w.reject(new UnavailableError("the ledger is shutting down"));
    this.blocks.close();
    this.eventLog.close();
  }
}

/** Make DIR/genesis.key (0600) unless it exists; true when it was made now. */
export function ensureGenesisKey(dir: string): boolean {
  const keyPath = join(dir, "genesis.key");
  if (existsSync(keyPath)) return false;
  mkdirSync(dir, { recursive: true });
  const kp = generateKeyPair();
  writeFileSync(keyPath, JSON.stringify(kp) + "\n", { mode: 0o600 });
  chmodSync(keyPath, 0o600);
  return true;
}

/** Block 0 of a new chain: its genesis twin's key, supply and periods. */
export function makeGenesisBlock(publicKey: string, o: { supply?: number; billingPeriod: number; gracePeriod: number; reportInterval: number }, time: number): EncodedBlock {
  const genesis: Genesis = { publicKey, supply: o.supply ?? DEFAULT_SUPPLY, billingPeriod: o.billingPeriod, gracePeriod: o.gracePeriod, reportInterval: o.reportInterval };
  return encodeBlock({ height: 0, prevHash: ZERO_HASH, time, genesis }, [], []);
}

/** A deep copy, for a replica's speculative block (Maps, Sets and records alike). */
function cloneState(s: State): State {
  return structuredClone(s);
}

/** Fold one logged block into the state, as when it was made. Throws if it does not apply. */
export function replayBlock(s: State, block: Block, opts: { checkHash?: boolean } = {}): ChainEvent[] {
  if (opts.checkHash && computeBlockHash(block) !== block.hash) throw new Error(`block ${block.height}: hash does not match its content`);
  const time = block.time;
  const out: ChainEvent[] = [];
  const push = (e: EventBody, tx?: number) => out.push({ ...e, height: block.height, index: out.length, time, ...(tx !== undefined ? { tx } : {}) } as ChainEvent);
  for (const e of applyBilling(s, time)) push(e);
  block.txs.forEach((raw, i) => {
    const r = raw as Tx;
    const p = payloadSchemas[r.type].safeParse(r.payload);
    if (!p.success) throw new Error(`block ${block.height} tx ${i}: invalid payload`);
    let evs: EventBody[];
    try { evs = apply(s, { ...r, payload: p.data } as Tx, time); } catch (e) {
      throw new Error(`block ${block.height} tx ${i} does not apply: ${e instanceof Error ? e.message : String(e)}`);
    }
    for (const e of evs) push(e, i);
  });
  s.height = block.height; s.hash = block.hash; s.time = time;
  return out;
}

// What a replica keeps beside its chain: the transactions it verified before sending them to the
// leader (not checked twice when their block comes back), the newest blocks and the clients
// waiting for a height (to answer a forwarded transaction from its own copy of the block), and the
// checks a block ordered elsewhere passes before it is applied.
import { UnavailableError, ValidationError, canonicalJson, parseTx, txHash } from "../core/index.js";
import { encodeBlock, type EncodedBlock } from "./block.js";
import type { State } from "./state.js";
import type { Block, ChainEvent, Receipt } from "./types.js";

/** What a replica reads of its own chain to answer a client. */
export interface BlockReader {
  readBlock(height: number): Block | undefined;
  readEvents(height: number): { events: ChainEvent[] } | undefined;
}

const VERIFIED_MAX = 100_000;
const RECENT_BLOCKS = 256;
/** How long a forwarded transaction's client waits for this replica to receive its block. */
const REACH_MS = 30_000;

export class ReplicaMemory {
  private readonly verified = new Set<string>();
  private readonly recent = new Map<number, Block>();
  private waiters: { height: number; resolve: () => void; reject: (e: unknown) => void }[] = [];

  /** `canon` was verified here (shape and signature) before it went to the leader. */
  markVerified(canon: string): void {
    this.verified.add(canon);
    if (this.verified.size > VERIFIED_MAX) this.verified.delete(this.verified.values().next().value as string);
  }

  /** Forget `canon`; true if it had been verified here (so its block need not check it again). */
  takeVerified(canon: string): boolean { return this.verified.delete(canon); }

  /** A block committed here: kept among the newest, and the clients waiting for it go on. */
  committed(block: Block): void {
    this.recent.set(block.height, block);
    if (this.recent.size > RECENT_BLOCKS) this.recent.delete(this.recent.keys().next().value as number);
    if (!this.waiters.length) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) if (w.height <= block.height) w.resolve(); else still.push(w);
    this.waiters = still;
  }

  recentBlock(height: number): Block | undefined { return this.recent.get(height); }

  /** Where a transaction (by hash) sits among the newest blocks, if it does. */
  findRecent(hash: string): { height: number; index: number } | undefined {
    for (const [height, b] of this.recent) {
      const index = b.txs.findIndex((t) => txHash(t as object) === hash);
      if (index >= 0) return { height, index };
    }
    return undefined;
  }

  /** Resolves once this replica has committed `height` (REACH_MS at most). */
  reach(height: number, committedHeight: number): Promise<void> {
    if (committedHeight >= height) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new UnavailableError(`block ${height} is committed but this replica has not received it in ${REACH_MS / 1000} s`, "ask another replica, or check its etcd connection"));
      }, REACH_MS);
      const done = () => { clearTimeout(timer); resolve(); };
      this.waiters.push({ height, resolve: done, reject: (e) => { clearTimeout(timer); reject(e); } });
    });
  }

  /** The leader's receipt `r` as this replica holds it (its own block, its own events); throws
   *  `unavailable` when this replica's block at that height does not hold that transaction. */
  localReceipt(chain: BlockReader, r: Receipt): Receipt {
    const found = this.receiptAt(chain, r.height, r.index, r.hash);
    if (!found) throw new UnavailableError(`the leader's receipt (block ${r.height}, tx ${r.index}) does not match this replica's block ${r.height}`, "ask another replica");
    return found;
  }

  /** The receipt of a transaction (by hash) found among the newest blocks, if it is there. */
  receiptOf(chain: BlockReader, hash: string): Receipt | undefined {
    const at = this.findRecent(hash);
    return at ? this.receiptAt(chain, at.height, at.index, hash) : undefined;
  }

  private receiptAt(chain: BlockReader, height: number, index: number, hash: string): Receipt | undefined {
    const block = this.recent.get(height) ?? chain.readBlock(height);
    const raw = block?.txs[index];
    if (!raw || txHash(raw as object) !== hash) return undefined;
    const be = chain.readEvents(height);
    if (!be) return undefined;
    return { height, index, hash, events: be.events.filter((e) => e.tx === index) };
  }

  close(): void {
    for (const w of this.waiters.splice(0)) w.reject(new UnavailableError("the ledger is shutting down"));
  }
}

/**
 * Check a block the orderer committed before it is applied: the next one on `state`, every
 * transaction verified (on the signature threads when `off` is given; those this replica verified
 * before forwarding them are not checked twice), and its hash. Returns it re-encoded: the bytes
 * every replica logs.
 */
export async function verifyOrderedBlock(block: Block, state: State, memory: ReplicaMemory, off?: (canon: string) => Promise<unknown>): Promise<EncodedBlock> {
  checkOrderedBlock(block, state);
  const checks: Promise<unknown>[] = [];
  const bad = (i: number, e: unknown) => new ValidationError(`block ${block.height} tx ${i}: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  const canons = block.txs.map((raw, i) => {
    const canon = canonicalJson(raw);
    if (memory.takeVerified(canon)) return canon;
    if (off) checks.push(off(canon).catch((e) => { throw bad(i, e); }));
    else try { parseTx(raw); } catch (e) { throw bad(i, e); }
    return canon;
  });
  if (checks.length) await Promise.all(checks);
  const enc = encodeBlock({ height: block.height, prevHash: block.prevHash, time: block.time }, block.txs, canons);
  if (enc.block.hash !== block.hash) throw new ValidationError(`block ${block.height}: hash does not match its content`);
  return enc;
}

/** A block the orderer committed must be the next one on `state`: height, link, no genesis, time. */
export function checkOrderedBlock(block: Block, state: State): void {
  if (block.height !== state.height + 1) throw new ValidationError(`block ${block.height} arrived while block ${state.height + 1} is missing`);
  if (block.genesis) throw new ValidationError(`block ${block.height} carries genesis parameters`);
  if (block.prevHash !== state.hash) throw new ValidationError(`block ${block.height} does not follow block ${state.height} (prevHash mismatch)`);
  if (block.time < state.time) throw new ValidationError(`block ${block.height} goes back in time (${block.time} < ${state.time})`);
}

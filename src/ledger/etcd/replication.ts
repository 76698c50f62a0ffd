// The ledger as several replicas, ordered through etcd. Each block lives at
// PREFIX/blocks/<height, 12 digits>; a replica proposes block h+1 with a txn that puts it only if
// that key was never created, so exactly one block wins each height. Every replica follows the
// prefix (a range to catch up, then a watch) and applies the blocks in height order after checking
// them, so all logs hold the same blocks. This is the Orderer the Chain asks before committing.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConflictError, GridError, UnavailableError, ValidationError, canonicalJson, type KeyPair } from "../../core/index.js";
import { decodeBlock, encodeBlock, type EncodedBlock } from "../block.js";
import type { Chain, Orderer } from "../chain.js";
import { ensureGenesisKey, makeGenesisBlock } from "../genesis.js";
import { RecordFile } from "../records.js";
import type { Block } from "../types.js";
import { EtcdClient } from "./client.js";
import { blockKey, heightOfKey, heightOfProposerKey, parseProposer, prefixEnd, proposerKey, proposerValue, type KeyValue } from "./protocol.js";
import { Forwarder, type ForwardResult } from "./forward.js";
import { randomUUID } from "node:crypto";

export interface ReplicationLog {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
  error(o: object, msg?: string): void;
}

/** Re-encode a block from its parts: the canonical bytes every replica logs, and a hash check. */
export function encodeAgain(b: Block): EncodedBlock {
  const enc = encodeBlock({ height: b.height, prevHash: b.prevHash, time: b.time, ...(b.genesis ? { genesis: b.genesis } : {}) }, b.txs, b.txs.map((t) => canonicalJson(t)));
  if (enc.block.hash !== b.hash) throw new ValidationError(`block ${b.height} from etcd: hash does not match its content`);
  return enc;
}

function blockOf(kv: KeyValue): Block {
  try { return decodeBlock(kv.value); } catch (e) {
    throw new ValidationError(`etcd key ${kv.key} does not hold a block: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
}

const isTransient = (e: unknown) => e instanceof GridError && e.transient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class EtcdReplication implements Orderer {
  private readonly blocksPrefix: string;
  /** Where this replica takes transactions (set once it listens); written beside its blocks. */
  url = "";
  /** Who proposed the newest block this replica knows of: the leader, while it keeps proposing. */
  private head = { height: -1, id: "", url: "" };
  /** Leaders that did not take a forwarded transaction: not asked again unless they propose again. */
  private dead = new Set<string>();
  private readonly forwarder = new Forwarder();
  private readonly abort = new AbortController();
  /** This run's identity as a proposer. */
  readonly id = randomUUID();
  private loop?: Promise<void>;
  /** Called when this replica cannot follow the ordered chain any more (a block that does not
   *  verify, logs that diverge): it must stop. */
  onFatal: (e: unknown) => void = () => {};

  constructor(readonly etcd: EtcdClient, readonly prefix: string, private readonly log: ReplicationLog) {
    this.blocksPrefix = `${prefix}/blocks/`;
  }

  // ---- Orderer ----

  async propose(block: Block, bytes: Buffer): Promise<{ won: true } | { won: false; block: Block }> {
    const key = blockKey(this.prefix, block.height), pkey = proposerKey(this.prefix, block.height);
    let lastErr: unknown;
    // A request that failed in flight may still have been applied: asking again is safe (the
    // compare fails, and the failure branch shows whose block is there).
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const r = await this.etcd.createIfAbsent([{ key, value: bytes }, { key: pkey, value: proposerValue(this.id, this.url) }]);
        if (r.succeeded) { this.saw(block.height, this.id, this.url); return { won: true }; }
        const there = r.kvs.find((kv) => kv.key === key);
        if (!there) throw new UnavailableError(`etcd neither put nor returned ${key}`);
        const other = blockOf(there);
        // Our own earlier attempt (its answer was lost) counts as won; the same block built by
        // another replica does not: its clients get the receipts, ours are judged again.
        const pv = r.kvs.find((kv) => kv.key === pkey);
        const who = pv ? parseProposer(pv.value) : undefined;
        if (who) this.saw(block.height, who.id, who.url);
        const mine = who?.id === this.id;
        return mine && other.hash === block.hash ? { won: true } : { won: false, block: other };
      } catch (e) {
        if (!(e instanceof UnavailableError)) throw e;
        lastErr = e;
        await sleep(100 * 2 ** attempt);
      }
    }
    throw lastErr;
  }

  /** The leader is whoever proposed the newest block, as long as it is another replica that can
   *  be reached; undefined: this replica proposes itself (it leads, or nobody known does). */
  leader(): string | undefined {
    const h = this.head;
    return h.id !== this.id && h.url && !this.dead.has(h.id) ? h.url : undefined;
  }

  async forward(url: string, canon: string): Promise<ForwardResult> {
    const r = await this.forwarder.send(url, canon);
    if ("unreachable" in r && this.head.url === url && !this.dead.has(this.head.id)) {
      this.log.warn({ leader: url, err: r.unreachable }, "the leader did not take a transaction; proposing here");
      this.dead.add(this.head.id);
    }
    return r;
  }

  private saw(height: number, id: string, url: string): void {
    if (height < this.head.height) return;
    this.head = { height, id, url };
    this.dead.delete(id);
  }

  async at(height: number): Promise<Block | undefined> {
    const r = await this.etcd.range(blockKey(this.prefix, height));
    return r.kvs[0] ? blockOf(r.kvs[0]) : undefined;
  }

  // ---- start-up ----

  /** Block 0 of the chain under the prefix. On an empty prefix this replica's becomes it (the
   *  block 0 of its existing log, or a new one with a genesis key made here) unless another
   *  replica's gets there first. */
  async genesis(dir: string, o: { supply?: number; billingPeriod: number; gracePeriod: number; reportInterval: number; now?: () => number }): Promise<EncodedBlock> {
    const there = await this.at(0);
    if (there) return this.checkGenesis(there);
    let mine: EncodedBlock | undefined;
    const logPath = join(dir, "blocks.log");
    if (existsSync(logPath)) {
      const { file } = RecordFile.open(logPath, { readOnly: true });
      try { if (file.count > 0) mine = encodeAgain(decodeBlock(file.read(0))); } finally { file.close(); }
    }
    let made = false;
    if (!mine) {
      made = ensureGenesisKey(dir);
      const key = JSON.parse(readFileSync(join(dir, "genesis.key"), "utf8")) as KeyPair;
      mine = makeGenesisBlock(key.publicKey, o, Math.floor((o.now ?? Date.now)() / 1000));
    }
    const r = await this.propose(mine.block, mine.bytes);
    if (r.won) { this.log.info({ prefix: this.prefix, hash: mine.block.hash }, "this replica started the chain in etcd"); return mine; }
    // Another replica started the chain a moment earlier; a key made for ours is nobody's.
    if (made) rmSync(join(dir, "genesis.key"), { force: true });
    return this.checkGenesis(r.block);
  }

  private checkGenesis(b: Block): EncodedBlock {
    if (b.height !== 0 || !b.genesis) throw new ValidationError(`etcd ${blockKey(this.prefix, 0)} is not a genesis block`);
    return encodeAgain(b);
  }

  /** Bring the chain level with etcd, then follow it in the background. */
  async start(chain: Chain): Promise<void> {
    await this.pushLocal(chain);
    const rev = await this.catchUp(chain);
    this.loop = this.follow(chain, rev);
  }

  /** Blocks this log has and etcd lacks (a data folder from a single-process ledger, or an etcd
   *  that lost its data) go to etcd, in order; any other block already there means divergence. */
  private async pushLocal(chain: Chain): Promise<void> {
    const head = await this.etcd.range(this.blocksPrefix, { end: prefixEnd(this.blocksPrefix), limit: 1, descending: true });
    const etcdHead = head.kvs[0] ? heightOfKey(this.prefix, head.kvs[0].key) ?? -1 : -1;
    if (etcdHead >= chain.height) return;
    this.log.warn({ from: etcdHead + 1, to: chain.height }, "the local log is ahead of etcd; giving etcd the missing blocks");
    for (let h = Math.max(1, etcdHead + 1); h <= chain.height; h++) {
      const enc = encodeAgain(chain.readBlock(h)!);
      const r = await this.propose(enc.block, enc.bytes);
      if (!r.won) throw new ConflictError(`etcd holds another block ${h} than this replica's log: the logs diverge`, "give this replica an empty --data folder");
    }
  }

  /** Apply every block etcd holds above this chain's head, in height order; returns the etcd
   *  revision they were read at (the watch starts after it). */
  private async catchUp(chain: Chain): Promise<number> {
    // The head block must be the one etcd holds at that height (receive() compares the hashes).
    const same = await this.at(chain.height);
    if (!same) throw new ConflictError(`etcd does not hold block ${chain.height}, which this replica has: was the etcd prefix ${this.prefix} emptied?`);
    await chain.receive(same);
    const end = prefixEnd(this.blocksPrefix);
    const start = chain.height;
    for (;;) {
      // This replica keeps proposing while it catches up: a block of its own may win and be
      // committed here while the range is in flight, so the range may begin at or below the head
      // by the time it answers. Those blocks are only compared (receive() does that); a gap is a
      // hole in what etcd holds after the height the range asked from.
      const from = chain.height + 1;
      const r = await this.etcd.range(blockKey(this.prefix, from), { end, limit: 64 });
      let expect = from;
      for (const kv of r.kvs) {
        const h = heightOfKey(this.prefix, kv.key);
        if (h !== expect) {
          throw new ConflictError(`etcd no longer holds block ${expect} (the next it has is ${kv.key}): this replica is too far behind to catch up from etcd`, "give it a copy of another replica's --data folder");
        }
        expect++;
        await chain.receive(blockOf(kv));
        if (h % 1000 === 0) this.log.info({ height: h }, "catching up from etcd");
      }
      if (!r.more || !r.kvs.length) {
        const p = await this.etcd.range(proposerKey(this.prefix, chain.height));
        if (p.kvs[0]) { const who = parseProposer(p.kvs[0].value); this.saw(chain.height, who.id, who.url); }
        if (chain.height > start) this.log.info({ blocks: chain.height - start, height: chain.height }, "caught up from etcd");
        return r.revision;
      }
    }
  }

  /** Watch the blocks prefix from `rev + 1`; on a broken stream, catch up by range and watch again. */
  private async follow(chain: Chain, rev: number): Promise<void> {
    let next = rev + 1, delay = 100;
    // Blocks and their proposers (one txn puts both): the proposer of the newest block leads.
    const all = `${this.prefix}/`, end = prefixEnd(all);
    while (!this.abort.signal.aborted) {
      try {
        await this.etcd.watch(all, end, next, async (m) => {
          if (m.kind === "canceled") throw new UnavailableError(`etcd cancelled the watch (compacted at ${m.compactRevision}): ${m.reason}`);
          delay = 100;
          if (m.kind !== "events") return;
          // Who leads is known no later than its block is applied.
          for (const kv of m.puts) {
            const ph = heightOfProposerKey(this.prefix, kv.key);
            if (ph !== undefined) { const who = parseProposer(kv.value); this.saw(ph, who.id, who.url); }
          }
          for (const kv of m.puts) {
            const h = heightOfKey(this.prefix, kv.key);
            if (h === undefined) { next = Math.max(next, kv.modRevision + 1); continue; }
            if (h > chain.height + 1) await this.catchUp(chain); // a gap: read what is missing
            else await chain.receive(blockOf(kv));
            next = Math.max(next, kv.modRevision + 1);
          }
        }, this.abort.signal);
      } catch (e) {
        if (this.abort.signal.aborted) return;
        // Unreachable etcd, or this replica out of disk or descriptors: wait and catch up again.
        if (!isTransient(e)) { this.log.error({ err: String(e) }, "cannot follow the ordered chain; stopping"); this.onFatal(e); return; }
        this.log.warn({ err: String(e), retryMs: delay }, "etcd watch broke; catching up and watching again");
      }
      if (this.abort.signal.aborted) return;
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
      try { next = (await this.catchUp(chain)) + 1; } catch (e) {
        if (isTransient(e)) continue;
        this.log.error({ err: String(e) }, "cannot follow the ordered chain; stopping");
        this.onFatal(e);
        return;
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.forwarder.close();
  }
}

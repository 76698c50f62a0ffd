// The ledger on disk: the block log (durable), the event log (derived from it) and the snapshot of
// the state. One `commit()` writes a block and its events, or neither: a block that cannot be
// written whole (a full disk, a failed fsync) is cut off both logs again and the error thrown, so
// the caller does not acknowledge it. Snapshots are a cache: one that cannot be written is retried
// later, one that does not hash to its digest or to the chain's block is ignored (replay instead).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { InternalError, canonicalJson, sha256Hex, toGridError, type GridError } from "../core/index.js";
import { writeFileAtomicSync } from "../runtime/index.js";
import { decodeBlock } from "./block.js";
import { RecordFile, type Opened } from "./records.js";
import { stateFromJson, stateToJson, type State, type StateJson } from "./state.js";
import type { Block, ChainEvent } from "./types.js";

/** One block's events as the event log stores them. */
export interface BlockEvents { height: number; time: number; hash: string; events: ChainEvent[] }

export interface StoreLog { info(o: object, msg?: string): void; warn(o: object, msg?: string): void }

export interface SnapshotPolicy {
  /** Snapshot after this many blocks, or this many transactions, since the last one. */
  blocks?: number;
  txs?: number;
}

/** After a snapshot that could not be written, wait this long before trying again (ms). */
const SNAPSHOT_RETRY_MS = 5_000;
/** Events of the newest blocks, kept in memory for subscribers that are nearly in step. */
const RECENT_EVENTS = 2048;

export class BlockStore {
  private readonly recent = new Map<number, BlockEvents>();
  private since = { blocks: 0, txs: 0 };
  private snapshotRetryAt = 0;
  private snapshotFailing = false;

  private constructor(
    readonly dir: string,
    private readonly blocks: RecordFile,
    private readonly events: RecordFile,
    private readonly policy: SnapshotPolicy,
    private readonly log?: StoreLog,
  ) {}

  /** Open both logs. Damage in the block log throws (DamagedError, naming the file and offset);
   *  the event log is derived, so damage there cuts it and the caller replays what is missing. */
  static open(dir: string, policy: SnapshotPolicy, log?: StoreLog): BlockStore {
    const b = RecordFile.open(join(dir, "blocks.log"));
    if (b.torn) log?.warn({ bytes: b.torn }, "cut a torn block off the end of the block log (it was never acknowledged)");
    let ev: Opened;
    try { ev = RecordFile.open(join(dir, "events.log"), { derived: true }); } catch (e) { b.file.close(); throw e; }
    if (ev.damaged) log?.warn({ err: ev.damaged.message }, "the event log is damaged; cut it there, its events are made again from the block log");
    // Events of blocks that are not in the block log (a cut tail) are not events of this chain.
    if (ev.file.count > b.file.count) ev.file.truncate(b.file.count);
    return new BlockStore(dir, b.file, ev.file, policy, log);
  }

  /** Blocks in the log (the head is count - 1). */
  get count(): number { return this.blocks.count; }
  get eventCount(): number { return this.events.count; }

  /** Append `bytes` (block `be.height`) durably and its events; both or neither. */
  async commit(bytes: Buffer, be: BlockEvents): Promise<void> {
    const at = this.blocks.count;
    if (be.height !== at || this.events.count !== at) throw new InternalError(`block ${be.height} is not the next one (the logs hold ${at} blocks, ${this.events.count} event records)`);
    await this.blocks.append(bytes, true);
    try {
      this.events.append(Buffer.from(JSON.stringify(be)), false);
    } catch (e) {
      this.blocks.truncate(at);
      throw e;
    }
    this.remember(be);
  }

  /** Replay: the events of a block already in the block log, written to the derived event log. */
  appendEvents(be: BlockEvents): void {
    if (this.events.count !== be.height) return;
    this.events.append(Buffer.from(JSON.stringify(be)), false);
  }

  readBlock(height: number): Block {
    return decodeBlock(this.blocks.read(height));
  }

  readBlockBytes(height: number): Buffer {
    return this.blocks.read(height);
  }

  readEvents(height: number): BlockEvents {
    return this.recent.get(height) ?? (JSON.parse(this.events.read(height).toString("utf8")) as BlockEvents);
  }

  private remember(be: BlockEvents): void {
    this.recent.set(be.height, be);
    if (this.recent.size > RECENT_EVENTS) this.recent.delete(this.recent.keys().next().value as number);
  }

  // ---- snapshots ----

  /** Count a block made or replayed; snapshot `s` when the policy says so. */
  counted(s: State, txs: number, now = Date.now()): void {
    this.since.blocks++;
    this.since.txs += txs;
    if (this.since.blocks < (this.policy.blocks ?? 1000) && this.since.txs < (this.policy.txs ?? 100_000)) return;
    if (now < this.snapshotRetryAt) return;
    try {
      this.writeSnapshot(s);
      this.since = { blocks: 0, txs: 0 };
      if (this.snapshotFailing) this.log?.info({ height: s.height }, "snapshots are written again");
      this.snapshotFailing = false;
    } catch (e) {
      // A snapshot is only a shortcut for the next start: out of descriptors or space, try later.
      const err: GridError = toGridError(e);
      this.snapshotRetryAt = now + SNAPSHOT_RETRY_MS;
      if (!this.snapshotFailing) this.log?.warn({ err: err.message, code: err.code, retryMs: SNAPSHOT_RETRY_MS }, "cannot write a snapshot; the ledger goes on and tries again");
      this.snapshotFailing = true;
    }
  }

  /** The snapshot file: the sha256 of the body on the first line, the body (canonical JSON) after. */
  private writeSnapshot(s: State): void {
    const body = canonicalJson({ height: s.height, hash: s.hash, logBytes: this.blocks.offsets[s.height + 1] ?? this.blocks.bytes, state: stateToJson(s) });
    writeFileAtomicSync(join(this.dir, "snapshot.json"), `${sha256Hex(body)}\n${body}`);
  }

  /** The snapshot's state if it is sound and belongs to this log (its block is here, with the same
   *  hash, and the event log reaches it); otherwise undefined, said in the log. */
  loadSnapshot(): State | undefined {
    const path = join(this.dir, "snapshot.json");
    if (!existsSync(path)) return undefined;
    try {
      const text = readFileSync(path, "utf8");
      const nl = text.indexOf("\n");
      const body = text.slice(nl + 1);
      if (nl !== 64 || sha256Hex(body) !== text.slice(0, 64)) {
        this.log?.warn({ path }, "the snapshot does not hash to its digest (damaged, or written by an older bcdb without one); replaying from genesis");
        return undefined;
      }
      const snap = JSON.parse(body) as { height: number; hash: string; state: StateJson };
      const held = snap.height < this.blocks.count ? this.readBlock(snap.height) : undefined;
      if (!held || held.hash !== snap.hash || snap.state.hash !== snap.hash || snap.state.height !== snap.height || this.events.count <= snap.height) {
        this.log?.warn({ height: snap.height }, "the snapshot does not match the block log; replaying from genesis");
        return undefined;
      }
      return stateFromJson(snap.state);
    } catch (e) {
      this.log?.warn({ err: String(e) }, "unreadable snapshot; replaying from genesis");
      return undefined;
    }
  }

  close(): void {
    this.blocks.close();
    this.events.close();
  }
}

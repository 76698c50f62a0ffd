// Reading the ledger's past: its event stream replayed from the block where something began (found
// by its ledger time, a binary search over block times), up to now or, following, until told to
// stop. The raw material of `kosmos events` and `kosmos billing`.
import { UnavailableError } from "../core/index.js";
import type { Block, ChainEvent, LedgerClient, SubscribeOptions } from "../ledger/client/index.js";

/** The first block at or after ledger time `time` (blocks' times never go back). */
export async function firstHeightAt(client: LedgerClient, time: number): Promise<number> {
  let lo = 0, hi = (await client.status()).height;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await client.block(mid)).time < time) lo = mid + 1; else hi = mid;
  }
  return lo;
}

export interface ReplayOptions {
  /** Keep going after the present: stop on `signal`, or after the block in which `stop` said yes. */
  follow?: boolean;
  signal?: AbortSignal;
  stop?: (e: ChainEvent) => boolean;
  onEvent: (e: ChainEvent) => void | Promise<void>;
}

/** Without following, how long the stream may stay silent before the ledger counts as gone (the
 *  client reconnects on its own; a reader of the past should not wait for ever). */
export const REPLAY_SILENCE_MS = 30_000;

/** Replays the filtered event stream from `sub.from`; resolves at the present (or, following, at the stop). */
export async function replay(client: LedgerClient, sub: SubscribeOptions & { from: number }, o: ReplayOptions): Promise<void> {
  const now = (await client.status()).height;
  if (o.signal?.aborted) return;
  await new Promise<void>((resolve, reject) => {
    let stopping = false;
    let silence: NodeJS.Timeout | undefined;
    const end = () => { clearTimeout(silence); s.close(); o.signal?.removeEventListener("abort", done); };
    const done = () => { end(); resolve(); };
    const watch = () => {
      if (o.follow) return;
      clearTimeout(silence);
      silence = setTimeout(() => { end(); reject(new UnavailableError(`the ledger at ${client.url} sent no event for ${REPLAY_SILENCE_MS / 1000} s`, "is bcdb running? try again")); }, REPLAY_SILENCE_MS);
    };
    watch();
    const s = client.subscribe(sub, async (e) => {
      watch();
      if (e.type === "block") {
        if (stopping || (!o.follow && e.height >= now)) done();
        return;
      }
      // The client skips an event whose handler throws; a timeline with a hole would lie, so fail.
      try { await o.onEvent(e); } catch (err) { end(); reject(err); return; }
      if (o.stop?.(e)) stopping = true;
    });
    o.signal?.addEventListener("abort", done);
  });
}

/** Blocks fetched once each: an event's transaction (a node's results) is read from its block. */
export class BlockCache {
  private readonly blocks = new Map<number, Promise<Block>>();
  constructor(private readonly client: LedgerClient) {}
  async tx(height: number, index: number): Promise<unknown> {
    let b = this.blocks.get(height);
    if (!b) { b = this.client.block(height); this.blocks.set(height, b); }
    return (await b).txs[index];
  }
}

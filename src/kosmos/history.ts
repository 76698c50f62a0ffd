// Reading the ledger's past: its event stream replayed from the block where something began (found
// by its ledger time, a binary search over block times), up to now or, following, until told to
// stop. The raw material of `kosmos events` and `kosmos billing`.
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

/** Replays the filtered event stream from `sub.from`; resolves at the present (or, following, at the stop). */
export async function replay(client: LedgerClient, sub: SubscribeOptions & { from: number }, o: ReplayOptions): Promise<void> {
  const now = (await client.status()).height;
  if (o.signal?.aborted) return;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const done = () => { s.close(); o.signal?.removeEventListener("abort", done); resolve(); };
    const s = client.subscribe(sub, async (e) => {
      if (e.type === "block") {
        if (stopping || (!o.follow && e.height >= now)) done();
        return;
      }
      await o.onEvent(e);
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

// Making and re-making blocks, pure: a batch of verified transactions applied to a state at a block
// time gives the block, its bytes and its events (and which transactions were refused, and why);
// a logged block folded into a state gives the same events again. No clock, no disk.
import { GridError, InternalError, ValidationError, payloadSchemas, txHash, type Tx } from "../core/index.js";
import { apply, applyBilling } from "./apply.js";
import { computeBlockHash, encodeBlock, type EncodedBlock } from "./block.js";
import type { State } from "./state.js";
import type { Block, ChainEvent, EventBody } from "./types.js";

/** A transaction ready for a block: verified, with its canonical JSON. */
export interface Candidate { tx: Tx; raw: unknown; canon: string; hash?: string }

export interface Built extends EncodedBlock {
  events: ChainEvent[];
  /** By position in the batch: where each included transaction sits and which events are its own. */
  included: { at: number; index: number; hash: string; first: number; count: number }[];
  refused: { at: number; error: unknown }[];
}

/**
 * Apply `batch` to `s` (mutated: the caller passes a copy when the block may not count) at `time`,
 * billing first. Returns undefined when nothing is left to log: no transaction applied and neither
 * `beat` nor billing asks for a block (then `s` is unchanged apart from nothing: refused
 * transactions change nothing). A batch entry may be a function of the state (the faucet signs its
 * mint with the nonce the state gives).
 */
export function buildBlock(s: State, batch: (Candidate | ((s: State) => Candidate))[], time: number, beat: boolean): { built?: Built; refused: Built["refused"] } {
  const billingDue = time >= s.billingDue;
  const bodies: { e: EventBody; tx?: number }[] = applyBilling(s, time).map((e) => ({ e }));
  const txs: unknown[] = [], canons: string[] = [];
  const included: Built["included"] = [];
  const refused: Built["refused"] = [];
  batch.forEach((entry, at) => {
    try {
      const c = typeof entry === "function" ? entry(s) : entry;
      const evs = apply(s, c.tx, time);
      const index = txs.length;
      included.push({ at, index, hash: c.hash ?? txHash(c.raw as object), first: bodies.length, count: evs.length });
      for (const e of evs) bodies.push({ e, tx: index });
      txs.push(c.raw);
      canons.push(c.canon);
    } catch (e) {
      refused.push({ at, error: e });
    }
  });
  if (!beat && !billingDue && txs.length === 0) return { refused };
  const enc = encodeBlock({ height: s.height + 1, prevHash: s.hash, time }, txs, canons);
  const events = bodies.map(({ e, tx }, index) => ({ ...e, height: enc.block.height, index, time, ...(tx !== undefined ? { tx } : {}) }) as ChainEvent);
  s.height = enc.block.height; s.hash = enc.block.hash; s.time = time;
  return { built: { ...enc, events, included, refused }, refused };
}

/** Fold one logged block into the state, as when it was made. Throws if it does not apply. */
export function replayBlock(s: State, block: Block, opts: { checkHash?: boolean } = {}): ChainEvent[] {
  if (opts.checkHash && computeBlockHash(block) !== block.hash) throw new ValidationError(`block ${block.height}: hash does not match its content`);
  const time = block.time;
  const out: ChainEvent[] = [];
  const push = (e: EventBody, tx?: number) => out.push({ ...e, height: block.height, index: out.length, time, ...(tx !== undefined ? { tx } : {}) } as ChainEvent);
  for (const e of applyBilling(s, time)) push(e);
  block.txs.forEach((raw, i) => {
    const r = raw as Tx;
    const p = payloadSchemas[r.type]?.safeParse(r.payload);
    if (!p?.success) throw new ValidationError(`block ${block.height} tx ${i}: invalid payload`);
    let evs: EventBody[];
    try { evs = apply(s, { ...r, payload: p.data } as Tx, time); } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw e instanceof GridError
        ? new ValidationError(`block ${block.height} tx ${i} does not apply: ${why}`, undefined, { cause: e })
        : new InternalError(`block ${block.height} tx ${i} does not apply: ${why}`, undefined, { cause: e });
    }
    for (const e of evs) push(e, i);
  });
  s.height = block.height; s.hash = block.hash; s.time = time;
  return out;
}

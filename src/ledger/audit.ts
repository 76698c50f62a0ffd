// `bcdb verify DIR`: audit a block log offline. Re-checks every record's checksum (and that only a
// torn last record is cut), every block's hash and link to its parent, every transaction's
// signature, and that each block applies to the state folded from the ones before it. Reports the
// first height where the log goes wrong, and whether that is damage (exit code `damaged`).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { GridError, parseTx, type ErrorCode } from "../core/index.js";
import { RecordFile, type Opened } from "./records.js";
import { decodeBlock, computeBlockHash, ZERO_HASH } from "./block.js";
import { replayBlock } from "./block-builder.js";
import { emptyState, type State } from "./state.js";
import type { Block } from "./types.js";

export interface AuditResult {
  ok: boolean; blocks: number; txs: number; height: number; tornBytes: number;
  /** The first fault: its height, what is wrong, and its error code (`damaged` for corrupt or
   *  tampered data, `not_found` for a missing log). */
  error?: { height: number; message: string; code: ErrorCode };
}

export function auditLog(dir: string, progress?: (height: number, total: number) => void): AuditResult {
  const path = join(dir, "blocks.log");
  if (!existsSync(path)) return { ok: false, blocks: 0, txs: 0, height: -1, tornBytes: 0, error: { height: 0, message: `${path} does not exist`, code: "not_found" } };
  let opened: Opened;
  try { opened = RecordFile.open(path, { readOnly: true }); } catch (e) {
    // Damage found while reading the records: the message names the record and its byte offset.
    const record = (e as { record?: number }).record ?? 0;
    return { ok: false, blocks: record, txs: 0, height: record - 1, tornBytes: 0, error: { height: record, message: e instanceof Error ? e.message : String(e), code: e instanceof GridError ? e.code : "damaged" } };
  }
  const { file, torn } = opened;
  let state: State | undefined;
  let prevHash = ZERO_HASH, txs = 0;
  const fail = (height: number, message: string): AuditResult => ({ ok: false, blocks: height, txs, height: height - 1, tornBytes: torn, error: { height, message, code: "damaged" } });
  try {
    for (let h = 0; h < file.count; h++) {
      if (progress && h % 1000 === 0) progress(h, file.count);
      let block: Block;
      try { block = decodeBlock(file.read(h)); } catch (e) { return fail(h, `block ${h}: ${e instanceof Error ? e.message : String(e)}`); }
      if (block.height !== h) return fail(h, `block ${h}: says it is height ${block.height}`);
      if (block.prevHash !== prevHash) return fail(h, `block ${h}: prevHash does not match the hash of block ${h - 1}`);
      if (computeBlockHash(block) !== block.hash) return fail(h, `block ${h}: hash does not match its content (tampered)`);
      if (h === 0) {
        if (!block.genesis) return fail(0, "block 0 has no genesis parameters");
        state = emptyState(block.genesis, block.time);
      } else if (!state) return fail(h, "no genesis");
      for (let i = 0; i < block.txs.length; i++) {
        try { parseTx(block.txs[i]); } catch (e) { return fail(h, `block ${h} tx ${i}: ${e instanceof Error ? e.message : String(e)}`); }
      }
      if (h > 0) {
        try { replayBlock(state!, block); } catch (e) { return fail(h, e instanceof Error ? e.message : String(e)); }
      } else { state!.height = 0; state!.hash = block.hash; }
      txs += block.txs.length;
      prevHash = block.hash;
    }
  } finally { file.close(); }
  return { ok: true, blocks: file.count, txs, height: file.count - 1, tornBytes: torn };
}

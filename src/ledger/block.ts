// Blocks: `{height, prevHash, time, txs, hash}` with hash = sha256 of the canonical JSON of the
// block without `hash`. The log stores each block as its canonical JSON (hash included), built from
// each transaction's canonical form computed once on admission, so a block costs O(its txs).
import { canonicalJson, sha256Hex } from "../core/index.js";
import type { Block, Genesis } from "./types.js";

export const ZERO_HASH = "0".repeat(64);

export interface EncodedBlock { block: Block; bytes: Buffer }

/** Build a block from its header and its transactions' canonical JSON strings. */
export function encodeBlock(h: { height: number; prevHash: string; time: number; genesis?: Genesis }, txs: unknown[], txCanon: string[]): EncodedBlock {
  const genesis = h.genesis ? `"genesis":${canonicalJson(h.genesis)},` : "";
  const rest = `"height":${h.height},"prevHash":${JSON.stringify(h.prevHash)},"time":${h.time},"txs":[${txCanon.join(",")}]}`;
  const hash = sha256Hex(`{${genesis}${rest}`);
  const block: Block = { ...(h.genesis ? { genesis: h.genesis } : {}), height: h.height, prevHash: h.prevHash, time: h.time, txs, hash };
  return { block, bytes: Buffer.from(`{${genesis}"hash":"${hash}",${rest}`) };
}

export function decodeBlock(bytes: Buffer): Block {
  return JSON.parse(bytes.toString("utf8")) as Block;
}

/** The hash a block should carry, recomputed from its content. */
export function computeBlockHash(b: Block): string {
  const { hash: _h, ...rest } = b;
  return sha256Hex(canonicalJson(rest));
}

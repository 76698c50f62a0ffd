// A signature-checking thread (one of signature-pool.ts): parses and checks (shape, size, ed25519 signature) transactions off the
// main thread, which then only orders and applies them.
import { parentPort } from "node:worker_threads";
import { GridError, canonicalJson } from "../core/index.js";
import { parseSubmitted } from "./admission.js";
import { parseJsonBody } from "./json-body.js";

export interface VerifyRequest { id: number; body: string }
export type VerifyReply =
  | { id: number; ok: true; canon: string; payload: unknown }
  | { id: number; ok: false; error: { code: string; message: string; hint?: string } };

parentPort!.on("message", (batch: VerifyRequest[]) => {
  const out: VerifyReply[] = [];
  for (const { id, body } of batch) {
    let raw: unknown;
    try { raw = parseJsonBody(body); } catch (e) {
      out.push({ id, ok: false, error: (e as GridError).toJSON() });
      continue;
    }
    try {
      const tx = parseSubmitted(raw);
      out.push({ id, ok: true, canon: canonicalJson(raw), payload: tx.payload });
    } catch (e) {
      const g = e instanceof GridError ? e.toJSON() : { code: "internal", message: String(e) };
      out.push({ id, ok: false, error: g });
    }
  }
  parentPort!.postMessage(out);
});

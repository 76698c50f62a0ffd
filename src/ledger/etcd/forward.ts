// Followers send the transactions their clients submit to the replica that proposes blocks (the
// leader), over its ordinary `POST /tx`, marked as forwarded so the leader never sends them on.
// The leader answers once the block is in etcd and on its disk; the follower then answers its
// client from its own copy of that block (chain.ts).
import { Agent, request } from "node:http";
import { GridError, UnavailableError, errorFromCode } from "../../core/index.js";
import type { Receipt } from "../types.js";

export const FORWARDED_HEADER = "x-bcdb-forwarded";

/** `unreachable`: the leader did not take the transaction (connection refused or broken, or it is
 *  shutting down); the caller may propose it itself. A refusal is the leader's final word. */
export type ForwardResult = { receipt: Receipt } | { error: GridError } | { unreachable: string };

export class Forwarder {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 512 });

  constructor(private readonly timeoutMs = 10_000) {}

  send(leaderUrl: string, canon: string): Promise<ForwardResult> {
    const url = new URL(leaderUrl);
    return new Promise((resolve) => {
      let done = false;
      const finish = (r: ForwardResult) => { if (!done) { done = true; resolve(r); } };
      const req = request({
        host: url.hostname, port: url.port, path: "/tx", method: "POST", agent: this.agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(canon), [FORWARDED_HEADER]: "1" },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => finish({ unreachable: e.message }));
        res.on("end", () => {
          let body: { error?: { code?: string; message?: string; hint?: string } } & Partial<Receipt>;
          try { body = JSON.parse(Buffer.concat(chunks).toString("utf8")); } catch {
            return finish({ unreachable: `the leader at ${leaderUrl} answered ${res.statusCode} with something that is not JSON` });
          }
          if (res.statusCode === 200) return finish({ receipt: body as Receipt });
          const err = body.error ?? {};
          // A leader on its way out did not order the transaction: someone else may.
          if (err.code === "unavailable" && /shutting down|stopped/.test(err.message ?? "")) return finish({ unreachable: err.message! });
          finish({ error: errorFromCode(err.code, err.message ?? `the leader answered ${res.statusCode}`, err.hint) });
        });
      });
      req.setTimeout(this.timeoutMs, () => { req.destroy(new UnavailableError(`the leader at ${leaderUrl} did not answer in ${this.timeoutMs} ms`)); });
      req.on("error", (e) => finish({ unreachable: (e as { code?: string }).code ?? e.message }));
      req.end(canon);
    });
  }

  close(): void { this.agent.destroy(); }
}

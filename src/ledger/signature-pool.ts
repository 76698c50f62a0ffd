// A pool of signature-checking threads (signature-worker.ts). Requests are batched per event-loop turn so
// one message carries many transactions; round-robin over the threads.
import { Worker } from "node:worker_threads";
import { UnavailableError, type Tx, errorFromCode } from "../core/index.js";
import type { VerifyReply, VerifyRequest } from "./signature-worker.js";

export interface Verified { tx: Tx; raw: unknown; canon: string }

export class SignaturePool {
  private workers: Worker[] = [];
  private next = 0;
  private seq = 0;
  private waiting = new Map<number, { resolve: (v: Verified) => void; reject: (e: unknown) => void }>();
  private queued: VerifyRequest[] = [];
  private flushScheduled = false;

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(new URL("./signature-worker.js", import.meta.url));
      w.on("message", (replies: VerifyReply[]) => this.onReplies(replies));
      w.on("error", (e) => { for (const [, p] of this.waiting) p.reject(new UnavailableError(`verification thread failed: ${e.message}`)); this.waiting.clear(); });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Parse and verify a request body (a JSON transaction) on a verification thread. */
  verify(body: string): Promise<Verified> {
    const id = this.seq++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.queued.push({ id, body });
      if (!this.flushScheduled) { this.flushScheduled = true; setImmediate(() => this.flush()); }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queued;
    this.queued = [];
    if (!batch.length) return;
    // Split the turn's batch over the threads.
    const per = Math.ceil(batch.length / this.workers.length);
    for (let i = 0; i < batch.length; i += per) {
      this.workers[this.next].postMessage(batch.slice(i, i + per));
      this.next = (this.next + 1) % this.workers.length;
    }
  }

  private onReplies(replies: VerifyReply[]): void {
    for (const r of replies) {
      const p = this.waiting.get(r.id);
      if (!p) continue;
      this.waiting.delete(r.id);
      if (r.ok) {
        const raw = JSON.parse(r.canon) as Tx;
        p.resolve({ tx: { ...raw, payload: r.payload } as Tx, raw, canon: r.canon });
      } else {
        p.reject(errorFromCode(r.error.code, r.error.message, r.error.hint));
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

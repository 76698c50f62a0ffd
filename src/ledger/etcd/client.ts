// A small etcd v3 client over its JSON gateway (HTTP): range, a create-if-absent txn, and a watch
// stream. The encoding is in protocol.ts; this file only does the requests.
import { UnavailableError } from "../../core/index.js";
import {
  createIfAbsentRequest, decodeRange, decodeTxn, decodeWatchLine, rangeRequest, watchRequest,
  type RangeResult, type TxnResult, type WatchMessage,
} from "./protocol.js";

export class EtcdClient {
  readonly url: string;
  constructor(url: string, private readonly timeoutMs = 5000) {
    this.url = url.replace(/\/+$/, "");
  }

  private async call(path: string, body: object): Promise<Record<string, unknown>> {
    const unreachable = (e: unknown) => {
      const c = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
      const cause = c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (e as Error).message;
      return new UnavailableError(`etcd at ${this.url} is unreachable (${cause})`, "start etcd, or check --etcd");
    };
    let res: Response, text: string;
    try {
      res = await fetch(`${this.url}${path}`, {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      // The body can break too (etcd killed mid-answer, or the timeout firing while it streams):
      // that is the same outage, not a fault in the ledger, and callers retry UnavailableError.
      text = await res.text();
    } catch (e) {
      throw unreachable(e);
    }
    let json: Record<string, unknown>;
    try { json = JSON.parse(text) as Record<string, unknown>; } catch {
      throw new UnavailableError(`etcd at ${this.url}${path} answered ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok || json.error) {
      const msg = String(json.message ?? json.error ?? text).slice(0, 300);
      throw new UnavailableError(`etcd at ${this.url}${path} refused the request (${res.status}): ${msg}`);
    }
    return json;
  }

  range(key: string | Buffer, o: { end?: string | Buffer; limit?: number; descending?: boolean } = {}): Promise<RangeResult> {
    return this.call("/v3/kv/range", rangeRequest(key, o)).then(decodeRange);
  }

  /** Put every key/value only if the first key was never created (one txn). */
  createIfAbsent(puts: { key: string; value: Buffer }[]): Promise<TxnResult> {
    return this.call("/v3/kv/txn", createIfAbsentRequest(puts)).then(decodeTxn);
  }

  /** Stream the changes of [key, end) from `startRevision` until `signal` aborts or the stream
   *  breaks (then it rejects). Messages are handed over one at a time, awaiting each. */
  async watch(key: string | Buffer, end: string | Buffer, startRevision: number, onMessage: (m: WatchMessage) => Promise<void>, signal: AbortSignal): Promise<void> {
    let res: Response;
    try {
      res = await fetch(`${this.url}/v3/watch`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(watchRequest(key, end, startRevision)), signal });
    } catch (e) {
      if (signal.aborted) return;
      throw new UnavailableError(`etcd watch at ${this.url} failed: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
    }
    if (!res.ok || !res.body) throw new UnavailableError(`etcd watch at ${this.url} answered ${res.status}`);
    const decoder = new TextDecoder();
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let buf = "";
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try { chunk = await reader.read(); } catch (e) {
        if (signal.aborted) return;
        throw new UnavailableError(`etcd watch at ${this.url} broke: ${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
      }
      if (chunk.done) break;
      buf += decoder.decode(chunk.value, { stream: true });
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        // Errors from onMessage (a block that does not verify) are the caller's, as they are.
        if (!line) continue;
        let m: WatchMessage;
        try { m = decodeWatchLine(line); } catch (e) { throw new UnavailableError(`etcd watch at ${this.url}: ${(e as Error).message}`); }
        await onMessage(m);
      }
    }
    if (signal.aborted) return;
    if (!signal.aborted) throw new UnavailableError(`etcd at ${this.url} closed the watch stream`);
  }
}

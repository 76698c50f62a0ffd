// The typed ledger client: queries, submit-and-wait, a Signer with automatic nonces, and a
// resumable event subscription. Everything else in the grid talks to the ledger through this.
import WebSocket from "ws";
import {
  GridError, ConflictError, NonceError, UnavailableError, signTx, type ErrorCode, type KeyPair, type Payload, type Tx, type TxType, errorFromCode } from "../../core/index.js";
import type {
  Account, Block, Contract, ContractFilter, FarmInfo, LedgerEvent, LedgerStatus, NameInfo, NodeFilter, NodeInfo, Receipt, TwinInfo,
} from "../types.js";

export type {
  Account, Block, BlockMarker, ChainEvent, Contract, ContractFilter, ContractState, EventType, FarmInfo, Genesis, LedgerEvent, LedgerStatus,
  NameInfo, NodeFilter, NodeInfo, PublicConfig, Receipt, TwinInfo,
} from "../types.js";


export interface SubscribeOptions { from?: number; nodeId?: number; twinId?: number; contractId?: number }
export interface Subscription { close(): void; position(): { height: number; index: number } }

export class LedgerClient {
  readonly url: string;
  constructor(url: string) { this.url = url.replace(/\/+$/, ""); }

  status(): Promise<LedgerStatus> { return this.get("/status"); }
  account(publicKey: string): Promise<Account> { return this.get(`/accounts/${publicKey}`); }
  twin(id: number): Promise<TwinInfo> { return this.get(`/twins/${id}`); }
  farm(id: number): Promise<FarmInfo> { return this.get(`/farms/${id}`); }
  farms(): Promise<FarmInfo[]> { return this.get("/farms"); }
  node(id: number): Promise<NodeInfo> { return this.get(`/nodes/${id}`); }
  nodes(filter: NodeFilter = {}): Promise<NodeInfo[]> { return this.get(`/nodes${query(filter)}`); }
  contract(id: number): Promise<Contract> { return this.get(`/contracts/${id}`); }
  contracts(filter: ContractFilter = {}): Promise<Contract[]> { return this.get(`/contracts${query(filter)}`); }
  name(n: string): Promise<NameInfo> { return this.get(`/names/${encodeURIComponent(n)}`); }
  block(height: number): Promise<Block> { return this.get(`/blocks/${height}`); }
  /** One page of blocks from `from` (the ledger cuts a page by bytes too, so it may hold fewer). */
  blocks(from: number, limit = 100): Promise<Block[]> { return this.get(`/blocks?from=${from}&limit=${limit}`); }
  /** One page and where the next one starts (`next` absent: the range asked for is complete). */
  async blocksPage(from: number, limit = 100): Promise<{ blocks: Block[]; next?: number }> {
    let next: number | undefined;
    const blocks = await this.request<Block[]>("GET", `/blocks?from=${from}&limit=${limit}`, undefined, (h) => {
      const v = h.get("x-next-from");
      if (v !== null) next = Number(v);
    });
    return next === undefined ? { blocks } : { blocks, next };
  }

  /** Submit a signed transaction; resolves with its receipt once a block includes it. */
  submit(tx: Tx): Promise<Receipt> { return this.request("POST", "/tx", tx); }
  faucet(twinId: number, amount: number): Promise<Receipt> { return this.request("POST", "/faucet", { twinId, amount }); }
  signer(keys: KeyPair): Signer { return new Signer(this, keys); }

  /** Follow the event stream from `from` (default: from now on). Reconnects with back-off and
   *  resumes where it left off, so each event reaches `onEvent` exactly once, in order; the next
   *  event waits until a returned promise settles. */
  subscribe(opts: SubscribeOptions, onEvent: (e: LedgerEvent) => void | Promise<void>): Subscription {
    let last = { height: opts.from === undefined ? -1 : opts.from - 1, index: Number.MAX_SAFE_INTEGER };
    let started = opts.from !== undefined;
    let closed = false, ws: WebSocket | undefined, delay = 100, timer: NodeJS.Timeout | undefined;
    let chain: Promise<void> = Promise.resolve();
    const after = (h: number, i: number) => h > last.height || (h === last.height && i > last.index);
    const connect = async () => {
      if (closed) return;
      if (!started) {
        // "From now on" is pinned to a height on the first connection, so a reconnect misses nothing.
        try { last = { height: (await this.status()).height, index: Number.MAX_SAFE_INTEGER }; started = true; } catch {
          timer = setTimeout(() => void connect(), delay);
          delay = Math.min(delay * 2, 5000);
          return;
        }
        if (closed) return;
      }
      const q = new URLSearchParams();
      q.set("from", String(Math.max(0, last.index === Number.MAX_SAFE_INTEGER ? last.height + 1 : last.height)));
      for (const k of ["nodeId", "twinId", "contractId"] as const) if (opts[k] !== undefined) q.set(k, String(opts[k]));
      const sock = new WebSocket(`${this.url.replace(/^http/, "ws")}/events?${q}`);
      ws = sock;
      sock.on("open", () => { delay = 100; });
      sock.on("message", (data) => {
        const e = JSON.parse(data.toString()) as LedgerEvent;
        const index = e.type === "block" ? Number.MAX_SAFE_INTEGER : e.index;
        // Events are handed over strictly one after the other, skipping positions already seen.
        chain = chain.then(async () => {
          if (closed || !after(e.height, index)) return;
          try { await onEvent(e); } catch { /* a failing handler must not break the stream */ }
          last = { height: e.height, index };
        });
      });
      const retry = () => {
        if (closed || ws !== sock) return;
        ws = undefined;
        timer = setTimeout(() => { void chain.then(connect); }, delay);
        delay = Math.min(delay * 2, 5000);
      };
      sock.on("close", retry);
      sock.on("error", () => { sock.terminate(); });
    };
    void connect();
    return {
      close() { closed = true; if (timer) clearTimeout(timer); ws?.close(); ws = undefined; },
      position() { return { ...last }; },
    };
  }

  private get<T>(path: string): Promise<T> { return this.request("GET", path); }

  private async request<T>(method: string, path: string, body?: unknown, headers?: (h: Headers) => void): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url + path, body === undefined ? { method } : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    } catch (e) {
      throw new UnavailableError(`ledger at ${this.url} is unreachable: ${(e as Error).cause ?? (e as Error).message}`, "is bcdb running?");
    }
    const text = await res.text();
    let json: unknown;
    try { json = JSON.parse(text); } catch { throw new UnavailableError(`ledger answered ${res.status} with non-JSON: ${text.slice(0, 200)}`); }
    if (!res.ok) {
      const err = (json as { error?: { code?: ErrorCode; message?: string; hint?: string } }).error;
      throw errorFromCode(err?.code, err?.message ?? `ledger answered ${res.status}`, err?.hint);
    }
    headers?.(res.headers);
    return json as T;
  }
}

/** Signs and sends transactions for one key, with its nonces managed: one transaction at a time. */
export class Signer {
  readonly publicKey: string;
  private nonce: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  constructor(readonly client: LedgerClient, private readonly keys: KeyPair) { this.publicKey = keys.publicKey; }

  send<T extends TxType>(type: T, payload: Payload<T>): Promise<Receipt> {
    const run = this.queue.then(() => this.sendNow(type, payload));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The key's twin id, creating the twin (twin.create) if the key has none yet. */
  async ensureTwin(): Promise<number> {
    const acc = await this.client.account(this.publicKey);
    if (acc.twinId !== null) return acc.twinId;
    try {
      const r = await this.send("twin.create", {});
      const ev = r.events?.find((e) => e.type === "twin.created");
      if (ev && ev.type === "twin.created") return ev.twinId;
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
    const again = await this.client.account(this.publicKey);
    if (again.twinId === null) throw new UnavailableError("twin.create was included but the account has no twin");
    return again.twinId;
  }

  private async sendNow<T extends TxType>(type: T, payload: Payload<T>): Promise<Receipt> {
    for (let attempt = 0; ; attempt++) {
      if (this.nonce === undefined) this.nonce = (await this.client.account(this.publicKey)).nonce;
      const tx = signTx({ type, signer: this.publicKey, nonce: this.nonce + 1, payload }, this.keys.privateKey);
      try {
        const r = await this.client.submit(tx);
        this.nonce = tx.nonce;
        return r;
      } catch (e) {
        // Another process may use the same key: refetch the nonce and try again.
        if (e instanceof NonceError && attempt < 3) { this.nonce = undefined; continue; }
        // Unknown outcome (connection lost): do not trust the cached nonce.
        if (!(e instanceof GridError) || e instanceof UnavailableError) this.nonce = undefined;
        throw e;
      }
    }
  }
}

function query(f: object): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

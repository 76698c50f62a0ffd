// The explorer's listener: the static page and its bundle, /api (routes.ts) and /api/live, a
// server-sent event stream fed by the mirror. A browser that reconnects sends Last-Event-ID (the
// last height it saw) and is told everything that changed since, so nothing is missed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { GridError, NotFoundError, ValidationError, httpStatusOf, toGridError, UnavailableError } from "../core/index.js";
import { guardServer, HTTP_CHECK_INTERVAL_MS, connectionBudget, type ListenerLimits, type ListenerLog } from "../runtime/index.js";
import type { LiveUpdate } from "./api.js";
import { asset, type Asset } from "./bundle.js";
import type { Mirror } from "./mirror.js";
import { INDEX_HTML, STYLE_CSS } from "./page.js";
import { apiRoutes } from "./routes.js";

/** Open live streams at most; each is one descriptor held for as long as a page is open. */
export const MAX_LIVE = 2000;
/** A live stream whose unsent data passes this is dropped: the browser reconnects and resumes. */
const LIVE_BACKLOG_BYTES = 1 << 20;
const HEARTBEAT_MS = 15_000;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface ExplorerServer { server: Server; live(): number; refused(): number; close(): Promise<void> }

/** The listener's limits: every live page holds one connection, heart-beaten well within idleMs. */
export function defaultLimits(): ListenerLimits {
  return { maxConnections: Math.min(MAX_LIVE + 200, connectionBudget(256)), idleMs: 2 * HEARTBEAT_MS + 5000, headersMs: 10_000, requestMs: 30_000 };
}

export function createExplorerServer(mirror: Mirror, app: Asset, log: ListenerLog, limits: ListenerLimits = defaultLimits()): ExplorerServer {
  const files: Record<string, Asset> = {
    "/": asset(INDEX_HTML, "text/html; charset=utf-8"),
    "/index.html": asset(INDEX_HTML, "text/html; charset=utf-8"),
    "/style.css": asset(STYLE_CSS, "text/css; charset=utf-8"),
    "/app.js": app,
  };
  const routes = apiRoutes(mirror);
  const live = new Set<ServerResponse>();

  const server = createServer({ connectionsCheckingInterval: HTTP_CHECK_INTERVAL_MS }, (req, res) => {
    handle(req, res).catch((e) => sendError(res, e));
  });
  const guard = guardServer(server, limits, log);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.setHeader("allow", "GET, HEAD");
      send(res, 405, { error: new ValidationError(`method ${req.method} is not allowed: the explorer is read-only`).toJSON() });
      return;
    }
    const url = new URL(req.url ?? "/", "http://x");
    const file = files[url.pathname];
    if (file) {
      res.setHeader("content-security-policy", CSP);
      res.setHeader("x-content-type-options", "nosniff");
      if (req.headers["if-none-match"] === file.etag) { res.writeHead(304, { etag: file.etag }); res.end(); return; }
      res.writeHead(200, { "content-type": file.type, "content-length": file.body.length, etag: file.etag, "cache-control": "no-cache" });
      res.end(req.method === "HEAD" ? undefined : file.body);
      return;
    }
    let parts: string[];
    try { parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent); } catch (e) {
      throw new ValidationError(`the path ${url.pathname.slice(0, 200)} is not valid percent-encoding`, undefined, { cause: e });
    }
    if (parts[0] !== "api") throw new NotFoundError(`no page ${url.pathname}`, "pages live under #/ in the URL");
    if (!mirror.ready) throw new UnavailableError("the explorer is still loading the ledger's state", "retry in a moment");
    if (parts[1] === "live" && parts.length === 2) return openLive(req, res, url.searchParams);
    const route = routes[parts[1] ?? ""];
    if (!route) throw new NotFoundError(`no API ${url.pathname}`);
    send(res, 200, await route(parts.slice(1), url.searchParams));
  }

  function openLive(req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void {
    if (live.size >= MAX_LIVE) throw new UnavailableError(`${MAX_LIVE} live streams are open`, "the browser will retry");
    const last = req.headers["last-event-id"] ?? q.get("from");
    const since = last !== undefined && last !== null && /^\d+$/.test(String(last)) ? Number(last) : -2;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", "x-accel-buffering": "no" });
    res.write("retry: 1000\n\n");
    live.add(res);
    push(res, mirror.updateSince(since));
    const beat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
    res.on("close", () => { clearInterval(beat); live.delete(res); });
  }

  function push(res: ServerResponse, u: LiveUpdate): void {
    if (res.writableLength > LIVE_BACKLOG_BYTES) { res.destroy(); return; }
    res.write(`id: ${u.height}\nevent: update\ndata: ${JSON.stringify(u)}\n\n`);
  }

  // One message per block, the same for every browser that was current: serialised once.
  const unsubscribe = mirror.onUpdate((u) => {
    if (live.size === 0) return;
    const msg = `id: ${u.height}\nevent: update\ndata: ${JSON.stringify(u)}\n\n`;
    for (const res of live) {
      if (res.writableLength > LIVE_BACKLOG_BYTES) { res.destroy(); continue; }
      res.write(msg);
    }
  });

  return {
    server,
    live: () => live.size,
    refused: () => guard.refused(),
    async close() {
      unsubscribe();
      for (const res of live) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(s), "cache-control": "no-store" });
  res.end(s);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) { res.destroy(); return; }
  const g = e instanceof GridError ? e : toGridError(e);
  send(res, httpStatusOf(g), { error: g.toJSON() });
}

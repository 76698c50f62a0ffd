// What one client may cost a listener: how many connections, how long idle, how long to send its
// headers. Every daemon's sockets go through guardServer, so a flood of connections is refused at
// the door while the clients already in (and the daemon's own files) keep their descriptors.
import type { Server as NetServer, Socket } from "node:net";
import type { Server as HttpServer } from "node:http";

export interface ListenerLimits {
  /** Concurrent connections; the next one is closed at once (Node's `maxConnections`). */
  maxConnections: number;
  /** A connection with no traffic for this long is closed (ms). 0 = never. */
  idleMs: number;
  /** HTTP only: the whole header block must arrive within this (ms); slowloris is cut. Node checks
   *  it every `connectionsCheckingInterval` (a createServer option: pass HTTP_CHECK_INTERVAL_MS). */
  headersMs?: number;
  /** HTTP only: the whole request (headers and body) within this (ms). */
  requestMs?: number;
}

/** For createServer({ connectionsCheckingInterval }): the default (30 s) lets a slow client stay half a minute past its deadline. */
export const HTTP_CHECK_INTERVAL_MS = 1000;

export interface ListenerLog { warn(o: object, m?: string): void }

/** Errno codes an accept() can fail with when the process or machine runs out of a resource. */
const ACCEPT_EXHAUSTED = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

export interface GuardedListener {
  /** Connections refused at the limit or by an exhausted accept since start. */
  readonly refused: () => number;
}

/**
 * Applies `limits` to a net or http server. An accept that fails for lack of descriptors is logged
 * (once a second at most) and waited out: libuv keeps listening, the server does not crash.
 */
export function guardServer(server: NetServer | HttpServer, limits: ListenerLimits, log?: ListenerLog): GuardedListener {
  let refused = 0;
  let lastLog = 0;
  server.maxConnections = Math.max(1, limits.maxConnections);
  server.on("drop", () => { refused++; });
  server.on("error", (err: NodeJS.ErrnoException) => {
    // Only accept-time exhaustion is waited out; a listen error (EADDRINUSE…) still reaches the
    // caller's own 'error' listener, which every daemon registers before listen().
    if (!err.code || !ACCEPT_EXHAUSTED.has(err.code)) return;
    refused++;
    const now = Date.now();
    if (log && now - lastLog > 1000) { lastLog = now; log.warn({ err: err.code, refused }, "out of descriptors: refusing new connections until some close"); }
  });
  if (limits.idleMs > 0) {
    server.on("connection", (socket: Socket) => {
      socket.setTimeout(limits.idleMs, () => socket.destroy());
    });
  }
  if ("headersTimeout" in server) {
    const http = server as HttpServer;
    if (limits.headersMs !== undefined) http.headersTimeout = limits.headersMs;
    if (limits.requestMs !== undefined) http.requestTimeout = limits.requestMs;
    http.keepAliveTimeout = Math.min(http.keepAliveTimeout, limits.idleMs || http.keepAliveTimeout);
  }
  return { refused: () => refused };
}

// What the ledger's clients may cost it in connections. On top of the shared guard (a hard cap
// below the descriptor budget, header/request/idle timeouts, an exhausted accept waited out), the
// ledger makes room for a newcomer before the cap is reached: past the soft limit it closes the
// oldest connection that has no request in flight (an idle keep-alive, or one that never sent a
// byte). So a flood of idle connections costs its oldest members their sockets, not a bystander
// who connects and asks. Event-stream subscribers are in use, never evicted; they have a cap of
// their own (server.ts).
import type { Server } from "node:http";
import type { Socket } from "node:net";
import { guardServer, type ListenerLog } from "../runtime/index.js";

export interface ConnectionLimits {
  /** Hard cap (Node's maxConnections): beyond it a connection is closed on accept. */
  maxConnections: number;
  /** No traffic for this long closes a connection (ms). */
  idleMs: number;
  /** The whole header block within this (ms): slowloris is cut. */
  headersMs: number;
  /** The whole request within this (ms). */
  requestMs: number;
}

export interface ConnectionStats { open(): number; evicted(): number; refused(): number }

export function limitConnections(server: Server, l: ConnectionLimits, log: ListenerLog): ConnectionStats {
  const guard = guardServer(server, { maxConnections: l.maxConnections, idleMs: l.idleMs, headersMs: l.headersMs, requestMs: l.requestMs }, log);
  // Room kept free under the hard cap for newcomers: a tenth of it, at least one.
  const soft = Math.max(1, l.maxConnections - Math.max(1, Math.floor(l.maxConnections / 10)));
  const open = new Set<Socket>(); // insertion order: oldest first
  const busy = new Set<Socket>();
  let evicted = 0;
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => { open.delete(socket); busy.delete(socket); });
    if (open.size <= soft) return;
    for (const old of open) {
      if (old === socket || busy.has(old)) continue;
      old.destroy();
      evicted++;
      break;
    }
  });
  server.on("request", (req, res) => {
    busy.add(req.socket);
    res.once("close", () => busy.delete(req.socket));
  });
  // An upgraded socket (an event-stream subscriber) stays in use until it closes.
  server.on("upgrade", (req) => { busy.add(req.socket); });
  return { open: () => open.size, evicted: () => evicted, refused: guard.refused };
}

// wireguard-go's control protocol (https://www.wireguard.com/xplatform/): text lines `key=value`
// over the unix socket /var/run/wireguard/NAME.sock, a request ends with an empty line, the
// answer ends with `errno=N` and an empty line. Keys travel as hex. The request building and the
// answer parsing are pure; `uapi` is the only I/O. The private key goes only this way: never on a
// command line, a log line or a disk.
import { connect } from "node:net";
import { InternalError, UnavailableError } from "../../core/index.js";
import { keyBytes } from "./keys.js";

export interface WgPeer { publicKey: string; endpoint?: string; allowedIps: string[]; keepalive?: number }
export interface WgConfig { privateKey: string; listenPort: number; peers: WgPeer[] }

const hex = (b64: string, what: string) => keyBytes(b64, what).toString("hex");

/**
 * The `set=1` request that takes the interface from `current` to `want` in place: peers that go are
 * removed one by one and the others updated, never `replace_peers` — that would drop every
 * session and every endpoint learned from a peer that has none configured (a hidden node, the
 * user's machine), cutting them off until their next handshake. The private key and port are sent
 * only when they change (a new port rebinds the socket). With no `current`, everything is set.
 */
export function setRequest(want: WgConfig, current?: WgConfig): string {
  const lines = ["set=1"];
  if (!current || current.privateKey !== want.privateKey) lines.push(`private_key=${hex(want.privateKey, "the private key")}`);
  if (!current || current.listenPort !== want.listenPort) lines.push(`listen_port=${want.listenPort}`);
  if (!current) lines.push("replace_peers=true");
  const wanted = new Set(want.peers.map((p) => p.publicKey));
  for (const p of current?.peers ?? []) if (!wanted.has(p.publicKey)) lines.push(`public_key=${hex(p.publicKey, "a peer's public key")}`, "remove=true");
  for (const p of want.peers) {
    lines.push(`public_key=${hex(p.publicKey, "a peer's public key")}`);
    if (p.endpoint) lines.push(`endpoint=${p.endpoint}`);
    lines.push(`persistent_keepalive_interval=${p.keepalive ?? 0}`);
    lines.push("replace_allowed_ips=true");
    for (const a of p.allowedIps) lines.push(`allowed_ip=${a}`);
  }
  return lines.join("\n") + "\n\n";
}

/** What `get=1` answers, as a config (private key in base64 like the rest) plus the errno. */
export function parseGet(text: string): { errno: number; config: WgConfig } {
  const cfg: WgConfig = { privateKey: "", listenPort: 0, peers: [] };
  let errno = -1;
  let peer: WgPeer | null = null;
  const b64 = (h: string) => Buffer.from(h, "hex").toString("base64");
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i < 0) continue;
    const k = line.slice(0, i), v = line.slice(i + 1);
    if (k === "errno") errno = Number(v);
    else if (k === "private_key") cfg.privateKey = b64(v);
    else if (k === "listen_port") cfg.listenPort = Number(v);
    else if (k === "public_key") { peer = { publicKey: b64(v), allowedIps: [] }; cfg.peers.push(peer); }
    else if (peer && k === "endpoint") peer.endpoint = v;
    else if (peer && k === "allowed_ip") peer.allowedIps.push(v);
    else if (peer && k === "persistent_keepalive_interval") peer.keepalive = Number(v);
  }
  return { errno, config: cfg };
}

/** Whether the interface (`have`) already is `want` (order of peers and allowed IPs aside; a peer
 *  wanted without an endpoint may have learned one). */
export function sameConfig(have: WgConfig, want: WgConfig): boolean {
  const norm = (c: WgConfig, endpoints: Map<string, string>) => JSON.stringify({
    k: c.privateKey, p: c.listenPort,
    peers: c.peers.map((p) => ({ k: p.publicKey, e: endpoints.has(p.publicKey) ? p.endpoint ?? "" : "", a: [...p.allowedIps].sort(), ka: p.keepalive ?? 0 })).sort((x, y) => x.k.localeCompare(y.k)),
  });
  const configured = new Map(want.peers.flatMap((p) => (p.endpoint ? [[p.publicKey, p.endpoint] as [string, string]] : [])));
  return norm(have, configured) === norm(want, configured);
}

/** One request on the socket; resolves with the whole answer (up to its closing empty line). */
export function uapi(socket: string, request: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    let buf = "";
    const t = setTimeout(() => { c.destroy(); reject(new UnavailableError(`wireguard-go at ${socket} did not answer in ${timeoutMs} ms`)); }, timeoutMs);
    c.setEncoding("utf8");
    c.on("connect", () => c.write(request));
    c.on("data", (d: string) => {
      buf += d;
      if (/errno=-?\d+\n\n$/.test(buf)) { clearTimeout(t); c.end(); resolve(buf); }
    });
    c.on("error", (e) => { clearTimeout(t); reject(new UnavailableError(`wireguard-go at ${socket}: ${e.message}`, undefined, { cause: e })); });
    c.on("close", () => { clearTimeout(t); if (!/errno=/.test(buf)) reject(new UnavailableError(`wireguard-go at ${socket} closed without an answer`)); });
  });
}

export async function getConfig(socket: string): Promise<WgConfig> {
  const { errno, config } = parseGet(await uapi(socket, "get=1\n\n"));
  if (errno !== 0) throw new InternalError(`wireguard-go at ${socket}: get failed (errno ${errno})`);
  return config;
}

export async function setConfig(socket: string, cfg: WgConfig, current?: WgConfig): Promise<void> {
  const { errno } = parseGet(await uapi(socket, setRequest(cfg, current)));
  // EADDRINUSE (98): another interface of this namespace listens on the port — most often the
  // same network of a contract just cancelled, still being removed: transient, so retried.
  if (errno === 98 || errno === -98) throw new UnavailableError(`WireGuard listen port ${cfg.listenPort} is in use on this node`, "retried; if it stays, pick another wgListenPort");
  if (errno !== 0) throw new InternalError(`wireguard-go at ${socket}: set failed (errno ${errno})`);
}

// The networks of one node: for each network workload a namespace with the containers' bridge,
// a wireguard-go interface configured over its socket (private key, listen port, peers), and the
// routes to the peers' ranges. Each step checks before it acts, so provisioning again adopts what
// is there (after a zos restart the namespace and wireguard-go are still up) and repairs what is
// not (wireguard-go gone: restarted, and its key and peers given again from the workload).
// A record per network (`dataDir/network/ID.json`, written before anything is made) lets
// `zos cleanup` find what a killed node made.
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { writeFileAtomic } from "../../runtime/index.js";
import { sh } from "../container/sys.js";
import { formatCidr, gatewayOf, intToIp, parseCidr } from "../../core/index.js";
import { publicKeyOf } from "./keys.js";
import { networkNames, socketPath, type NetworkNames } from "./names.js";
import { ensureNetworkNs, linkIn, nsExists, removeNetworkNs, syncRoutes } from "./ns.js";
import { getConfig, sameConfig, setConfig, type WgConfig, type WgPeer } from "./uapi.js";
import { startWg, stopWg, wgAnswers } from "./wg.js";

export interface NetworkSpec {
  /** `${contractId}-${name}`: the record's name. */
  id: string;
  contractId: number;
  name: string;
  ipRange: string;
  subnet: string;
  /** In clear: only in this process's memory and on wireguard-go's socket. */
  privateKey: string;
  listenPort: number;
  peers: WgPeer[];
}

export interface NetworkRecord { id: string; netns: string; wg: string }

/** Keepalive towards peers that have an endpoint: keeps a hidden node's NAT mapping open. */
export const KEEPALIVE_S = 25;

export class NetworkManager {
  readonly dir: string;
  private busy = new Map<string, Promise<unknown>>();

  constructor(readonly dataDir: string, private readonly log: Logger) { this.dir = join(dataDir, "network"); }

  names(contractId: number, name: string): NetworkNames { return networkNames(this.dataDir, contractId, name); }

  private serial<T>(id: string, f: () => Promise<T>): Promise<T> {
    const p = (this.busy.get(id) ?? Promise.resolve()).then(f, f);
    this.busy.set(id, p.catch(() => undefined));
    return p;
  }

  /** Makes or adopts the network; resolves with the result's data. */
  ensure(spec: NetworkSpec): Promise<Record<string, unknown>> { return this.serial(spec.id, () => this.ensureNow(spec)); }

  private async ensureNow(spec: NetworkSpec): Promise<Record<string, unknown>> {
    const n = this.names(spec.contractId, spec.name);
    const subnet = parseCidr(spec.subnet);
    const gateway = intToIp(gatewayOf(subnet));
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const rec: NetworkRecord = { id: spec.id, netns: n.netns, wg: n.wg };
    await writeFileAtomic(join(this.dir, `${spec.id}.json`), JSON.stringify(rec));
    await ensureNetworkNs(n.netns, n.bridge, `${gateway}/${subnet.prefix}`);
    // wireguard-go: adopted when it answers and its interface is in the namespace, else (re)made.
    const up = (await linkIn(n.netns, n.wg)) !== null && await wgAnswers(n.wg);
    if (!up) {
      const pid = await startWg(n.wg, n.netns);
      this.log.info({ network: spec.id, wg: n.wg, pid }, "wireguard-go started");
    }
    const want: WgConfig = {
      privateKey: spec.privateKey, listenPort: spec.listenPort,
      peers: spec.peers.map((p) => ({ ...p, keepalive: p.endpoint ? KEEPALIVE_S : 0 })),
    };
    // Up before the peers are set: wireguard-go sends the first keepalive (and so a handshake) when a
    // peer's persistent keepalive is set on an interface that is up. Set on a down one, the peers
    // still holding a session with the old process wait for their own rekey timeout (~15 s+).
    const link = await linkIn(n.netns, n.wg);
    if (link && !/[<,]UP[,>]/.test(link)) await sh("ip", ["-n", n.netns, "link", "set", n.wg, "up"]);
    // Set only when it differs: setting again would reset the peers' sessions for nothing.
    const have = await getConfig(socketPath(n.wg));
    // A fresh wireguard-go has no key yet: everything is set; else only what differs, in place.
    if (!sameConfig(have, want)) await setConfig(socketPath(n.wg), want, have.privateKey ? have : undefined);
    const routes = [...new Set(spec.peers.flatMap((p) => p.allowedIps))].filter((r) => r !== formatCidr(subnet));
    await syncRoutes(n.netns, n.wg, routes);
    return { wgPublicKey: publicKeyOf(spec.privateKey), subnet: spec.subnet, gateway, listenPort: spec.listenPort, interface: n.wg };
  }

  /** Traffic stops (the interface goes down); the namespace, the process and the config stay. */
  pause(contractId: number, name: string): Promise<void> {
    const n = this.names(contractId, name);
    return this.serial(`${contractId}-${name}`, async () => {
      if (await linkIn(n.netns, n.wg)) await sh("ip", ["-n", n.netns, "link", "set", n.wg, "down"]);
    });
  }

  async check(contractId: number, name: string): Promise<{ ok: boolean; message?: string }> {
    const n = this.names(contractId, name);
    if (!(await nsExists(n.netns))) return { ok: false, message: `network namespace ${n.netns} is gone` };
    if (!(await linkIn(n.netns, n.wg))) return { ok: false, message: `WireGuard interface ${n.wg} is gone` };
    if (!(await wgAnswers(n.wg))) return { ok: false, message: `wireguard-go for ${n.wg} does not answer` };
    return { ok: true };
  }

  /** Removes everything of the network; idempotent. */
  remove(contractId: number, name: string): Promise<void> {
    const id = `${contractId}-${name}`;
    return this.serial(id, async () => {
      const n = this.names(contractId, name);
      await removeRecorded({ id, netns: n.netns, wg: n.wg });
      await rm(join(this.dir, `${id}.json`), { force: true });
    });
  }

  /** The records of networks this node made (for cleanup). */
  async records(): Promise<NetworkRecord[]> {
    const out: NetworkRecord[] = [];
    for (const f of await readdir(this.dir).catch(() => [] as string[])) {
      if (!f.endsWith(".json")) continue;
      const r = await readFile(join(this.dir, f), "utf8").then((t) => JSON.parse(t) as NetworkRecord, () => null);
      if (r?.netns && r.wg) out.push(r);
    }
    return out;
  }
}

/** Stops the network's wireguard-go and removes its namespace; says what went. */
export async function removeRecorded(r: NetworkRecord): Promise<{ pids: number[]; netns: boolean }> {
  const pids = await stopWg(r.wg);
  const netns = await removeNetworkNs(r.netns);
  return { pids, netns };
}


// `zos` flags → options. Kept apart from the daemon so the parsing can be tested on its own.
import { Command, InvalidArgumentError } from "commander";
import { resolve } from "node:path";
import { parseSize, ValidationError } from "../core/index.js";
import type { CapacityOverrides } from "./capacity.js";
import { checkHostname, ipv4ToInt } from "../gateway/index.js";

export interface ZosConfig {
  ledger: string;
  dataDir: string;
  farmId: number;
  underlay: string;
  capacity: CapacityOverrides;
  zdbPort: number;
  metricsPort: number;
  reportIntervalMs: number;
  simulate: boolean;
  logLevel: string;
  /** Set when this node offers a gateway (--gateway-domain and --public-ip). */
  gateway?: {
    domain: string; ipv4: string; httpPort: number; httpsPort: number;
    /** Certificates from this ACME CA (--acme-directory); without it names are served over HTTP only. */
    acme?: { directory: string; email: string; caCertificates?: string; challengePort: number };
  };
}

function int(min: number, max: number) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a whole number`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

function size(v: string): number {
  try {
    return parseSize(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function checkedIpv4(v: string): string {
  ipv4ToInt(v);
  return v;
}

export function zosCommand(onRun: (c: ZosConfig) => Promise<void>): Command {
  return new Command("zos")
    .description("Zero-OS node daemon: registers this machine's capacity on the ledger and provisions the workloads the ledger assigns to it. It has no API: the ledger is the only way to command it.")
    .requiredOption("--ledger <url>", "ledger URL, e.g. http://127.0.0.1:8080")
    .requiredOption("--data <dir>", "data folder (keys, local store, 0-db and volume files)")
    .requiredOption("--farm <id>", "farm id to register in", int(1, Number.MAX_SAFE_INTEGER))
    .requiredOption("--underlay <addr>", "this node's address: workloads' ports and /metrics listen on it")
    .option("--cru <n>", "CPU cores offered (default: detected)", int(0, 1 << 20))
    .option("--mru <size>", "memory offered, e.g. 8GiB (default: detected minus a reserve)", size)
    .option("--sru <size>", "SSD offered (default: detected minus a reserve)", size)
    .option("--hru <size>", "HDD offered (default: detected minus a reserve)", size)
    .option("--zdb-port <port>", "port of the node's 0-db", int(1, 65535), 9900)
    .option("--metrics-port <port>", "read-only /metrics port on the underlay address (0 = off)", int(0, 65535), 9100)
    .option("--report-interval <seconds>", "seconds between uptime reports", int(1, 86400), 10)
    .option("--gateway-domain <domain>", "offer a gateway: serve names as NAME.DOMAIN (needs --public-ip); registered as the node's public config")
    .option("--public-ip <ipv4>", "the gateway's public IPv4 address (registered on the ledger; the proxy listens on it)")
    .option("--gateway-http-port <port>", "gateway HTTP port", int(1, 65535), 80)
    .option("--gateway-https-port <port>", "gateway HTTPS port", int(1, 65535), 443)
    .option("--acme-directory <url>", "gateway: obtain certificates from this ACME CA (e.g. https://acme-v02.api.letsencrypt.org/directory, or the local grid's pebble)")
    .option("--acme-email <email>", "gateway: the ACME account's contact", "farmer@localhost")
    .option("--acme-ca-certificates <pem>", "gateway: CAs to trust for the ACME directory's own HTTPS (pebble's test certificate)")
    .option("--acme-challenge-port <port>", "gateway: loopback port the ACME client answers HTTP-01 challenges on", int(1, 65535), 8402)
    .option("--simulate", "provision nothing, answer ok with fake data (for benchmarks)", false)
    .option("--log-level <level>", "log level: trace, debug, info, warn, error", "info")
    .addHelpText("after", "\nOn start it prints one JSON line {\"nodeId\",\"twinId\",\"underlay\"} on stdout once registered; logs (JSON) go to stderr.\nSIGTERM stops it and leaves its containers running (the next zos adopts them).\n\nOther command:\n  zos cleanup --data DIR [--purge] [--json]   remove everything a stopped node made on this machine (see zos cleanup --help)")
    .action(async (o: Record<string, unknown>) => {
      if ((o.gatewayDomain === undefined) !== (o.publicIp === undefined)) throw new ValidationError("--gateway-domain and --public-ip go together", "give both to offer a gateway, or neither");
      const cap: CapacityOverrides = {};
      for (const k of ["cru", "mru", "sru", "hru"] as const) if (o[k] !== undefined) cap[k] = o[k] as number;
      await onRun({
        ledger: String(o.ledger).replace(/\/+$/, ""),
        dataDir: resolve(String(o.data)),
        farmId: o.farm as number,
        underlay: String(o.underlay),
        capacity: cap,
        zdbPort: o.zdbPort as number,
        metricsPort: o.metricsPort as number,
        reportIntervalMs: (o.reportInterval as number) * 1000,
        simulate: o.simulate === true,
        logLevel: String(o.logLevel),
        ...(o.gatewayDomain !== undefined ? {
          gateway: {
            // Checked now: a bad domain or address would otherwise surface only at the first workload.
            domain: checkHostname(String(o.gatewayDomain), "--gateway-domain"), ipv4: checkedIpv4(String(o.publicIp)), httpPort: o.gatewayHttpPort as number, httpsPort: o.gatewayHttpsPort as number,
            ...(o.acmeDirectory !== undefined ? { acme: {
              directory: String(o.acmeDirectory), email: String(o.acmeEmail), challengePort: o.acmeChallengePort as number,
              ...(o.acmeCaCertificates !== undefined ? { caCertificates: resolve(String(o.acmeCaCertificates)) } : {}),
            } } : {}),
          },
        } : {}),
      });
    });
}

export interface CleanupConfig { dataDir: string; purge: boolean; json: boolean; logLevel: string }

export function cleanupCommand(onRun: (c: CleanupConfig) => Promise<void>): Command {
  return new Command("zos cleanup")
    .description("With no zos running on the data folder, remove everything the node made on this machine for it: every container (runc kill and delete), their overlay and tmpfs mounts, network namespaces and veths (the prepared pool's too), cgroups, the node's 0-db process and the volumes' loop mounts. Workload data (0-db data, volume images) stays, so a zos started on the folder again serves the same data. Refuses while a zos runs on the folder. Idempotent: a second run removes nothing and succeeds.")
    .requiredOption("--data <dir>", "the node's data folder (what zos ran with)")
    .option("--purge", "also delete the workloads' data and the node's record of them (DIR/workloads, cursor.json, container/, volume/, zdb/); the node's identity and flist cache stay", false)
    .option("--json", "print one JSON object: {dataDir, containers, mounts, netns, veths, cgroups, processes, purged} (lists of what went)", false)
    .option("--log-level <level>", "log level (stderr, JSON): trace, debug, info, warn, error", "warn")
    .addHelpText("after", "\nRun it as root, in the network namespace the node ran in (e.g. nsenter --net=/run/netns/NAME -- zos cleanup ...): the containers' host-side veths live there.")
    .action(async (o: Record<string, unknown>) => {
      await onRun({ dataDir: resolve(String(o.data)), purge: o.purge === true, json: o.json === true, logLevel: String(o.logLevel) });
    });
}

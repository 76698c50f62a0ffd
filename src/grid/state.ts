// What a local grid remembers in its data folder, so `grid up` after `grid down` brings back the
// same grid: the layout of DIR, and DIR/grid.json (addresses, ports, ids; no secrets).
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { writeFileAtomicSync } from "../runtime/index.js";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { GridNet } from "./naming.js";

export interface NodeState {
  index: number;
  underlay: string;
  netns: string | null;
  zdbPort: number;
  metricsPort: number;
  nodeId?: number;
  twinId?: number;
}

export interface GridState {
  version: 1;
  mode: "netns" | "local";
  net: GridNet | null;
  ledger: { host: string; port: number; url: string };
  farmer?: { twinId: number; farmId: number };
  nodes: NodeState[];
  user?: { twinId: number };
  /** The flist hub and the 0-db holding its chunks (host side), and the example's flist on it. */
  hub?: { host: string; port: number; zdbPort: number; url: string; example?: { address: string; hash: string; entrypoint: string } };
  example?: { name: string; file: string };
  /** The explorer (bin/explorer), on the ledger's address. */
  explorer?: { host: string; port: number; url: string };
}

export class GridLayout {
  constructor(readonly dir: string) {}
  get logs(): string { return join(this.dir, "logs"); }
  get run(): string { return join(this.dir, "run"); }
  get ledgerData(): string { return join(this.dir, "ledger"); }
  get farmerKey(): string { return join(this.dir, "farmer", "identity.key"); }
  get userHome(): string { return join(this.dir, "user"); }
  get passphraseFile(): string { return join(this.dir, "user", ".passphrase"); }
  get examplePasswordFile(): string { return join(this.dir, "user", ".example-password"); }
  get hubData(): string { return join(this.dir, "hub"); }
  /** The hub's 0-db admin password (0600): the only key to writing the hub's store. */
  get hubPasswordFile(): string { return join(this.dir, "hub", "zdb.password"); }
  get stateFile(): string { return join(this.dir, "grid.json"); }
  nodeData(index: number): string { return join(this.dir, "nodes", `n${index}`); }

  load(): GridState | null {
    if (!existsSync(this.stateFile)) return null;
    return JSON.parse(readFileSync(this.stateFile, "utf8")) as GridState;
  }

  /** Durably (tmp + fsync + rename + folder fsync): a crash mid-`up` leaves the old state or the new. */
  save(s: GridState): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomicSync(this.stateFile, `${JSON.stringify(s, null, 2)}\n`, 0o644);
  }

  /** A random secret kept in a 0600 file, made on first use (the demo grid's passphrase...). */
  secretFile(path: string, bytes = 24): string {
    if (existsSync(path)) return readFileSync(path, "utf8").trim();
    mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
    const v = randomBytes(bytes).toString("base64url");
    writeFileAtomicSync(path, `${v}\n`, 0o600);
    return v;
  }
}

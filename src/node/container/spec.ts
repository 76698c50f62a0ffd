// What a container is to the node: the spec it runs, the state saved beside it (what survives a
// node restart), what is known while it runs, and the status reported upward.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../runtime/index.js";
import type { LogShipper, LogTarget } from "./logs.js";
import type { Attachment } from "../network/index.js";

export interface ContainerSpec {
  /** `${contractId}-${name}`: unique on the node. */
  id: string;
  flistHash: string;
  lower: string;
  args: string[];
  /** KEY=VALUE, secrets included: kept in memory and on the container's tmpfs only. */
  env: string[];
  cwd: string;
  memory: number;
  cpu: number;
  rootfsSize: number;
  pids?: number;
  mounts: Array<{ source: string; destination: string }>;
  logs?: LogTarget;
  /** The overlay network it is on (a veth on that network's bridge, its address, the range's route). */
  network?: Attachment;
}

/** What survives a node restart (no secrets: the env is rebuilt from the sealed workload). */
export interface Saved { id: string; runcId: string; specHash: string; flistHash: string; ip: string; netns: string; restarts: number; oomKills: number; lastExit?: string; logOffset: number; createdAt: string;
  /** The last exit's code when the node saw it (a zombie's status), and the output's last lines then. */
  exitCode?: number | null; tail?: string }

export interface ContainerStatus {
  state: "running" | "paused" | "restarting" | "stopped"; ip: string; restarts: number; oomKills: number; lastExit?: string;
  /** Restarted CRASH_LOOP.restarts times within CRASH_LOOP.windowMs and not stable since. */
  crashLoop: boolean; exitCode?: number | null; tail?: string;
}

/** A container this node process watches. `busy` serialises the operations on it. */
export interface Live { spec: ContainerSpec; saved: Saved; pid: number; startedAt: number; backoffMs: number; timer?: NodeJS.Timeout; restarting: boolean; paused: boolean; shipper?: LogShipper; unreported: boolean; busy: Promise<unknown>;
  /** When its recent exits were (for crash-loop detection), and whether it is in one now. */
  exits: number[]; crashLoop: boolean;
  /** Told when something happened to it by itself (an exit, a crash loop, a recovery). */
  onChange?: () => void }

/** Hash of what decides how a container runs (env included, so a secret change restarts it). */
export function specHash(s: ContainerSpec): string {
  return createHash("sha256").update(JSON.stringify({ ...s, lower: undefined })).digest("hex");
}

/** The saved state in a container's folder, or null (none, or unreadable: nothing to adopt). */
export async function loadSaved(dir: string): Promise<Saved | null> {
  try { return JSON.parse(await readFile(join(dir, "state.json"), "utf8")) as Saved; } catch { return null; }
}

/** Written whole or not at all (fsynced, renamed): a crash never leaves a torn state.json. */
export async function writeSaved(dir: string, s: Saved): Promise<void> {
  await writeFileAtomic(join(dir, "state.json"), JSON.stringify(s));
}

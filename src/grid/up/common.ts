// What every launch step of `grid up` shares: where the daemons' programs are, the example's
// names, the step context, and small waits.
import { connect } from "node:net";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { resolve, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateKeyPair, keyPairFromSeed, UnavailableError, type KeyPair } from "../../core/index.js";
import { writeFileAtomicSync } from "../../runtime/index.js";
import type { GridLayout, GridState } from "../state.js";

export const REPO = resolve(fileURLToPath(new URL("../../../../", import.meta.url)));
/** GRID_BIN_<NAME> (e.g. GRID_BIN_ZOS) points the launcher at another build of a daemon (development). */
export const BIN = (name: string) => process.env[`GRID_BIN_${name.toUpperCase()}`] || join(REPO, "bin", name);
export const DEFAULT_EXAMPLE = join(REPO, "examples", "hello.yaml");
/** The example's password comes from this variable; the launcher makes one up when it is unset. */
export const EXAMPLE_PASSWORD_ENV = "HELLO_ZDB_PASSWORD";
/** The example's container runs this flist (the busybox httpd one the launcher publishes). */
export const EXAMPLE_FLIST_ENV = "HELLO_FLIST";
export const EXAMPLE_FLIST_NAME = "hello-httpd";

export type Note = (line: string) => void;

/** What a launch step works with: the data folder's layout, the state it updates, how it speaks. */
export interface Step {
  L: GridLayout;
  state: GridState;
  note: Note;
  /** The environment daemons start with (no secrets: a daemon's secret is added to its own). */
  env: NodeJS.ProcessEnv;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

export function loadOrMakeKey(path: string): KeyPair {
  if (existsSync(path)) return keyPairFromSeed(readFileSync(path, "utf8").trim());
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  const k = generateKeyPair();
  writeFileAtomicSync(path, `${k.privateKey}\n`, 0o600);
  return k;
}

export function tcpOpen(host: string, port: number): Promise<true | undefined> {
  return new Promise((res) => {
    const c = connect({ host, port, timeout: 1000 }, () => { c.destroy(); res(true); });
    c.on("error", () => res(undefined));
    c.on("timeout", () => { c.destroy(); res(undefined); });
  });
}

export async function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  } catch { return undefined; }
}

/** Probes until it returns a value; UnavailableError with the last failure after `ms`. */
export async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr = "";
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) { lastErr = (e as Error).message; }
    if (Date.now() > deadline) throw new UnavailableError(`timed out waiting for ${what}${lastErr ? `: ${lastErr}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

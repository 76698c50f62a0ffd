// Test helpers: a real bcdb process on a free loopback port with its data in a temp folder.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { LedgerClient, type Signer } from "../../src/ledger/client/index.js";
import { generateKeyPair, type KeyPair } from "../../src/core/index.js";
export { freePort, tempDir, waitFor } from "../support.js";

export const ROOT = resolve(new URL("../../..", import.meta.url).pathname);
export const BCDB = join(ROOT, "bin", "bcdb");

export interface Bcdb { url: string; port: number; dir: string; proc: ChildProcess; client: LedgerClient; stderr: string[]; stop(signal?: NodeJS.Signals): Promise<void> }

export async function startBcdb(dir: string, args: string[] = [], port = 0): Promise<Bcdb> {
  const proc = spawn(process.execPath, [BCDB, "--data", dir, "--port", String(port), "--log-level", "warn", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  proc.stderr!.on("data", (d: Buffer) => stderr.push(d.toString()));
  const line = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: proc.stdout! });
    const timer = setTimeout(() => rej(new Error(`bcdb did not start in 10 s: ${stderr.join("")}`)), 10_000);
    rl.once("line", (l) => { clearTimeout(timer); res(l); });
    proc.once("exit", (code) => { clearTimeout(timer); rej(new Error(`bcdb exited with ${code}: ${stderr.join("")}`)); });
  });
  const { url } = JSON.parse(line) as { url: string };
  const b: Bcdb = {
    url, port: Number(new URL(url).port), dir, proc, client: new LedgerClient(url), stderr,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once("exit", r));
      proc.kill(signal);
      await exited;
    },
  };
  return b;
}

/** A funded twin: a new key, its twin, and `amount` from the faucet. */
export async function fundedTwin(client: LedgerClient, amount = 1_000_000_000): Promise<{ keys: KeyPair; signer: Signer; twinId: number }> {
  const keys = generateKeyPair();
  const signer = client.signer(keys);
  const twinId = await signer.ensureTwin();
  if (amount > 0) await client.faucet(twinId, amount);
  return { keys, signer, twinId };
}

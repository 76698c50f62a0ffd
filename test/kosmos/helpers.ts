// Real processes for the kosmos tests: a bcdb on a free port in a temp folder, and the kosmos CLI.
import { spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
export { tempDir, waitFor } from "../support.js";

export const REPO = resolve(fileURLToPath(new URL("../../../", import.meta.url)));

export interface Bcdb { url: string; proc: ChildProcess; stop(): Promise<void> }

export async function startBcdb(t: { after(fn: () => void | Promise<void>): void }, dir: string, extra: string[] = []): Promise<Bcdb> {
  const proc = spawn(process.execPath, [join(REPO, "bin", "bcdb"), "--data", dir, "--port", "0", "--faucet", "--block-interval", "200", ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => { stderr += d; });
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  };
  t.after(stop);
  const url = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`bcdb not ready in 15 s: ${stderr.slice(-2000)}`)), 15_000);
    proc.once("exit", (c) => { clearTimeout(timer); rej(new Error(`bcdb exited ${c}: ${stderr.slice(-2000)}`)); });
    createInterface({ input: proc.stdout! }).once("line", (l) => { clearTimeout(timer); res((JSON.parse(l) as { url: string }).url); });
  });
  return { url, proc, stop };
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read the CLI's JSON loosely, field by field
export interface Run { code: number | null; stdout: string; stderr: string; json<T = any>(): T }

/** Run bin/kosmos (or another bin) to completion; `input` is written to its stdin. */
export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(REPO, "bin", bin), ...args], { env: { ...process.env, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    p.stdout.on("data", (d) => { stdout += d; });
    p.stderr.on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill("SIGKILL"); rej(new Error(`${bin} ${args.join(" ")} timed out; stderr: ${stderr}`)); }, timeoutMs);
    p.on("error", rej);
    p.on("close", (code) => {
      clearTimeout(timer);
      res({ code, stdout, stderr, json: () => { try { return JSON.parse(stdout); } catch { throw new Error(`not JSON from ${bin} ${args.join(" ")}: ${stdout}\nstderr: ${stderr}`); } } });
    });
    p.stdin.end(input ?? "");
  });
}


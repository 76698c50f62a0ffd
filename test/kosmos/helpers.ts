// Real processes for the kosmos tests: a ledger (test/support.ts's startLedger) and the kosmos CLI.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT as REPO } from "../support.js";
export { startLedger, tempDir, waitFor, type Ledger } from "../support.js";
export { REPO };

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


// Real processes for the kosmos tests: a ledger (test/support.ts's startLedger) and the kosmos CLI.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT as REPO } from "../support.js";
export { startLedger, tempDir, waitFor, type Ledger } from "../support.js";
export { REPO };

export interface Run { code: number | null; stdout: string; stderr: string; json<T = any>(): T }

/** Run bin/kosmos (or another bin) to completion; `input` is written to its stdin. */
/** The environment a command under test starts with: this process's, less any Kosmos or hub setting
 *  of the person running the tests (a demo grid's `export KOSMOS_LEDGER=…` must not leak in), plus `env`. */
export function cleanEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(KOSMOS_|HELLO_FLIST$)/.test(k)));
  return { ...base, ...env };
}

export function runBin(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [join(REPO, "bin", bin), ...args], { env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] });
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


/** Starts bin/NAME and resolves with the first stdout line matching `re` (killed after the test). */
export function daemon(t: { after(fn: () => void | Promise<void>): void }, name: string, args: string[], re: RegExp): Promise<RegExpExecArray> {
  const p = spawn(process.execPath, [join(REPO, "bin", name), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  p.stderr!.on("data", (d) => { err += d; });
  t.after(() => new Promise<void>((res) => { if (p.exitCode !== null) return res(); p.once("exit", () => res()); p.kill("SIGKILL"); }));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} not ready: ${err}`)), 15_000);
    p.once("exit", (c) => { clearTimeout(timer); rej(new Error(`${name} exited ${c}: ${err}`)); });
    createInterface({ input: p.stdout! }).on("line", (l) => { const m = re.exec(l); if (m) { clearTimeout(timer); res(m); } });
  });
}

/** A real hub (bin/zhub over its own bin/zdb), stopped after the test; resolves with its URL. */
export async function startHub(t: { after(fn: () => void | Promise<void>): void }, dir: string): Promise<string> {
  const zdbPort = (await daemon(t, "zdb", ["--listen", "127.0.0.1", "--port", "0", "--data", join(dir, "zd"), "--index", join(dir, "zi")], /port (\d+)/))[1];
  return JSON.parse((await daemon(t, "zhub", ["--port", "0", "--zdb", `127.0.0.1:${zdbPort}`], /^\{.*\}$/))[0]).url as string;
}

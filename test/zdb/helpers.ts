// Shared test helpers: temporary folders, zdb child processes on free ports, raw sockets, polling.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "../support.js";
export { tempDir, waitFor } from "../support.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const BIN = path.join(ROOT, "bin", "zdb");

export interface ZdbProc { port: number; proc: ChildProcess; kill9(): Promise<void>; stop(): Promise<void>; stderr(): string; }

/** Starts bin/zdb on a free port (it reports the port it bound on stdout). */
export async function startZdbProc(t: { after: (fn: () => Promise<void> | void) => void }, dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ZdbProc> {
  const proc = spawn(process.execPath, [BIN, "--listen", "127.0.0.1", "--port", "0", "--data", path.join(dir, "data"),
    "--index", path.join(dir, "index"), ...extra], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  let out = "", err = "";
  proc.stdout!.on("data", (d) => { out += d; });
  proc.stderr!.on("data", (d) => { err += d; });
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const kill9 = async () => { if (proc.exitCode === null && proc.signalCode === null) { proc.kill("SIGKILL"); } await exited; };
  t.after(kill9);
  const port = await waitFor("zdb to listen", () => {
    if (proc.exitCode !== null) throw new Error(`zdb exited: ${err}`);
    const m = /port (\d+)/.exec(out);
    return m ? Number(m[1]) : 0;
  }).catch((e) => { throw new Error(`${(e as Error).message}\n${err}`); });
  return {
    port, proc, kill9,
    stop: async () => { if (proc.exitCode === null) proc.kill("SIGTERM"); await exited; },
    stderr: () => err,
  };
}

export function redisCli(port: number, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = execFile("redis-cli", ["-p", String(port), ...args], { timeout: 10000 }, (e, stdout) => {
      if (e && (e as { killed?: boolean }).killed) reject(e); else resolve(stdout.replace(/\n$/, ""));
    });
    if (input !== undefined) { p.stdin!.end(input); }
  });
}

/** Sends raw bytes and collects the reply until `until` matches it, or the server closes. */
export function rawExchange(port: number, bytes: Buffer | string, until: (b: Buffer) => boolean = () => false, ms = 5000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let data = Buffer.alloc(0);
    const timer = setTimeout(() => { s.destroy(); resolve({ data, closed: false }); }, ms);
    s.on("connect", () => s.write(bytes));
    s.on("data", (d) => {
      data = Buffer.concat([data, d]);
      if (until(data)) { clearTimeout(timer); s.destroy(); resolve({ data, closed: false }); }
    });
    s.on("close", () => { clearTimeout(timer); resolve({ data, closed: true }); });
    s.on("error", (e) => { clearTimeout(timer); if ((e as NodeJS.ErrnoException).code === "ECONNRESET") resolve({ data, closed: true }); else reject(e); });
  });
}

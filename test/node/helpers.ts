// Shared by the node tests: commands, a quiet logger, redis-cli; the generic helpers come from test/support.ts.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pino from "pino";
export { freePort, tempDir, waitFor } from "../support.js";
export { pidAlive } from "../../src/runtime/index.js";

export const run = promisify(execFile);
export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const r = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args]).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: `${e.stdout ?? ""}${e.stderr ?? ""}` }));
  return r.stdout.trim();
}

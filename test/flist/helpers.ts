// Real processes for the flist tests: a redis-server (0-db's protocol) and bin/zhub on free ports.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort, waitFor } from "../support.js";
export { freePort, waitFor } from "../support.js";

export const ROOT = resolve(new URL("../../..", import.meta.url).pathname);

export interface Proc { child: ChildProcess; port: number; url: string; stop(): Promise<void> }

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    child.once("exit", () => res());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}

export async function startRedis(): Promise<Proc> {
  const port = await freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => { out += d; });
  await waitFor("redis-server to be ready", () => out.includes("Ready to accept connections") || (child.exitCode !== null && Promise.reject(new Error(out))));
  return { child, port, url: `127.0.0.1:${port}`, stop: stopper(child) };
}

export async function startHub(zdb: string): Promise<Proc> {
  const child = spawn(process.execPath, [resolve(ROOT, "bin/zhub"), "--port", "0", "--zdb", zdb, "--log-level", "warn"], { stdio: ["ignore", "pipe", "inherit"] });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((res, rej) => { rl.once("line", res); child.once("exit", (c) => rej(new Error(`zhub exited ${c}`))); });
  rl.close();
  const url = (JSON.parse(line) as { url: string }).url;
  return { child, port: Number(new URL(url).port), url, stop: stopper(child) };
}

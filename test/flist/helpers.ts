// Real processes for the flist tests: the project's own 0-db (bin/zdb, as the grid runs it for its
// hub: an admin password and --protect, so only the hub writes) and bin/zhub, on free ports.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { freePort, waitFor } from "../support.js";
export { freePort, waitFor } from "../support.js";

export const ROOT = resolve(new URL("../../..", import.meta.url).pathname);

export interface Proc { child: ChildProcess; port: number; url: string; stop(): Promise<void> }
/** A hub's store: a 0-db and the password the hub writes with ("" for an open store). */
export interface StoreProc extends Proc { password: string; dir: string }

function stopper(child: ChildProcess, after?: () => void): () => Promise<void> {
  return () => new Promise((res) => {
    const done = () => { after?.(); res(); };
    if (child.exitCode !== null || child.signalCode !== null) return done();
    child.once("exit", done);
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 3000).unref();
  });
}

// Stores started here, by address, so startHub(store.url) (the callers written for redis-server)
// still gets the password.
const passwords = new Map<string, string>();

/** bin/zdb in a temporary folder; `open: true` leaves it without a password (anyone writes).
 *  `restart()` kills it (SIGKILL) and starts it again on the same port, folder and password. */
export async function startHubStore(opts: { open?: boolean } = {}): Promise<StoreProc & { restart(): Promise<void> }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "hub-zdb-"));
  const password = opts.open ? "" : randomBytes(12).toString("hex");
  const args = [resolve(ROOT, "bin/zdb"), "--listen", "127.0.0.1", "--port", String(port), "--data", join(dir, "data"), "--index", join(dir, "index")];
  if (!opts.open) args.push("--protect");
  const env = { ...process.env, NODE_NO_WARNINGS: "1", ...(opts.open ? {} : { ZDB_ADMIN: password }) };
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    child.stdout?.on("data", (d) => { out += d; });
    child.stderr?.on("data", (d) => { out += d; });
    await waitFor("the hub's 0-db to listen", () => /listening on .* port \d+/.test(out) || (child.exitCode !== null && Promise.reject(new Error(out))));
    return child;
  };
  const url = `127.0.0.1:${port}`;
  passwords.set(url, password);
  const p = {
    child: await launch(), port, url, password, dir,
    stop: () => stopper(p.child, () => { passwords.delete(url); rmSync(dir, { recursive: true, force: true }); })(),
    restart: async () => {
      await new Promise<void>((res) => { p.child.once("exit", () => res()); p.child.kill("SIGKILL"); });
      p.child = await launch();
    },
  };
  return p;
}

/**
 * @deprecated the name of the redis-server days: test/container, test/node and bench/container
 * still call it; it starts the hub's 0-db now (startHubStore), with a password.
 */
export const startRedis = (): Promise<StoreProc> => startHubStore();

export interface HubProc extends Proc { /** What zhub wrote on stderr so far (pino JSON lines). */ log(): string }

/** bin/zhub over `store` (a StoreProc, or the HOST:PORT of one started here, or of an open store). */
export async function startHub(store: string | StoreProc, opts: { password?: string; args?: string[] } = {}): Promise<HubProc> {
  const url = typeof store === "string" ? store : store.url;
  const password = opts.password ?? (typeof store === "string" ? passwords.get(url) : store.password) ?? "";
  const env = { ...process.env, ZHUB_ZDB_PASSWORD: password };
  const child = spawn(process.execPath, [resolve(ROOT, "bin/zhub"), "--port", "0", "--zdb", url, "--log-level", "warn", ...(opts.args ?? [])], { stdio: ["ignore", "pipe", "pipe"], env });
  let log = "";
  child.stderr!.on("data", (d: Buffer) => { if (log.length < 1 << 20) log += d; process.stderr.write(d); });
  const rl = createInterface({ input: child.stdout! });
  const line = await new Promise<string>((res, rej) => { rl.once("line", res); child.once("exit", (c) => rej(new Error(`zhub exited ${c}`))); });
  rl.close();
  const hubUrl = (JSON.parse(line) as { url: string }).url;
  return { child, port: Number(new URL(hubUrl).port), url: hubUrl, stop: stopper(child), log: () => log };
}

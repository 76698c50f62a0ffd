// The wireguard-go process of one interface. It is started in the node's own namespace (where the
// underlay is), so its UDP socket stays there; its TUN interface is then moved into the network's
// namespace, where the containers' bridge is. It runs detached from zos: a killed zos leaves the
// overlay up, and the next zos adopts it by its socket.
import { spawn } from "node:child_process";
import { access, readdir, readFile, rm } from "node:fs/promises";
import { ExhaustedError, TimeoutError, toGridError } from "../../core/index.js";
import { pidAlive } from "../../runtime/index.js";
import { sh } from "../container/sys.js";
import { socketPath } from "./names.js";
import { uapi } from "./uapi.js";

const exists = (p: string) => access(p).then(() => true, () => false);

/** The pids of the wireguard-go processes serving interface `wg` (normally one). */
export async function wgPids(wg: string): Promise<number[]> {
  const out: number[] = [];
  for (const d of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(d)) continue;
    const argv = (await readFile(`/proc/${d}/cmdline`, "utf8").catch(() => "")).split("\0").filter(Boolean);
    if (argv.length >= 2 && argv[0].endsWith("wireguard-go") && argv[argv.length - 1] === wg) out.push(Number(d));
  }
  return out;
}

/** Whether the interface's wireguard-go answers on its socket. */
export async function wgAnswers(wg: string): Promise<boolean> {
  return uapi(socketPath(wg), "get=1\n\n", 1500).then((a) => /errno=0/.test(a), () => false);
}

/** Starts wireguard-go for `wg` in this process's namespace, then moves its interface into `netns`. */
export async function startWg(wg: string, netns: string): Promise<number> {
  await stopWg(wg);
  let child;
  try {
    child = spawn("wireguard-go", ["-f", wg], { detached: true, stdio: "ignore", env: { ...process.env, LOG_LEVEL: "error" } });
  } catch (e) { throw toGridError(e); }
  const spawned = new Promise<void>((res, rej) => { child.once("spawn", res); child.once("error", (e) => rej(toGridError(e))); });
  await spawned;
  child.unref();
  const pid = child.pid!;
  const deadline = Date.now() + 5000;
  while (!(await exists(socketPath(wg))) || !(await wgAnswers(wg))) {
    if (!pidAlive(pid)) throw new ExhaustedError(`wireguard-go for ${wg} exited at start`, "is /dev/net/tun there, and the name free?");
    if (Date.now() > deadline) { await stopWg(wg); throw new TimeoutError(`wireguard-go for ${wg} did not open its socket in 5 s`); }
    await new Promise((r) => setTimeout(r, 20));
  }
  await sh("ip", ["link", "set", wg, "netns", netns]);
  return pid;
}

/** Stops every wireguard-go of `wg` and removes its socket; idempotent. */
export async function stopWg(wg: string): Promise<number[]> {
  const pids = await wgPids(wg);
  for (const p of pids) { try { process.kill(p, "SIGTERM"); } catch { /* gone */ } }
  const deadline = Date.now() + 3000;
  while (pids.some(pidAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  for (const p of pids) if (pidAlive(p)) { try { process.kill(p, "SIGKILL"); } catch { /* gone */ } }
  await rm(socketPath(wg), { force: true });
  return pids;
}

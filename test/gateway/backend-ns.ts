// A backend for gateway tests: a network namespace made by the test (a veth to the host, a /30 of
// a random 10.x range), serving a page with busybox httpd. The gateway reaches it as a backend on
// the user's "own network" (the range), and it is removed when the test ends.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { AfterHooks } from "../support.js";
import { waitFor } from "../support.js";

export interface BackendNs { ns: string; www: string; ip: string; range: string; url: string; stop(): void; start(): Promise<void> }

/** Ranges handed out in this process: two backends of one test never share a /30. */
let next = Math.floor(Math.random() * 60);

/** `base`: the first two octets of the range (default a random 10.x; "198.18" is a public-looking benchmark range). */
export async function backendNs(t: AfterHooks, dir: string, page: string, port = 8080, base?: string): Promise<BackendNs> {
  const tag = randomBytes(3).toString("hex");
  const ns = `gwb-${tag}`, host = `gwh${tag}`, peer = `gwp${tag}`;
  const b = 192 + (next++ % 60), c = Math.floor(Math.random() * 64) * 4;
  const third = Math.floor(Math.random() * 250);
  const two = base ?? `10.${b}`;
  const prefix = `${two}.${third}`;
  const [h, n] = [`${prefix}.${c + 1}`, `${prefix}.${c + 2}`];
  const sh = (...a: string[]) => execFileSync(a[0]!, a.slice(1), { stdio: "pipe" });
  sh("ip", "netns", "add", ns);
  t.after(() => {
    try { sh("ip", "link", "del", host); } catch { /* gone with the namespace */ }
    try { sh("ip", "netns", "del", ns); } catch { /* already */ }
  });
  sh("ip", "link", "add", host, "type", "veth", "peer", "name", peer);
  sh("ip", "link", "set", peer, "netns", ns);
  sh("ip", "addr", "add", `${h}/30`, "dev", host);
  sh("ip", "link", "set", host, "up");
  sh("ip", "netns", "exec", ns, "ip", "addr", "add", `${n}/30`, "dev", peer);
  sh("ip", "netns", "exec", ns, "ip", "link", "set", peer, "up");
  sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up");
  const www = join(dir, `www-${tag}`);
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, "index.html"), page);
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn("ip", ["netns", "exec", ns, "busybox", "httpd", "-f", "-p", `${n}:${port}`, "-h", www], { stdio: "ignore" });
    await waitFor(`httpd in ${ns}`, () => { try { sh("ip", "netns", "exec", ns, "busybox", "wget", "-q", "-O", "-", `http://${n}:${port}/`); return true; } catch { return false; } });
  };
  const stop = () => { child?.kill("SIGKILL"); child = undefined; };
  t.after(stop);
  await start();
  return { ns, www, ip: n, range: `${two}.0.0/16`, url: `http://${n}:${port}`, stop, start };
}

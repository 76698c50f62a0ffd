// Zero-GW figures, each beside its anchors measured in the same run (run as root):
//   node dist/bench/gateway.js [--json] [--seconds 5] [--connections 50]
// One backend (nginx serving a small static page in a namespace of its own), then `wrk` (HTTPS,
// keep-alive) through:
//  - our gateway: the node's GatewayService (supervised HAProxy, TLS terminated with a certificate);
//  - the anchor: nginx configured by hand as a plain reverse proxy to the same backend, same
//    certificate, same keep-alive to the backend;
//  - the backend directly (plain HTTP).
// wrk finds the name through a private /etc/hosts (its own mount namespace, `unshare -m`), so SNI is
// the real name. Also: ms from a route's ensure to its first 200 (no certificate to fetch here).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { GatewayService } from "../src/node/gateway/index.js";
import { routeOf } from "../src/gateway/index.js";
import type { AfterHooks } from "../test/support.js";
import { freePort, tempDir, waitFor } from "../test/support.js";
import { backendNs } from "../test/gateway/backend-ns.js";

const args = process.argv.slice(2);
const json = args.includes("--json");
const flag = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) || d : d);
const seconds = flag("--seconds", 5), connections = flag("--connections", 50);
const say = (s: string) => { if (!json) console.log(s); };

const hooks: Array<() => void | Promise<void>> = [];
const t: AfterHooks = { after: (fn) => { hooks.push(fn); } };
const FQDN = "bench.gw.test";

interface Wrk { rps: number; p99ms: number }

function wrk(url: string, hostsFile: string): Wrk {
  // A private mount namespace: /etc/hosts is ours for wrk alone.
  const r = spawnSync("unshare", ["-m", "sh", "-c", `mount --bind "$0" /etc/hosts && exec wrk -t2 -c${connections} -d${seconds}s --latency "$1"`, hostsFile, url], { encoding: "utf8", timeout: (seconds + 30) * 1000 });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(r.stdout);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(r.stdout);
  if (!rps || !p99) throw new Error(`wrk output not understood: ${r.stdout}`);
  if (errors) say(`  (wrk: ${errors[0]})`);
  const p99ms = Number(p99[1]) * (p99[2] === "us" ? 0.001 : p99[2] === "s" ? 1000 : 1);
  return { rps, p99ms };
}

function nginx(conf: string, ns?: string): ChildProcess {
  const cmd = ["nginx", "-c", conf, "-g", "daemon off;"];
  const child = spawn(ns ? "ip" : cmd[0]!, ns ? ["netns", "exec", ns, ...cmd] : cmd.slice(1), { stdio: "ignore" });
  hooks.push(() => { child.kill("SIGQUIT"); });
  return child;
}

const nginxBase = (dir: string) => `user root; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log; events { worker_connections 4096; }`;
const temps = (dir: string) => `access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`;

async function main(): Promise<void> {
  const dir = tempDir(t, "bench-gateway");
  const log = pino({ level: "silent" });
  // The backend: nginx serving a static page (fast enough not to be the bottleneck), in its own namespace.
  const be = await backendNs(t, dir, "placeholder\n", 8081);
  be.stop();
  const beDir = join(dir, "backend-nginx");
  mkdirSync(beDir, { recursive: true });
  writeFileSync(join(beDir, "index.html"), "hello from the backend\n");
  writeFileSync(join(beDir, "nginx.conf"), `${nginxBase(beDir)} http { ${temps(beDir)} keepalive_requests 100000; server { listen ${be.ip}:8081; root ${beDir}; } }`);
  nginx(join(beDir, "nginx.conf"), be.ns);
  const backendUrl = `http://${be.ip}:8081/`;
  await waitFor("backend nginx", () => spawnSync("curl", ["-s", "-m", "1", backendUrl]).stdout.toString().includes("hello"));

  // One certificate for the name, used by both proxies.
  const key = join(dir, "key.pem"), crt = join(dir, "crt.pem"), pem = join(dir, "full.pem");
  spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", crt, "-days", "1", "-subj", `/CN=${FQDN}`, "-addext", `subjectAltName=DNS:${FQDN}`]);
  writeFileSync(pem, spawnSync("cat", [crt, key]).stdout);
  const hosts = join(dir, "hosts");
  writeFileSync(hosts, `127.0.0.1 localhost\n127.0.0.1 ${FQDN}\n`);

  // Our gateway.
  const [gwHttp, gwHttps, ngxHttps] = [await freePort(), await freePort(), await freePort()];
  const svc = new GatewayService({ domain: "gw.test", ipv4: "198.51.100.1", bind: "127.0.0.1", httpPort: gwHttp, httpsPort: gwHttps }, join(dir, "node"), log);
  hooks.push(() => svc.stop());
  await svc.start();
  const route = routeOf("1-bench", { name: "bench", type: "gateway-name-proxy", version: 0, description: "", data: { name: "bench", backends: [`http://${be.ip}:8081`], tlsPassthrough: false } }, "gw.test", { ownNetworks: [be.range] });
  const t0 = performance.now();
  await svc.ensure({ ...route, certificate: pem });
  await waitFor("gateway serving", () => spawnSync("curl", ["-s", "-k", "-m", "1", "--resolve", `${FQDN}:${gwHttps}:127.0.0.1`, `https://${FQDN}:${gwHttps}/`]).stdout.toString().includes("hello"), { stepMs: 5 });
  const readyMs = performance.now() - t0;

  // The anchor: nginx as a hand-written reverse proxy, same certificate, keep-alive to the backend.
  const pxDir = join(dir, "proxy-nginx");
  mkdirSync(pxDir, { recursive: true });
  writeFileSync(join(pxDir, "nginx.conf"), `${nginxBase(pxDir)} http { ${temps(pxDir)} upstream be { server ${be.ip}:8081; keepalive 64; }
    server { listen 127.0.0.1:${ngxHttps} ssl; server_name ${FQDN}; ssl_certificate ${pem}; ssl_certificate_key ${pem}; keepalive_requests 100000;
      location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; } } }`);
  nginx(join(pxDir, "nginx.conf"));
  await waitFor("nginx proxy", () => spawnSync("curl", ["-s", "-k", "-m", "1", "--resolve", `${FQDN}:${ngxHttps}:127.0.0.1`, `https://${FQDN}:${ngxHttps}/`]).stdout.toString().includes("hello"));

  say(`wrk -t2 -c${connections} -d${seconds}s, HTTPS keep-alive, one backend (nginx static page in a namespace)`);
  const gw = wrk(`https://${FQDN}:${gwHttps}/`, hosts);
  say(`  gateway (HAProxy via zos): ${gw.rps.toFixed(0)} req/s, p99 ${gw.p99ms.toFixed(2)} ms`);
  const px = wrk(`https://${FQDN}:${ngxHttps}/`, hosts);
  say(`  nginx reverse proxy:       ${px.rps.toFixed(0)} req/s, p99 ${px.p99ms.toFixed(2)} ms`);
  const direct = wrk(backendUrl, hosts);
  say(`  backend directly (HTTP):   ${direct.rps.toFixed(0)} req/s, p99 ${direct.p99ms.toFixed(2)} ms`);
  const ratio = gw.rps / px.rps;
  say(`ratio gateway / nginx proxy: ${ratio.toFixed(2)} (bar: ≥ 0.8); gateway / direct: ${(gw.rps / direct.rps).toFixed(2)}`);
  say(`new route served ${readyMs.toFixed(0)} ms after ensure (certificate already at hand)`);
  if (json) console.log(JSON.stringify({ connections, seconds, gateway: gw, nginxProxy: px, direct, ratio, readyMs }));
}

main().catch((err) => { console.error(err); process.exitCode = 1; }).finally(async () => {
  for (const h of hooks.splice(0).reverse()) { try { await h(); } catch { /* best effort */ } }
});

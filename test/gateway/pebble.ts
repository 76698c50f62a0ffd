// The ACME side of the gateway tests: dnsmasq answering a test domain with 127.0.0.1 (how pebble
// finds the gateway for its HTTP-01 check) and pebble as the CA, both on free loopback ports, both
// stopped when the test ends. `root` is the PEM of the CA that signs the issued certificates.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AfterHooks } from "../support.js";
import { freePort, waitFor } from "../support.js";

export interface Pebble { directory: string; caCertificates: string; root: string; dnsPort: number }

export async function startPebble(t: AfterHooks, dir: string, domain: string, gatewayHttpPort: number): Promise<Pebble> {
  const kids: ChildProcess[] = [];
  t.after(async () => {
    for (const k of kids) { if (k.exitCode === null) { const gone = new Promise((r) => k.once("exit", r)); k.kill("SIGKILL"); await gone; } }
  });
  const dnsPort = await freePort();
  kids.push(spawn("dnsmasq", ["--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-daemon", `--port=${dnsPort}`, "--listen-address=127.0.0.1", "--bind-interfaces",
    `--address=/${domain}/127.0.0.1`, `--pid-file=${join(dir, "dnsmasq.pid")}`], { stdio: "ignore" }));
  // pebble's own HTTPS certificate (its API), trusted by lego through LEGO_CA_CERTIFICATES.
  const cert = join(dir, "pebble-api.pem"), key = join(dir, "pebble-api.key");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "pipe" });
  const [api, mgmt] = [await freePort(), await freePort()];
  writeFileSync(join(dir, "pebble.json"), JSON.stringify({ pebble: {
    listenAddress: `127.0.0.1:${api}`, managementListenAddress: `127.0.0.1:${mgmt}`, certificate: cert, privateKey: key,
    httpPort: gatewayHttpPort, tlsPort: 5001, ocspResponderURL: "", externalAccountBindingRequired: false,
  } }));
  kids.push(spawn("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], {
    stdio: "ignore", env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" },
  }));
  const root = join(dir, "pebble-root.pem");
  await waitFor("pebble's root", () => {
    const pem = execFileSync("curl", ["-s", "-k", "-m", "2", `https://127.0.0.1:${mgmt}/roots/0`], { encoding: "utf8" });
    if (!pem.includes("BEGIN CERTIFICATE")) return false;
    writeFileSync(root, pem);
    return true;
  });
  return { directory: `https://127.0.0.1:${api}/dir`, caCertificates: cert, root, dnsPort };
}

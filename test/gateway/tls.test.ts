// TLS terminated at the gateway with a certificate from an ACME CA: pebble (its HTTP-01 check
// reaching the gateway's HAProxy, which hands /.well-known/acme-challenge/ to lego), then curl
// --cacert with pebble's root gets the page over HTTPS and HTTP is redirected. A name the CA
// refuses (it does not resolve to the gateway) fails with the CA's reason and is not served.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import pino from "pino";
import { GatewayService } from "../../src/node/gateway/index.js";
import { routeOf } from "../../src/gateway/index.js";
import { freePort, tempDir } from "../support.js";
import { backendNs } from "./backend-ns.js";
import { startPebble } from "./pebble.js";

const run = promisify(execFile);
const log = pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });

test("a name gets a certificate from pebble and is served over HTTPS; a refused one is not served", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, "gw-tls");
  const web = await backendNs(t, dir, "over tls\n");
  const [httpPort, httpsPort, challengePort] = [await freePort(), await freePort(), await freePort()];
  const ca = await startPebble(t, dir, "gw.test", httpPort);
  const svc = new GatewayService({
    domain: "gw.test", ipv4: "198.51.100.1", bind: "127.0.0.1", httpPort, httpsPort, checkIntervalMs: 200,
    acme: { directory: ca.directory, caCertificates: ca.caCertificates, email: "farmer@gw.test", challengePort },
  }, dir, log);
  t.after(() => svc.stop());
  await svc.start();
  const policy = { ownNetworks: [web.range] };
  const t0 = performance.now();
  await svc.ensure(routeOf("3-web", { name: "web", type: "gateway-name-proxy", version: 0, description: "", data: { name: "hello", backends: [web.url], tlsPassthrough: false } }, "gw.test", policy));
  t.diagnostic(`served with its certificate ${(performance.now() - t0).toFixed(0)} ms after ensure began`);
  const https = await run("curl", ["-sS", "-m", "5", "--cacert", ca.root, "--resolve", `hello.gw.test:${httpsPort}:127.0.0.1`, `https://hello.gw.test:${httpsPort}/`]);
  assert.equal(https.stdout, "over tls\n");
  const http = await run("curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--resolve", `hello.gw.test:${httpPort}:127.0.0.1`, `http://hello.gw.test:${httpPort}/x`]);
  assert.equal(http.stdout, `301 https://hello.gw.test:${httpsPort}/x`);

  // Not in the CA's DNS: the CA refuses, the error carries its reason, and the name is not served.
  await assert.rejects(
    svc.ensure(routeOf("4-shop", { name: "shop", type: "gateway-fqdn-proxy", version: 0, description: "", data: { fqdn: "shop.example.org", backends: [web.url], tlsPassthrough: false } }, "gw.test", policy)),
    (e: Error & { code?: string }) => e.code === "deployment_failed" && /shop\.example\.org/.test(e.message),
  );
  assert.equal(svc.route("4-shop"), undefined);
  const other = await run("curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", `shop.example.org:${httpPort}:127.0.0.1`, `http://shop.example.org:${httpPort}/`]);
  assert.equal(other.stdout, "404");
});

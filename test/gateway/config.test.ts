// The gateway's pure part: host names, the backend policy (what a gateway may never reach), routes
// from workloads, and the generated HAProxy configuration — which the real haproxy must accept.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkBackend, checkHostname, fqdnOf, renderCrtList, renderHaproxyConfig, routeOf, type Route } from "../../src/gateway/index.js";
import { tempDir } from "../support.js";

const own = { ownNetworks: ["10.20.0.0/16"], nodeAddresses: ["203.0.113.7"] };

test("host names: valid ones are lower-cased, invalid ones refused with the reason", () => {
  assert.equal(checkHostname("Shop.Example.ORG"), "shop.example.org");
  assert.equal(fqdnOf("hello", "gw1.example"), "hello.gw1.example");
  for (const bad of ["example", "a..b", "-a.example", "a-.example", "a b.example", "a.example\n", "x.123", "a;b.example", `${"a".repeat(64)}.example`, "a.example frontend x"]) {
    assert.throws(() => checkHostname(bad), { code: "invalid" }, bad);
  }
  assert.throws(() => fqdnOf("under_score", "gw1.example"), { code: "invalid" });
});

test("backends: own network and public addresses pass; loopback, link-local, the node itself and others' networks are refused", () => {
  assert.deepEqual(checkBackend("http://10.20.1.2:80", own), { host: "10.20.1.2", port: 80 });
  assert.deepEqual(checkBackend("198.51.100.4:8080", own), { host: "198.51.100.4", port: 8080 });
  const refused: Array<[string, RegExp]> = [
    ["127.0.0.1:80", /loopback/], ["http://169.254.169.254:80", /link-local/], ["0.0.0.0:80", /reserved/], ["224.0.0.1:80", /multicast/],
    ["10.21.0.5:80", /outside your own networks/], ["192.168.1.1:80", /outside your own networks/], ["172.16.0.1:22", /outside/],
    ["203.0.113.7:9900", /the gateway node itself/], ["http://localhost:80", /not IPv4:port/], ["10.20.1.2", /not IPv4:port/],
    ["10.20.1.2:0", /out of range/], ["10.20.1.2:70000", /out of range/], ["10.20.1.300:80", /not an IPv4 address/],
  ];
  for (const [b, why] of refused) assert.throws(() => checkBackend(b, own), (e: Error & { code?: string }) => e.code === "invalid" && why.test(e.message), b);
});

test("routes: a name proxy serves NAME.DOMAIN; an fqdn proxy may not take a name under the gateway's domain", () => {
  const r = routeOf("7-web", { name: "web", type: "gateway-name-proxy", version: 0, description: "", data: { name: "hello", backends: ["http://10.20.1.2:80"], tlsPassthrough: false } }, "gw1.example", own);
  assert.deepEqual(r, { id: "7-web", fqdn: "hello.gw1.example", backends: [{ host: "10.20.1.2", port: 80 }], tlsPassthrough: false });
  assert.throws(() => routeOf("8-x", { name: "x", type: "gateway-fqdn-proxy", version: 0, description: "", data: { fqdn: "steal.gw1.example", backends: ["10.20.1.2:80"], tlsPassthrough: false } }, "gw1.example", own), { code: "conflict" });
  assert.throws(() => routeOf("8-x", { name: "x", type: "gateway-fqdn-proxy", version: 0, description: "", data: { fqdn: "shop.example.org", backends: ["127.0.0.1:80"], tlsPassthrough: false } }, "gw1.example", own), { code: "invalid" });
});

const routes = (dir: string): Route[] => [
  { id: "12-b", fqdn: "b.gw1.example", backends: [{ host: "10.20.1.2", port: 80 }, { host: "10.20.2.2", port: 80 }], tlsPassthrough: false },
  { id: "11-a", fqdn: "a.gw1.example", backends: [{ host: "10.20.1.3", port: 443 }], tlsPassthrough: true },
  { id: "13-c", fqdn: "shop.example.org", backends: [{ host: "198.51.100.4", port: 8080 }], tlsPassthrough: false, certificate: join(dir, "c.pem") },
];

test("config: by Host and SNI, redirects for TLS names, 404 for unknown names, deterministic", (t) => {
  const dir = tempDir(t, "gw-config");
  const opts = { bind: "127.0.0.1", httpPort: 8080, httpsPort: 8443, stateDir: dir };
  const text = renderHaproxyConfig(routes(dir), opts);
  assert.equal(renderHaproxyConfig([...routes(dir)].reverse(), opts), text, "order of routes does not matter");
  assert.match(text, /use_backend http_12-b if \{ var\(txn.host\) -m str b.gw1.example \}/);
  assert.match(text, /redirect prefix https:\/\/a.gw1.example:8443 code 301 if \{ var\(txn.host\) -m str a.gw1.example \}/);
  assert.match(text, /redirect prefix https:\/\/shop.example.org:8443 code 301 if \{ var\(txn.host\) -m str shop.example.org \}/);
  assert.match(text, /use_backend tls_11-a if \{ req_ssl_sni -m str a.gw1.example \}/);
  assert.match(text, /use_backend terminate if \{ req_ssl_sni -m str shop.example.org \}/);
  assert.match(text, /server s1 10.20.2.2:80/);
  const tlsFrontend = /frontend tls\n([\s\S]*?)\n\n/.exec(text)![1]!;
  assert.doesNotMatch(tlsFrontend, /default_backend/, "an unknown name is never handed to someone's backend");
  assert.equal([...text.matchAll(/default_backend (\S+)/g)].map((m) => m[1]).join(), "no_such_name,no_such_name");
  assert.equal(renderCrtList(routes(dir)), `${join(dir, "c.pem")} [alpn http/1.1] shop.example.org\n`);
});

test("config: the real haproxy accepts it (with and without certificates, and empty)", (t) => {
  const dir = tempDir(t, "gw-haproxy-c");
  const pem = join(dir, "c.pem");
  const key = join(dir, "k.pem");
  const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", join(dir, "crt.pem"), "-days", "1", "-subj", "/CN=shop.example.org"], { encoding: "utf8" });
  assert.equal(gen.status, 0, gen.stderr);
  writeFileSync(pem, spawnSync("cat", [join(dir, "crt.pem"), key], { encoding: "utf8" }).stdout);
  const opts = { bind: "127.0.0.1", httpPort: 8080, httpsPort: 8443, stateDir: dir };
  for (const [label, rs] of [["full", routes(dir)], ["no certificates", routes(dir).map((r) => ({ ...r, certificate: undefined }))], ["empty", []]] as const) {
    writeFileSync(join(dir, "crt-list"), renderCrtList([...rs]));
    writeFileSync(join(dir, "haproxy.cfg"), renderHaproxyConfig([...rs], opts));
    const r = spawnSync("haproxy", ["-c", "-f", join(dir, "haproxy.cfg")], { encoding: "utf8" });
    assert.equal(r.status, 0, `${label}: ${r.stdout}${r.stderr}`);
  }
});

test("zos gateway flags: parsed into the node's gateway config; a bad domain, address or half a pair refused", async () => {
  const { zosCommand } = await import("../../src/node/index.js");
  const base = ["--ledger", "http://127.0.0.1:1", "--data", "/tmp/x", "--farm", "1", "--underlay", "127.0.0.1"];
  const parse = async (extra: string[]) => {
    let got: unknown;
    const cmd = zosCommand(async (c) => { got = c.gateway; });
    cmd.exitOverride();
    await cmd.parseAsync([...base, ...extra], { from: "user" });
    return got;
  };
  assert.equal(await parse([]), undefined);
  assert.deepEqual(await parse(["--gateway-domain", "GW1.example", "--public-ip", "203.0.113.7", "--acme-directory", "https://ca/dir"]), {
    domain: "gw1.example", ipv4: "203.0.113.7", httpPort: 80, httpsPort: 443, acme: { directory: "https://ca/dir", email: "farmer@localhost", challengePort: 8402 },
  });
  await assert.rejects(parse(["--gateway-domain", "bad domain", "--public-ip", "203.0.113.7"]), { code: "invalid" });
  await assert.rejects(parse(["--gateway-domain", "gw1.example", "--public-ip", "203.0.113"]), { code: "invalid" });
  await assert.rejects(parse(["--gateway-domain", "gw1.example"]), { code: "invalid" });
});

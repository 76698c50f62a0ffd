import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { advertisedUrl } from "../../src/ledger/index.js";
import { ERROR_CATALOGUE, ValidationError } from "../../src/core/index.js";
import { BCDB } from "./helpers.js";

test("advertised URL: derived from --host/--port, or --advertise-url as given", () => {
  assert.equal(advertisedUrl({ host: "127.0.0.1", port: 8081 }), "http://127.0.0.1:8081");
  assert.equal(advertisedUrl({ host: "::1", port: 8081 }), "http://[::1]:8081");
  assert.equal(advertisedUrl({ host: "ledger-a.example", port: 80 }), "http://ledger-a.example:80");
  assert.equal(advertisedUrl({ host: "0.0.0.0", port: 8081, advertiseUrl: "http://10.0.0.5:8081/" }), "http://10.0.0.5:8081");
  assert.equal(advertisedUrl({ host: "::", port: 8081, advertiseUrl: "https://bcdb.example" }), "https://bcdb.example");
});

test("advertised URL: a wildcard host is refused with a hint to pass --advertise-url", () => {
  for (const host of ["0.0.0.0", "::", "0:0::0", "0"]) {
    assert.throws(() => advertisedUrl({ host, port: 8081 }),
      (e: unknown) => e instanceof ValidationError && /wildcard/.test(e.message) && /--advertise-url/.test(e.hint ?? ""), host);
  }
  for (const advertiseUrl of ["http://0.0.0.0:8081", "http://[::]:8081", "ftp://10.0.0.5", "not a url", "http://10.0.0.5:8081/tx"]) {
    assert.throws(() => advertisedUrl({ host: "127.0.0.1", port: 8081, advertiseUrl }), ValidationError, advertiseUrl);
  }
});

test("bcdb --etcd --host 0.0.0.0 without --advertise-url refuses to start and says why", () => {
  // Refused before etcd is contacted (port 1 has nothing listening), so nothing is written anywhere.
  const r = spawnSync(process.execPath, [BCDB, "--etcd", "http://127.0.0.1:1", "--host", "0.0.0.0", "--port", "0", "--data", "/nonexistent/bcdb-advertise-test"],
    { encoding: "utf8", timeout: 20_000 });
  assert.equal(r.status, ERROR_CATALOGUE.invalid.exit, r.stderr); // bad input: exit 2
  assert.match(r.stderr, /wildcard address/);
  assert.match(r.stderr, /--advertise-url/);
  assert.equal(r.stdout, "");
});

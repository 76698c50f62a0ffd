// The SDK's typed clients, made from config manager instances: zdb (ioredis on the namespace, with
// the stored password, against a real 0-db) and ssh (against a real sshd).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ForbiddenError, NotFoundError, UnavailableError, ValidationError, generateKeyPair } from "../../../src/core/index.js";
import { ConfigManager } from "../../../src/kosmos/configs/index.js";
import { Clients } from "../../../src/kosmos/clients/index.js";
import { startZdbProc, redisCli } from "../../zdb/helpers.js";
import { freePort, tempDir } from "../../support.js";
import { startSshd } from "./sshd.js";

test("zdb(name): the namespace is selected with the stored password, which never crosses the wire", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "kosmos-clients");
  const z = await startZdbProc(t, dir, ["--admin", "adm-pw"]);
  const admin = (...args: string[]) => redisCli(z.port, ["-a", "adm-pw", "--no-auth-warning", ...args]);
  assert.equal(await admin("NSNEW", "app"), "OK");
  assert.equal(await admin("NSSET", "app", "password", "s3cret-pw"), "OK");
  assert.equal(await admin("NSSET", "app", "public", "0"), "OK");

  const m = new ConfigManager(dir, generateKeyPair());
  await m.set("zdb", "logs", { host: "127.0.0.1", port: z.port, namespace: "app", password: "s3cret-pw" });
  const clients = new Clients(m);
  const r = await clients.zdb("logs");
  t.after(() => r.disconnect());
  await r.call("SET", "greeting", "hello");
  assert.equal(String(await r.call("GET", "greeting")), "hello");
  // redis-cli in that namespace sees it; the default namespace does not.
  assert.match(await redisCli(z.port, [], "SELECT app s3cret-pw\nGET greeting\n"), /hello/);
  assert.doesNotMatch(await redisCli(z.port, ["GET", "greeting"]), /hello/);

  await m.set("zdb", "bad", { port: z.port, namespace: "app", password: "wrong" });
  await assert.rejects(clients.zdb("bad"), (e) => e instanceof ForbiddenError && /access denied/.test(e.message));
  await assert.rejects(clients.zdb({ port: z.port, namespace: "app" }), ForbiddenError, "private namespace, no password");
  await assert.rejects(clients.zdb({ port: z.port, namespace: "nope" }), NotFoundError);
  await assert.rejects(clients.zdb({ port: await freePort(), namespace: "app" }), UnavailableError);
  await assert.rejects(clients.zdb({ port: 99999 } as never), ValidationError);
  await assert.rejects(clients.zdb("missing"), NotFoundError);
});

test("ssh(name): an executor from the stored host, key and pinned host key", { timeout: 60_000 }, async (t) => {
  const host = await startSshd(t);
  const dir = tempDir(t, "kosmos-clients");
  const m = new ConfigManager(dir, generateKeyPair());
  await m.set("ssh", "box", { host: host.host, privateKey: host.privateKey, hostKey: host.hostKey });
  const x = await new Clients(m).ssh("box");
  t.after(() => x.close());
  const r = await x.run("ip -4 -o addr show scope global | awk '{print $4}'");
  assert.equal(r.stdout.trim(), `${host.host}/30`, "the command ran inside the test host's namespace");
  await m.set("ssh", "box", { hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, { merge: true });
  await assert.rejects(new Clients(m).ssh("box"), /not the pinned/);
});

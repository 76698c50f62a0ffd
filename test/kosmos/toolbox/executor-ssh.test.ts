// The SSH executor against a real OpenSSH server in its own network namespace: the shared suite,
// then what only SSH has (host key pinning, refused credentials, no server).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { ForbiddenError, SignatureError, UnavailableError } from "../../../src/core/index.js";
import { SshExecutor } from "../../../src/kosmos/executors/index.js";
import { runConformance } from "./executor-conformance.js";
import { startSshd, type SshHost } from "./sshd.js";

// One server for the file: its hooks run at the end of the file.
const hooks: Array<() => void | Promise<void>> = [];
let host: SshHost;
before(async () => { host = await startSshd({ after: (fn) => { hooks.unshift(fn); } }); });
after(async () => { for (const h of hooks) await h(); });

runConformance({
  name: "ssh",
  make: async () => SshExecutor.connect({ host: host.host, port: host.port, user: host.user, privateKey: host.privateKey, hostKey: host.hostKey }),
});

test("ssh: the host key is pinned, wrong credentials are forbidden, no server is unavailable", async () => {
  const x = await SshExecutor.connect({ host: host.host, privateKey: host.privateKey });
  assert.equal(x.hostKey, host.hostKey, "the fingerprint seen is ssh-keygen's");
  assert.equal(x.description, `ssh root@${host.host}:22`);
  await x.close();
  await assert.rejects(SshExecutor.connect({ host: host.host, privateKey: host.privateKey, hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }),
    (e) => e instanceof SignatureError && /not the pinned/.test(e.message));
  const other = execFileSync("sh", ["-c", "d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && cat $d/k && rm -r $d"], { encoding: "utf8" });
  await assert.rejects(SshExecutor.connect({ host: host.host, privateKey: other }), (e) => e instanceof ForbiddenError && /refused the credentials/.test(e.message));
  await assert.rejects(SshExecutor.connect({ host: host.host, port: 2, privateKey: host.privateKey, readyTimeoutMs: 3000 }), UnavailableError);
});

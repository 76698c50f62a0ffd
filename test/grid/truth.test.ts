// Issue 10 as a user sees it on the local grid (real processes): a container that cannot start fails
// `kosmos deploy` at once with exit 10 (not a timeout), and `kosmos show` keeps saying error; a crash-looping container turns `error` in `kosmos ls`
// (RESTARTS column) and `kosmos show` prints its last output; a container and the 0-db its logs go
// to are one signed step, so a client killed right after submitting leaves a whole deployment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { runBin, waitFor, REPO } from "../kosmos/helpers.js";
import { LedgerClient } from "../../src/ledger/client/index.js";

test("kosmos: a container that cannot start is exit 10 at once and stays error; a crash loop shows in ls and show", { timeout: 180_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "grid-truth-"));
  const data = join(dir, "g");
  t.after(async () => {
    await runBin("grid", ["down", "--data", data], {}, undefined, 60_000);
    rmSync(dir, { recursive: true, force: true });
  });
  const up = await runBin("grid", ["up", "--json", "--nodes", "1", "--data", data], { HELLO_ZDB_PASSWORD: "pw-" + Math.random().toString(36).slice(2) }, undefined, 120_000);
  assert.equal(up.code, 0, up.stderr);
  const r = up.json();
  const user = { KOSMOS_HOME: join(data, "user"), KOSMOS_PASSPHRASE: readFileSync(join(data, "user", ".passphrase"), "utf8").trim(), KOSMOS_LEDGER: r.ledger, KOSMOS_HUB: r.hub };

  // An flist whose program is there and executable (kosmos's checks pass) but cannot be executed:
  // its interpreter does not exist. Only the node finds out.
  const root = join(dir, "broken");
  mkdirSync(join(root, "bin"), { recursive: true });
  writeFileSync(join(root, "bin", "app"), "#!/no/such/interpreter\n");
  chmodSync(join(root, "bin", "app"), 0o755);
  const built = await runBin("kosmos", ["flist", "build", root, "--name", "broken", "--json"], user);
  assert.equal(built.code, 0, built.stderr);
  const file = join(dir, "broken.yaml");
  writeFileSync(file, ["name: broken", "containers:", "  - name: app", `    flist: ${built.json().address}`, "    entrypoint: /bin/app", "    memory: 32MiB", "    rootfsSize: 32MiB", ""].join("\n"));
  const t0 = Date.now();
  const dep = await runBin("kosmos", ["deploy", file, "--timeout", "90"], user, undefined, 120_000);
  const took = Date.now() - t0;
  t.diagnostic(`deploy of a container that cannot start: exit ${dep.code} in ${took} ms: ${dep.stderr.trim().split("\n").at(-1)}`);
  assert.equal(dep.code, 10, `deployment_failed, not a timeout (12): ${dep.stderr}`);
  assert.ok(took < 60_000, "at once, not at the timeout");
  assert.match(dep.stderr, /app: /);
  // A process that cannot start is a permanent failure: error, with why, and it stays (never back to init).
  for (let i = 0; i < 4; i++) {
    const s = await runBin("kosmos", ["show", "broken"], user);
    assert.match(s.stdout, /WORKLOAD\s+TYPE\s+STATE\s+RESTARTS\s+OOM\s+MESSAGE/);
    assert.match(s.stdout, /^app\s+container\s+error\s+-\s+-\s+container \S+ did not start/m, s.stdout);
    await new Promise((res) => setTimeout(res, 750));
  }

  // A failed deployment still holds its reservation (and is billed) until cancelled: the user does.
  const cancel = await runBin("kosmos", ["cancel", "broken"], user);
  assert.equal(cancel.code, 0, cancel.stderr);

  // A crash loop (the example flist's shell): error after 5 restarts, its output in show.
  const flist = (JSON.parse(readFileSync(join(data, "grid.json"), "utf8")) as { hub: { example: { address: string } } }).hub.example.address;
  const crashFile = join(dir, "crash.yaml");
  writeFileSync(crashFile, ["name: crash", "containers:", "  - name: crashy", `    flist: ${flist}`,
    `    entrypoint: /bin/sh -c 'echo crash-marker; sleep 0.2; exit 3'`, "    memory: 32MiB", "    rootfsSize: 32MiB", ""].join("\n"));
  const crash = await runBin("kosmos", ["deploy", crashFile, "--timeout", "90"], user, undefined, 120_000);
  assert.ok(crash.code === 0 || crash.code === 10, `it starts (ok), or is already seen failing: ${crash.stderr}`);
  const ls = await waitFor("ls to show the crash loop", async () => {
    const l = await runBin("kosmos", ["ls"], user);
    return /crashy:error/.test(l.stdout) ? l.stdout : undefined;
  }, { timeoutMs: 60_000, stepMs: 1000 });
  assert.match(ls, /NAME\s+CONTRACT\s+NODE\s+STATE\s+VERSION\s+WORKLOADS\s+RESTARTS/);
  const row = ls.split("\n").find((l) => l.startsWith("crash "))!;
  assert.ok(Number(/crashy:error\s+(\d+)/.exec(row)?.[1]) >= 5, row);
  const show = (await runBin("kosmos", ["show", "crash"], user)).stdout;
  assert.match(show, /^crashy\s+container\s+error\s+\d+\s+0\s+crash loop: 5 restarts within 60s/m);
  assert.match(show, /crashy, its last output:\n {2}crash-marker/);

  // One step: a 0-db and a container logging into it; kosmos killed (-9) as soon as the contract is
  // on the ledger. The node still makes both (the 0-db first), as one version.
  const cancelCrash = await runBin("kosmos", ["cancel", "crash"], user);
  assert.equal(cancelCrash.code, 0, cancelCrash.stderr);
  const oneFile = join(dir, "one.yaml");
  writeFileSync(oneFile, ["name: one", "zdbs:", "  - name: lg", "    size: 64MiB", "    mode: seq", "    password: { env: LG_PW }", "containers:", "  - name: talker", `    flist: ${flist}`,
    "    entrypoint: /bin/sh -c 'echo one-step-line; exec sleep 1000'", "    memory: 32MiB", "    rootfsSize: 32MiB", "    logs: { zdb: lg }", ""].join("\n"));
  const ledger = new LedgerClient(r.ledger);
  const known = new Set((await ledger.contracts({})).map((c) => c.id));
  const child = spawn(process.execPath, [join(REPO, "bin", "kosmos"), "deploy", oneFile], { env: { ...process.env, ...user, LG_PW: "lg-secret" }, stdio: "ignore" });
  const exited = new Promise((res) => child.once("exit", res));
  const created = await waitFor("the contract on the ledger", async () => (await ledger.contracts({})).find((c) => !known.has(c.id)), { timeoutMs: 30_000, stepMs: 20 });
  child.kill("SIGKILL");
  await exited;
  assert.equal(created.deployment.workloads.length, 2, "both workloads in the one signed version");
  const whole = await waitFor("both workloads ok", async () => {
    const c = await ledger.contract(created.id);
    return c.results.lg?.state === "ok" && c.results.talker?.state === "ok" ? c : undefined;
  }, { timeoutMs: 30_000 });
  assert.equal(whole.deployment.version, 0);
  const logs = await waitFor("the line in the 0-db", async () => {
    const l = await runBin("kosmos", ["logs", "one", "talker"], { ...user, KOSMOS_LOGS_PASSWORD: "lg-secret" });
    return /one-step-line/.test(l.stdout) ? l : undefined;
  }, { timeoutMs: 20_000, stepMs: 500 });
  assert.equal(logs.code, 0);
});

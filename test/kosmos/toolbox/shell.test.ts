// `kosmos shell` driven as a person drives it: in a real terminal (tmux), keys sent, the screen
// read back. And `kosmos run` with the same objects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, runBin, startLedger, waitFor } from "../helpers.js";

test("kosmos shell in a terminal: grid and config in scope, top-level await, Tab completion, .help, history kept in the home", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kosmos-shell-"));
  const sock = `kosmos-test-${randomBytes(4).toString("hex")}`;
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", sock, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => { try { tmux("kill-server"); } catch { /* already gone */ } });
  const ledger = await startLedger(join(dir, "ledger"), { t });
  t.after(() => rmSync(dir, { recursive: true, force: true })); // after the ledger and tmux are gone
  const env = { KOSMOS_HOME: join(dir, "home"), KOSMOS_PASSPHRASE: "shell pass", KOSMOS_LEDGER: ledger.url };
  assert.equal((await runBin("kosmos", ["identity", "new"], env)).code, 0);

  const start = () => tmux("new-session", "-d", "-s", "k", "-x", "200", "-y", "50",
    ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]), `${process.execPath} ${join(REPO, "bin", "kosmos")} shell`);
  const screen = () => tmux("capture-pane", "-p", "-t", "k", "-S", "-200");
  const type = (text: string) => { tmux("send-keys", "-t", "k", "-l", text); };
  const key = (...keys: string[]) => { tmux("send-keys", "-t", "k", ...keys); };
  const see = (what: string, re: RegExp) => waitFor(`the screen to show ${what}`, () => re.test(screen()), { timeoutMs: 20_000 }).catch((e) => { throw new Error(`${(e as Error).message}\n--- screen ---\n${screen()}`); });

  start();
  await see("the prompt", /^kosmos>\s*$/m);

  type(".help"); key("Enter");
  await see(".help's list", /In scope:[\s\S]*grid[\s\S]*config[\s\S]*ssh\(name[\s\S]*zdb\(name[\s\S]*Commands: .*\.exit/);

  type("'nodes:' + (await grid.nodes()).length"); key("Enter");
  await see("the SDK's answer from the ledger", /^'nodes:0'$/m);

  type("(await config.set('zdb', 'logs', { port: '9901', password: 'pw' })).port * 2"); key("Enter");
  await see("the typed, coerced instance", /^19802$/m);

  // Completion: `config.li` + Tab becomes config.list; `grid.` + Tab Tab lists the SDK's methods.
  type("config.li"); key("Tab");
  await see("config.li completed", /kosmos> config\.list$/m);
  type("()"); key("Enter");
  await see("the list", /type: 'zdb', name: 'logs'/);
  type("grid.de"); key("Tab");
  await see("grid.de completed", /kosmos> grid\.deploy$/m);
  key("C-u");
  type("grid.n"); key("Tab");
  await see("grid.n completed", /kosmos> grid\.nodes$/m);
  key("C-u");

  type("await zdb('nope')"); key("Enter");
  await see("a clear error, and the shell still there", /no zdb config named "nope"[\s\S]*kosmos>\s*$/);

  type(".exit"); key("Enter");
  await waitFor("the shell to end", () => { try { tmux("has-session", "-t", "k"); return false; } catch { return true; } }, { timeoutMs: 20_000 });
  const history = join(env.KOSMOS_HOME, "shell_history");
  assert.match(readFileSync(history, "utf8"), /config\.set\('zdb', 'logs'/);
  assert.equal(statSync(history).mode & 0o777, 0o600);

  // A new shell has the history: Up brings back the lines typed, the latest first.
  start();
  await see("the prompt again", /^kosmos>\s*$/m);
  key("Up");
  await see("the last line from history", /kosmos> \.exit$/m);
  key("Up");
  await see("the last command from history", /kosmos> await zdb\('nope'\)$/m);
  key("C-u"); key("C-d");
});

test("kosmos run: a script with the shell's objects, top-level await and argv; its errors end the command with their exit code", { timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "kosmos-run-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { KOSMOS_HOME: join(dir, "home"), KOSMOS_PASSPHRASE: "run pass" };
  await runBin("kosmos", ["identity", "new"], env);
  writeFileSync(join(dir, "ok.js"), [
    "#!/usr/bin/env kosmos-run",
    "await config.set('ssh', argv[0], { host: '10.9.8.7' });",
    "const r = await local.run(['sh', '-c', 'echo $0', 'from-local']);",
    "return { saved: config.list(), local: r.stdout.trim(), args: argv };",
  ].join("\n"));
  const ok = await runBin("kosmos", ["run", join(dir, "ok.js"), "box", "--json"], env);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(ok.json(), { saved: [{ type: "ssh", name: "box" }], local: "from-local", args: ["box"] });

  writeFileSync(join(dir, "missing.js"), "await config.get('zdb', 'absent');");
  const missing = await runBin("kosmos", ["run", join(dir, "missing.js")], env);
  assert.equal(missing.code, 5);
  assert.match(missing.stderr, /no zdb config named "absent"/);
  writeFileSync(join(dir, "grid.js"), "await grid.nodes();");
  const noLedger = await runBin("kosmos", ["run", join(dir, "grid.js")], env);
  assert.equal(noLedger.code, 2);
  assert.match(noLedger.stderr, /no ledger to talk to/);
  writeFileSync(join(dir, "bad.js"), "this is not javascript");
  assert.equal((await runBin("kosmos", ["run", join(dir, "bad.js")], env)).code, 2);
});

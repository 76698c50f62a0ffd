// `kosmos plan` and the checks `kosmos deploy` makes before it signs, end to end: a real ledger, a
// real hub (zhub over zdb) holding a real flist built by `kosmos flist build`; the test plays the
// nodes on the ledger (registers them, reports for them). Every refusal is checked to leave the
// ledger without a contract. Then the multi-signature side: the co-signer reads exactly what they
// sign without their passphrase, signs, and signing again says so; an update's plan shows its diff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LedgerClient, type Signer } from "../../src/ledger/client/index.js";
import { GiB, generateKeyPair, generateSealKeyPair } from "../../src/core/index.js";
import { runBin, startHub, startLedger, tempDir, waitFor, type Ledger } from "./helpers.js";

// Fresh means reported within two intervals (10 s): room for a slow CLI start on a loaded machine.
const REPORT_INTERVAL = 5;

test("kosmos plan: flist, entrypoint, node liveness, room and money checked before anything is signed", async (t) => {
  let b: Ledger | undefined;
  t.after(() => b?.stop());
  const dir = tempDir(t, "kosmos-plan-");
  b = await startLedger(join(dir, "ledger"), { args: ["--faucet", "--block-interval", "200", "--report-interval", String(REPORT_INTERVAL)] });
  const hub = await startHub(t, dir);
  const ledger = new LedgerClient(b.url);

  const farmer = ledger.signer(generateKeyPair());
  await farmer.ensureTwin();
  await farmer.send("farm.create", { name: "planfarm" });
  const farmId = (await ledger.farms())[0].id;
  const register = async (capacity: { cru: number; mru: number; sru: number; hru: number }): Promise<{ id: number; signer: Signer }> => {
    const signer = ledger.signer(generateKeyPair());
    const twinId = await signer.ensureTwin();
    await signer.send("node.register", { farmId, capacity, sealKey: generateSealKeyPair().publicKey, underlay: "10.9.9.9" });
    const id = (await ledger.nodes()).find((n) => n.twinId === twinId)!.id;
    return { id, signer };
  };
  const a = await register({ cru: 4, mru: 8 * GiB, sru: 100 * GiB, hru: 100 * GiB });
  // B is registered, has more free disk (the planner would prefer it), and never reports.
  const bNode = await register({ cru: 8, mru: 16 * GiB, sru: 900 * GiB, hru: 900 * GiB });
  assert.notEqual(a.id, bNode.id);
  const report = () => a.signer.send("node.report", { nodeId: a.id, uptime: 1, used: { cru: 0, mru: 0, sru: 0, hru: 0 } });
  await report();
  assert.equal((await ledger.node(bNode.id)).status, "down", "registering is not reporting: the ledger calls a node up only once it has reported");
  assert.equal((await ledger.node(a.id)).status, "up");
  const listed = await runBin("kosmos", ["nodes", "--json"], { KOSMOS_LEDGER: b.url, KOSMOS_HOME: join(dir, "nobody") });
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.json().map((n: { id: number; offered: boolean }) => [n.id, n.offered]), [[a.id, true], [bNode.id, false]]);
  assert.match((await runBin("kosmos", ["nodes"], { KOSMOS_LEDGER: b.url, KOSMOS_HOME: join(dir, "nobody") })).stdout, new RegExp(`^${bNode.id}\\s+\\d+\\s+down\\s+never\\s`, "m"));

  const alice = { KOSMOS_HOME: join(dir, "alice"), KOSMOS_PASSPHRASE: "alice pass", KOSMOS_LEDGER: b.url, KOSMOS_HUB: hub };
  const bob = { KOSMOS_HOME: join(dir, "bob"), KOSMOS_PASSPHRASE: "bob pass", KOSMOS_LEDGER: b.url };
  const carol = { KOSMOS_HOME: join(dir, "carol"), KOSMOS_PASSPHRASE: "carol pass", KOSMOS_LEDGER: b.url };
  for (const who of [alice, bob, carol]) assert.equal((await runBin("kosmos", ["identity", "new"], who)).code, 0);
  const aliceTwin = (await runBin("kosmos", ["wallet", "faucet", "5000000", "--json"], alice)).json().twinId as number;
  const bobTwin = (await runBin("kosmos", ["wallet", "faucet", "--json"], bob)).json().twinId as number;
  assert.equal((await runBin("kosmos", ["wallet", "faucet", "1000"], carol)).code, 0);

  // A real flist on the real hub: /bin/run is executable, /etc/motd is not.
  const root = join(dir, "app");
  mkdirSync(join(root, "bin"), { recursive: true });
  mkdirSync(join(root, "etc"), { recursive: true });
  writeFileSync(join(root, "bin", "run"), "#!/bin/sh\necho hi\n");
  chmodSync(join(root, "bin", "run"), 0o755);
  writeFileSync(join(root, "etc", "motd"), "hello\n");
  const built = await runBin("kosmos", ["flist", "build", root, "--name", "app", "--json"], alice);
  assert.equal(built.code, 0, built.stderr);
  const flist = built.json().address as string;
  assert.match(flist, /#[0-9a-f]{64}$/);

  const spec = (o: { name?: string; flist?: string; entrypoint?: string; memory?: string; node?: number; extra?: string } = {}) => {
    const f = join(dir, `${o.name ?? "web"}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(f, `name: ${o.name ?? "web"}\n${o.node ? `node: ${o.node}\n` : ""}containers:\n  - name: web\n    flist: "${o.flist ?? flist}"\n    entrypoint: ${o.entrypoint ?? "/bin/run"}\n`
      + `    memory: ${o.memory ?? "64MiB"}\n    rootfsSize: 64MiB\n    env: {MODE: a}\n    secretEnv: {TOKEN: {env: TOKEN}}\n${o.extra ?? ""}`);
    return f;
  };
  const envA = { ...alice, TOKEN: "tok-secret" };
  const noContracts = async (what: string) => assert.deepEqual(await ledger.contracts({}), [], `${what}: nothing may be on the ledger`);

  // The good plan: node A (B never reported), the flist pinned and checked, the runway; nothing signed.
  await report();
  const good = await runBin("kosmos", ["plan", spec(), "--json"], envA);
  assert.equal(good.code, 0, good.stderr);
  const p = good.json();
  assert.equal(p.node.id, a.id, "never placed on a node that has not reported");
  assert.equal(p.existing, null);
  assert.ok(p.checks.some((c: string) => /^container web: flist app [0-9a-f]{12} \(pinned, hash checked\) found, runs \/bin\/run$/.test(c)), p.checks.join("\n"));
  assert.ok(p.checks.some((c: string) => new RegExp(`^node ${a.id} reported \\d+ s ago$`).test(c)), p.checks.join("\n"));
  assert.equal(p.runway.enough, true);
  assert.equal(p.runway.coversSeconds, Math.floor(5_000_000 / p.runway.perPeriod) * 3600);
  await report();
  const human = await runBin("kosmos", ["plan", spec()], envA);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /your balance 5000000 covers \d+ d( \d+ h)? at \d+ per billing period of 1 h/);
  assert.match(human.stdout, /nothing was signed/);
  await noContracts("a plan");

  // Each mistake: its own error, typed (exit code), with a hint, and nothing signed.
  const refuse = async (env: NodeJS.ProcessEnv, args: string[], code: number, re: RegExp, hint?: RegExp) => {
    await report();
    const r = await runBin("kosmos", args, env);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, re);
    if (hint) assert.match(r.stderr, hint);
    return r;
  };
  await refuse(envA, ["plan", spec({ entrypoint: "/bin/nope -x" })], 2, /container web: entrypoint \/bin\/nope is not in the flist/, /set `entrypoint`|fix `entrypoint`/);
  await refuse(envA, ["deploy", spec({ entrypoint: "/etc/motd" })], 2, /entrypoint \/etc\/motd is in the flist but not executable/);
  await refuse(envA, ["deploy", spec({ flist: flist.replace(/\/app#.*/, "/nope") })], 5, /container web: flist .*\/nope not found on the hub/, /kosmos flist build/);
  await refuse(envA, ["plan", spec({ flist: flist.replace(/#.*/, `#${"ab".repeat(32)}`) })], 2, /not the pinned/);
  await refuse(envA, ["deploy", spec({ node: bNode.id })], 9, new RegExp(`node ${bNode.id} has never reported since it registered`), /choose another node/);
  // 100 GiB of memory and the default writable root, which is reserved as memory too.
  await refuse(envA, ["deploy", spec({ node: a.id, memory: "100GiB" })], 9, new RegExp(`node ${a.id} cannot take this deployment: it needs 100\\.\\d GiB of memory`));
  // Money: carol's 1000 does not pay one period (about 2500 an hour); --force insists.
  const poor = await refuse({ ...carol, TOKEN: "x" }, ["deploy", spec()], 8, /your balance 1000 does not cover one billing period \(1 h\): it costs \d+/, /--force/);
  assert.equal(poor.stdout, "");
  await noContracts("every refusal");
  await report();
  const forced = await runBin("kosmos", ["plan", spec(), "--force"], { ...carol, TOKEN: "x" });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stdout, /your balance 1000 covers 0 s .*NOT ONE PERIOD/);

  // Multi-signature: bob must sign. He reads exactly what he signs — without his passphrase.
  await report();
  const multi = spec({ extra: `signers:\n  requests:\n    - {twinId: ${aliceTwin}, weight: 1}\n    - {twinId: ${bobTwin}, weight: 1, required: true}\n  weightRequired: 2\n` });
  const dep = await runBin("kosmos", ["deploy", multi, "--no-wait", "--json"], envA);
  assert.equal(dep.code, 0, dep.stderr);
  const contractId = dep.json().contractId as number;
  const bobNoPass = { ...bob, KOSMOS_PASSPHRASE: "not bob's passphrase" };
  const pending = await runBin("kosmos", ["pending"], bobNoPass);
  assert.equal(pending.code, 0, `pending reads only the public key: ${pending.stderr}`);
  assert.match(pending.stdout, new RegExp(`kosmos show CONTRACT`));
  const shown = await runBin("kosmos", ["show", String(contractId)], bobNoPass);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`contract ${contractId} "web" of twin ${aliceTwin} on node ${a.id}`));
  assert.match(shown.stdout, /signing approves exactly these workloads:/);
  assert.match(shown.stdout, new RegExp(`flist\\s+${flist.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
  assert.match(shown.stdout, /entrypoint\s+\/bin\/run/);
  assert.match(shown.stdout, /env\s+MODE=a/);
  assert.match(shown.stdout, /secretEnv\s+TOKEN \(values sealed\)/);
  assert.match(shown.stdout, /memory\s+64 MiB/);
  assert.match(shown.stdout, new RegExp(`twin ${bobTwin} weight 1 required not signed`));
  assert.ok(!shown.stdout.includes("tok-secret"));
  const shownJson = (await runBin("kosmos", ["show", String(contractId), "--json"], bobNoPass)).json();
  assert.equal(shownJson.workloads[0].fields.rootfsSize, "64 MiB");
  const signed = await runBin("kosmos", ["sign", String(contractId), "--json"], bob);
  assert.equal(signed.code, 0, signed.stderr);
  assert.deepEqual([signed.json().approved, signed.json().alreadySigned], [true, false]);
  const again = await runBin("kosmos", ["sign", String(contractId)], bob);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`you had already signed version 0 of contract ${contractId}; nothing sent \\(approved\\)`));

  // An update's plan: per workload, what changes (secrets by name only); an unchanged file says so.
  const ls = await runBin("kosmos", ["ls"], { ...alice, KOSMOS_PASSPHRASE: "not alice's" });
  assert.equal(ls.code, 0, `ls asks no passphrase: ${ls.stderr}`);
  assert.match(ls.stdout, new RegExp(`^web\\s+${contractId}\\s`, "m"));
  await report();
  const same = await runBin("kosmos", ["plan", multi, "--json"], envA);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.json().changed, false);
  assert.deepEqual(same.json().diff.workloads.map((w: { change: string }) => w.change), ["unchanged"]);
  const edited = spec({ memory: "128MiB", extra: `volumes:\n  - {name: data, size: 1GiB}\nsigners:\n  requests:\n    - {twinId: ${aliceTwin}, weight: 1}\n    - {twinId: ${bobTwin}, weight: 1, required: true}\n  weightRequired: 2\n` });
  writeFileSync(edited, readFileSync(edited, "utf8").replace("MODE: a", "MODE: b"));
  await report();
  const upd = await runBin("kosmos", ["plan", edited], envA);
  assert.equal(upd.code, 0, upd.stderr);
  assert.match(upd.stdout, new RegExp(`deployment "web" \\(update of contract ${contractId}\\)`));
  assert.match(upd.stdout, /^ {2}\+ data \(volume\) added$/m);
  assert.match(upd.stdout, /^ {2}~ web \(container\) changed: env\.MODE: "a" → "b"; memory: 64 MiB → 128 MiB$/m);
  assert.equal((await ledger.contract(contractId)).deployment.version, 0, "planning an update signs nothing");

  // A node that stops reporting is not offered within two report intervals (the ledger waits three).
  await waitFor("node A's last report to age past two intervals", async () => {
    const [st, n] = await Promise.all([ledger.status(), ledger.node(a.id)]);
    return st.time - (n.lastReportAt ?? 0) > 2 * REPORT_INTERVAL ? true : undefined;
  }, { timeoutMs: 20_000 });
  const stale = await runBin("kosmos", ["plan", edited], envA);
  assert.equal(stale.code, 9, stale.stderr);
  assert.match(stale.stderr, new RegExp(`node ${a.id} last reported \\d+ s ago \\(nodes report every ${REPORT_INTERVAL} s\\): it is down`));
  const fresh = await runBin("kosmos", ["plan", spec({ name: "other" })], envA);
  assert.equal(fresh.code, 9, fresh.stderr);
  assert.match(fresh.stderr, new RegExp(`no node with room for 1 CPU, 128 MiB memory is up: node ${a.id} last reported \\d+ s ago .*; node ${bNode.id} has never reported since it registered`));

  // Cancelled (more than a second after creation, within the hour's billing period): the time since
  // creation is charged pro rata, and `ls --all` / `billing` tell it.
  assert.equal((await runBin("kosmos", ["cancel", "web"], alice)).code, 0);
  const ended = await runBin("kosmos", ["ls", "--all"], { ...alice, KOSMOS_PASSPHRASE: "not alice's" });
  assert.match(ended.stdout, new RegExp(`^web\\s+${contractId}\\s+${a.id}\\s+deleted\\s+0\\s+-\\s+-\\s+cancelled by its owner$`, "m"));
  const bill = (await runBin("kosmos", ["billing", "web", "--json"], { ...alice, KOSMOS_PASSPHRASE: "not alice's" })).json();
  assert.equal(bill.charges.length, 1, JSON.stringify(bill));
  assert.deepEqual([bill.charges[0].contractId, bill.charges[0].kind, bill.charges[0].reserves], [contractId, "cancellation", "1 CPU, 128 MiB memory"]);
  assert.ok(bill.charges[0].amount > 0);
  assert.equal(bill.balance, (await ledger.twin(aliceTwin)).balance);
  const billHuman = await runBin("kosmos", ["billing"], { ...alice, KOSMOS_PASSPHRASE: "not alice's" });
  assert.match(billHuman.stdout, new RegExp(`web\\s+${bill.charges[0].amount}\\s+time since the last charge, at cancellation of 1 CPU, 128 MiB memory`));
});

// The kosmos CLI against a real ledger. The test plays the node's part on the ledger (registers a
// node, posts results) so the deploy → approve → progress → result path runs for real without zos;
// the local-grid tests (test/grid) do the same with real nodes and 0-db.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LedgerClient } from "../../src/ledger/client/index.js";
import { generateKeyPair, generateSealKeyPair, unseal, GiB, type WorkloadOf } from "../../src/core/index.js";
import { startLedger, runBin, tempDir, waitFor, type Ledger } from "./helpers.js";

test("kosmos CLI: identity, wallet, nodes, deploy with progress, multi-signature, ls/show/cancel", async (t) => {
  // The ledger stops before its folder is removed (t.after hooks run in the order they were registered).
  let b: Ledger | undefined;
  t.after(() => b?.stop());
  const dir = tempDir(t, "kosmos-");
  // The node reports once: a long report interval keeps it "up" however slowly this machine runs the test.
  b = await startLedger(join(dir, "ledger"), { args: ["--faucet", "--block-interval", "200", "--report-interval", "120"] });
  const ledger = new LedgerClient(b.url);

  // A farm and a node, registered by the test in the node's place.
  const farmer = ledger.signer(generateKeyPair());
  await farmer.ensureTwin();
  await farmer.send("farm.create", { name: "testfarm" });
  const farmId = (await ledger.farms())[0].id;
  const nodeKeys = generateKeyPair();
  const seal = generateSealKeyPair();
  const node = ledger.signer(nodeKeys);
  await node.ensureTwin();
  await node.send("node.register", { farmId, capacity: { cru: 4, mru: 8 * GiB, sru: 100 * GiB, hru: 100 * GiB }, sealKey: seal.publicKey, underlay: "10.9.9.9" });
  const nodeInfo = (await ledger.nodes())[0];
  await node.send("node.report", { nodeId: nodeInfo.id, uptime: 1, used: { cru: 0, mru: 0, sru: 0, hru: 0 } });

  const alice = { KOSMOS_HOME: join(dir, "alice"), KOSMOS_PASSPHRASE: "alice pass", KOSMOS_LEDGER: b.url };
  const bob = { KOSMOS_HOME: join(dir, "bob"), KOSMOS_PASSPHRASE: "bob pass", KOSMOS_LEDGER: b.url };

  // Identity: new, refused twice, import from stdin (not argv), wrong passphrase refused.
  const made = await runBin("kosmos", ["identity", "new", "--json"], alice);
  assert.equal(made.code, 0, made.stderr);
  assert.match(made.json().publicKey, /^[0-9a-f]{64}$/);
  const again = await runBin("kosmos", ["identity", "new"], alice);
  assert.equal(again.code, 6, "conflict");
  assert.match(again.stderr, /^kosmos: .*already has an identity/);
  const mnemonic = (await runBin("kosmos", ["identity", "show", "--mnemonic", "--json"], alice)).json().mnemonic as string;
  for (const f of readdirSync(alice.KOSMOS_HOME)) assert.ok(!readFileSync(join(alice.KOSMOS_HOME, f), "utf8").includes(mnemonic), `${f} holds the mnemonic`);
  const bad = await runBin("kosmos", ["identity", "show"], { ...alice, KOSMOS_PASSPHRASE: "nope" });
  assert.equal(bad.code, 4, "forbidden");
  assert.match(bad.stderr, /wrong passphrase/);
  const badJson = await runBin("kosmos", ["identity", "show", "--json"], { ...alice, KOSMOS_PASSPHRASE: "nope" });
  assert.equal(badJson.code, 4);
  assert.equal(badJson.stdout, "", "under --json the error goes to stderr, stdout stays for results");
  assert.equal(JSON.parse(badJson.stderr).error.code, "forbidden");
  const imp = await runBin("kosmos", ["identity", "import", "--json"], { ...bob, KOSMOS_HOME: join(dir, "alice2") }, mnemonic + "\n");
  assert.equal(imp.code, 0, imp.stderr);
  assert.equal(imp.json().publicKey, made.json().publicKey);
  assert.equal((await runBin("kosmos", ["identity", "new"], bob)).code, 0);

  // Wallet.
  const f = await runBin("kosmos", ["wallet", "faucet", "5000000", "--json"], alice);
  assert.equal(f.code, 0, f.stderr);
  const aliceTwin = f.json().twinId as number;
  assert.equal(f.json().balance, 5_000_000);
  const bobTwin = (await runBin("kosmos", ["wallet", "faucet", "--json"], bob)).json().twinId as number;
  const tr = await runBin("kosmos", ["wallet", "transfer", String(bobTwin), "1000", "--json"], alice);
  assert.equal(tr.code, 0, tr.stderr);
  assert.equal(tr.json().balance, 5_000_000 - 1000);
  const broke = await runBin("kosmos", ["wallet", "transfer", String(bobTwin), "999999999"], alice);
  assert.equal(broke.code, 8, `insufficient funds: ${broke.stderr}`);
  assert.notEqual(broke.stderr, "");
  assert.equal((await runBin("kosmos", ["wallet", "balance", "--json"], alice)).json().balance, 5_000_000 - 1000, "a refused transfer changes nothing");

  // Nodes.
  const nodes = (await runBin("kosmos", ["nodes", "--json"], alice)).json() as Array<{ id: number; underlay: string; status: string }>;
  assert.deepEqual(nodes.map((n) => [n.id, n.underlay, n.status]), [[nodeInfo.id, "10.9.9.9", "up"]]);
  assert.match((await runBin("kosmos", ["nodes"], alice)).stdout, /10\.9\.9\.9/);

  // A bad file: a clear error pointing at the field, and nothing on the ledger.
  const badFile = join(dir, "bad.yaml");
  writeFileSync(badFile, "name: web\nzdbs:\n  - name: db\n    size: lots\n    password: x\n");
  const br = await runBin("kosmos", ["deploy", badFile], alice);
  assert.equal(br.code, 2, "invalid");
  assert.match(br.stderr, /bad\.yaml:4:\d+: zdbs\[0\]\.size/);
  const usage = await runBin("kosmos", ["wallet", "transfer", "not-a-twin", "1"], alice);
  assert.equal(usage.code, 2, "a usage error commander reports is invalid input too");
  assert.match(usage.stderr, /twin must be a positive whole number/);
  assert.equal((await ledger.contracts({})).length, 0);

  // Deploy, signed by alice and bob (bob required); the test answers as the node once approved.
  const file = join(dir, "web.yaml");
  writeFileSync(file, `name: web\nzdbs:\n  - name: db\n    size: 2GiB\n    password: {env: WEB_PW}\nsigners:\n  requests:\n    - {twinId: ${aliceTwin}, weight: 1}\n    - {twinId: ${bobTwin}, weight: 1, required: true}\n  weightRequired: 2\n`);
  const envA = { ...alice, WEB_PW: "pw-in-env-only" };
  const deploying = runBin("kosmos", ["deploy", file, "--json", "--timeout", "30"], envA);
  const contract = await waitFor("the contract", async () => (await ledger.contracts({ twinId: aliceTwin }))[0], { timeoutMs: 15_000 });
  assert.equal(contract.approved, false);
  assert.ok(!JSON.stringify(contract).includes("pw-in-env-only"), "clear-text password on the ledger");
  const sealed = (contract.deployment.workloads[0] as WorkloadOf<"zdb">).data.password;
  assert.equal(unseal(sealed, seal), "pw-in-env-only", "the password is sealed to the chosen node");
  // bob finds it in `kosmos pending` (alice, who signed it, does not), signs it, and it is gone from there.
  const pend = await runBin("kosmos", ["pending", "--json"], bob);
  assert.equal(pend.code, 0, pend.stderr);
  const pendList = pend.json() as Array<{ contractId: number; name: string; ownerTwinId: number; nodeId: number; version: number; weight: number; required: boolean; workloads: { name: string; type: string }[] }>;
  assert.deepEqual(pendList.map((p) => [p.contractId, p.name, p.ownerTwinId, p.nodeId, p.version, p.weight, p.required]),
    [[contract.id, "web", aliceTwin, nodeInfo.id, contract.deployment.version, 1, true]]);
  assert.deepEqual(pendList[0].workloads, [{ name: "db", type: "zdb" }]);
  assert.match((await runBin("kosmos", ["pending"], bob)).stdout, new RegExp(`^${contract.id}\\s+web\\s+twin ${aliceTwin}`, "m"));
  assert.deepEqual((await runBin("kosmos", ["pending", "--json"], alice)).json(), []);
  const sign = await runBin("kosmos", ["sign", String(contract.id), "--json"], bob);
  assert.equal(sign.code, 0, sign.stderr);
  assert.equal(sign.json().approved, true);
  assert.deepEqual((await runBin("kosmos", ["pending", "--json"], bob)).json(), [], "signed: no longer pending");
  assert.match((await runBin("kosmos", ["pending"], bob)).stdout, /nothing waits for your signature/);
  const approved = await ledger.contract(contract.id);
  await node.send("contract.result", { contractId: contract.id, version: approved.approvedVersion!, results: [{ name: "db", state: "ok", message: "", data: { namespace: `${contract.id}-db`, ips: ["10.9.9.9"], port: 9900 }, created: 1 }] });
  const dep = await deploying;
  assert.equal(dep.code, 0, dep.stderr);
  assert.equal(dep.json().status, "created");
  assert.deepEqual(dep.json().workloads.map((w: { state: string }) => w.state), ["ok"]);
  assert.match(dep.stderr, /waiting for signatures/);
  assert.match(dep.stderr, /approved/);
  assert.match(dep.stderr, /db: ok/);

  // Deploying the same file again changes nothing.
  const same = await runBin("kosmos", ["deploy", file, "--json"], envA);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.json().status, "unchanged");
  assert.equal((await ledger.contracts({ twinId: aliceTwin })).length, 1);

  // ls / show in both forms.
  const ls = (await runBin("kosmos", ["ls", "--json"], alice)).json() as Array<{ name: string; contractId: number }>;
  assert.deepEqual(ls.map((d) => [d.name, d.contractId]), [["web", contract.id]]);
  const show = await runBin("kosmos", ["show", "web"], alice);
  assert.match(show.stdout, /redis-cli -h 10\.9\.9\.9 -p 9900/);
  assert.match(show.stdout, new RegExp(`SELECT ${contract.id}-db`));
  const nope = await runBin("kosmos", ["show", "nope"], alice);
  assert.equal(nope.code, 5, "not found");
  assert.match(nope.stderr, /no deployment named "nope"/);

  // A node's error result fails the deploy with the reason.
  const file2 = join(dir, "big.yaml");
  writeFileSync(file2, "name: big\nvolumes:\n  - name: v\n    size: 1GiB\n");
  const failing = runBin("kosmos", ["deploy", file2, "--timeout", "30"], alice);
  const c2 = await waitFor("the second contract", async () => (await ledger.contracts({ twinId: aliceTwin })).find((c) => c.id !== contract.id && c.approved), { timeoutMs: 15_000 });
  await node.send("contract.result", { contractId: c2.id, version: 0, results: [{ name: "v", state: "error", message: "disk on fire", data: {}, created: 1 }] });
  const failed = await failing;
  assert.equal(failed.code, 10, "a workload in error is a failed deployment, not an internal error");
  assert.match(failed.stderr, /v: disk on fire/);

  // Cancel.
  const cancel = await runBin("kosmos", ["cancel", "web", "--json"], alice);
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.equal((await ledger.contract(contract.id)).state, "deleted");
  const after = (await runBin("kosmos", ["ls", "--json"], alice)).json() as Array<{ name: string }>;
  assert.deepEqual(after.map((d) => d.name), ["big"]);

  // A wait that runs out is a timeout (transient: the node may still answer), distinct from both.
  const file3 = join(dir, "slow.yaml");
  writeFileSync(file3, "name: slow\nvolumes:\n  - name: v\n    size: 1GiB\n");
  const slow = await runBin("kosmos", ["deploy", file3, "--timeout", "1", "--json"], alice);
  assert.equal(slow.code, 12, `timeout: ${slow.stderr}`);
  const slowErr = JSON.parse(slow.stderr.trim().split("\n").at(-1)!) as { error: { code: string; message: string } };
  assert.equal(slowErr.error.code, "timeout");
  // What it still waited for depends on how far it got in 1 s (no node ever answers here).
  assert.match(slowErr.error.message, /^timed out after 1 s: (v is pending|the deployment is not approved yet|no answer from the ledger)/);
});

test("kosmos: --help everywhere, and a missing ledger is a clear error", async (t) => {
  const home = { KOSMOS_HOME: join(tempDir(t, "kosmos-"), "h"), KOSMOS_PASSPHRASE: "p", KOSMOS_LEDGER: "" };
  assert.equal((await runBin("kosmos", ["identity", "new"], home)).code, 0);
  const r = await runBin("kosmos", ["ls", "--json"], home);
  assert.equal(r.code, 2, "invalid");
  assert.equal(r.stdout, "");
  const body = JSON.parse(r.stderr) as { error: { code: string; message: string; hint?: string } };
  assert.equal(body.error.code, "invalid");
  assert.match(body.error.message, /no ledger/);
  assert.match(body.error.hint ?? "", /KOSMOS_LEDGER/);
  const down = await runBin("kosmos", ["ls"], { ...home, KOSMOS_LEDGER: "http://127.0.0.1:9" });
  assert.equal(down.code, 11, "unavailable");
  assert.match(down.stderr, /unreachable/);
  const unknown = await runBin("kosmos", ["frobnicate"], home);
  assert.equal(unknown.code, 2, "an unknown command is a usage error");
  for (const args of [["--help"], ["deploy", "--help"], ["wallet", "transfer", "--help"], ["identity", "import", "--help"]]) {
    const r = await runBin("kosmos", args, {});
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: kosmos/);
  }
});

// `kosmos events`, `kosmos billing` and `kosmos ls --all` end to end on a real ledger with a
// two-second billing period: one deployment fails then recovers on its node (the test posts the
// node's results), is billed until its balance runs dry, goes into grace and is deleted out of
// funds — a follower started at the beginning sees all of it and stops by itself; another is
// cancelled by its owner. Read-only commands run with a wrong passphrase: they never decrypt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LedgerClient } from "../../src/ledger/client/index.js";
import { GiB, generateKeyPair, generateSealKeyPair } from "../../src/core/index.js";
import { runBin, startLedger, tempDir, waitFor, type Ledger } from "./helpers.js";

test("kosmos events/billing/ls --all: the timeline, the charges and the end reasons, from the ledger's events", async (t) => {
  let b: Ledger | undefined;
  t.after(() => b?.stop());
  const dir = tempDir(t, "kosmos-events-");
  b = await startLedger(join(dir, "ledger"), { args: ["--faucet", "--block-interval", "200", "--report-interval", "120", "--billing-period", "2", "--grace-period", "4"] });
  const ledger = new LedgerClient(b.url);
  const farmer = ledger.signer(generateKeyPair());
  await farmer.ensureTwin();
  await farmer.send("farm.create", { name: "evfarm" });
  const node = ledger.signer(generateKeyPair());
  await node.ensureTwin();
  await node.send("node.register", { farmId: (await ledger.farms())[0].id, capacity: { cru: 4, mru: 8 * GiB, sru: 2000 * GiB, hru: 100 * GiB }, sealKey: generateSealKeyPair().publicKey, underlay: "10.9.9.9" });
  const nodeId = (await ledger.nodes())[0].id;
  await node.send("node.report", { nodeId, uptime: 1, used: { cru: 0, mru: 0, sru: 0, hru: 0 } });

  const alice = { KOSMOS_HOME: join(dir, "alice"), KOSMOS_PASSPHRASE: "alice pass", KOSMOS_LEDGER: b.url };
  const dave = { KOSMOS_HOME: join(dir, "dave"), KOSMOS_PASSPHRASE: "dave pass", KOSMOS_LEDGER: b.url };
  const erin = { KOSMOS_HOME: join(dir, "erin"), KOSMOS_PASSPHRASE: "erin pass", KOSMOS_LEDGER: b.url };
  const noPass = (env: typeof alice) => ({ ...env, KOSMOS_PASSPHRASE: "wrong: read-only commands must not need it" });
  for (const who of [alice, dave, erin]) assert.equal((await runBin("kosmos", ["identity", "new"], who)).code, 0);
  const aliceTwin = (await runBin("kosmos", ["wallet", "faucet", "1000", "--json"], alice)).json().twinId as number;
  const erinTwin = (await runBin("kosmos", ["wallet", "faucet", "1000", "--json"], erin)).json().twinId as number;
  // 1000 GiB of SSD costs 14 per 2-second period: 30 pays two periods, then grace, then deletion.
  assert.equal((await runBin("kosmos", ["wallet", "faucet", "30"], dave)).code, 0);

  const file = (name: string, size: string) => {
    const f = join(dir, `${name}.yaml`);
    writeFileSync(f, `name: ${name}\nvolumes:\n  - name: ${name}\n    size: ${size}\n`);
    return f;
  };
  const dep = await runBin("kosmos", ["deploy", file("vol", "1000GiB"), "--no-wait", "--json"], dave);
  assert.equal(dep.code, 0, dep.stderr);
  const volId = dep.json().contractId as number;
  assert.match(dep.stderr, /your balance 30 covers 4 s at 14 per billing period of 2 s/);
  const following = runBin("kosmos", ["events", "vol", "--follow", "--json"], noPass(dave), undefined, 60_000);

  // Erin's deployment needs alice's signature, which never comes: the plan says it is billed all the same.
  const waitingFile = file("waiting", "10GiB");
  writeFileSync(waitingFile, `${readFileSync(waitingFile, "utf8")}signers:\n  requests:\n    - {twinId: ${erinTwin}, weight: 1}\n    - {twinId: ${aliceTwin}, weight: 1, required: true}\n  weightRequired: 2\n`);
  const waiting = await runBin("kosmos", ["deploy", waitingFile, "--no-wait", "--json"], erin);
  assert.equal(waiting.code, 0, waiting.stderr);
  assert.match(waiting.stderr, /billed from submission on, also while it waits for the other signatures/);

  // The node fails the volume, then makes it.
  const result = (state: string, message: string) => node.send("contract.result", { contractId: volId, version: 0, results: [{ name: "vol", state: state as "ok", message, data: {}, created: 1 }] });
  await result("error", "disk on fire");
  await result("error", "disk on fire");
  await result("ok", "");

  // Alice's small deployment is cancelled once some ledger time has passed (so the cancel pays).
  const small = await runBin("kosmos", ["deploy", file("small", "10GiB"), "--no-wait", "--json"], alice);
  assert.equal(small.code, 0, small.stderr);
  const smallId = small.json().contractId as number;
  const created = (await ledger.contract(smallId)).createdAt;
  await waitFor("ledger time to pass the creation", async () => ((await ledger.status()).time > created ? true : undefined), { timeoutMs: 10_000 });
  assert.equal((await runBin("kosmos", ["cancel", "small"], alice)).code, 0);

  await waitFor("vol deleted out of funds", async () => ((await ledger.contract(volId)).state === "deleted" ? true : undefined), { timeoutMs: 30_000 });
  const followed = await following;
  assert.equal(followed.code, 0, `the follower stops by itself at the deletion: ${followed.stderr}`);
  const lines = followed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; detail: string; workloads?: { name: string; state: string; message: string }[] });
  const kinds = lines.map((l) => l.event);
  // Results and bills interleave as time goes; what is fixed: the birth first, the two paid
  // periods before grace, and the deletion last.
  const order = (...ks: string[]) => { let at = -1; for (const k of ks) { at = kinds.indexOf(k, at + 1); assert.ok(at >= 0, `${ks.join(" < ")} in ${kinds.join(",")}`); } };
  order("created", "signed", "approved", "result", "result");
  order("approved", "billed", "billed", "grace", "deleted");
  assert.equal(kinds.at(-1), "deleted");
  assert.equal(kinds.filter((k) => k === "billed").length, 2, "30 pays two periods of 14");
  assert.equal(kinds.filter((k) => k === "result").length, 2, "a repeated report with no change is not a new event");
  const results = lines.filter((l) => l.event === "result");
  assert.deepEqual(results.map((r) => r.workloads), [[{ name: "vol", state: "error", message: "disk on fire" }], [{ name: "vol", state: "ok", message: "" }]]);
  assert.match(results[0].detail, new RegExp(`node ${nodeId} on version 0: vol error \\(disk on fire\\)`));
  assert.ok(lines.filter((l) => l.event === "billed").every((l) => l.detail === "charged 14 for a billing period"));
  assert.match(lines.find((l) => l.event === "grace")!.detail, /did not pay the billing period; the workloads pause and the contract is deleted in 4 s unless it is funded/);
  assert.equal(lines.at(-1)!.detail, "deleted: out of funds: grace ran out before the balance paid a period");

  // The same timeline read afterwards, as a table.
  const human = await runBin("kosmos", ["events", "vol"], noPass(dave));
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^TIME\s+BLOCK\s+EVENT\s+DETAIL/);
  assert.match(human.stdout, /result\s+node \d+ on version 0: vol error \(disk on fire\)/);
  assert.match(human.stdout, /deleted\s+deleted: out of funds/);

  // ls: gone from the live list; --all shows it with why it ended (and alice's, cancelled).
  assert.deepEqual((await runBin("kosmos", ["ls", "--json"], noPass(dave))).json(), []);
  const all = (await runBin("kosmos", ["ls", "--all", "--json"], noPass(dave))).json() as Array<{ name: string; state: string; endReason: string }>;
  assert.deepEqual(all.map((d) => [d.name, d.state]), [["vol", "deleted"]]);
  assert.match(all[0].endReason, /^out of funds/);
  const aliceAll = await runBin("kosmos", ["ls", "--all"], noPass(alice));
  assert.equal(aliceAll.code, 0, aliceAll.stderr);
  assert.match(aliceAll.stdout, /^small\s+\d+\s+\d+\s+deleted\s+0\s+-\s+-\s+cancelled by its owner$/m);

  // billing: the periods dave paid, and alice's charges ending with the pro-rata one at cancellation.
  const bill = await runBin("kosmos", ["billing", "vol", "--json"], noPass(dave));
  assert.equal(bill.code, 0, bill.stderr);
  const report = bill.json() as { total: number; balance: number; charges: Array<{ contractId: number; name: string; amount: number; kind: string; reserves: string }> };
  assert.ok(report.charges.length >= 2);
  assert.ok(report.charges.every((c) => c.contractId === volId && c.name === "vol" && c.amount === 14 && c.kind === "period" && c.reserves === "1000 GiB SSD"));
  assert.equal(report.total, 14 * report.charges.length);
  assert.equal(report.balance, 30 - report.total);
  // (A 2-second period may be charged in the block of the cancel, leaving nothing pro rata: the
  // cancellation's own charge is checked in plan.test.ts, on a ledger billing by the hour.)
  const aliceBill = (await runBin("kosmos", ["billing", "small", "--json"], noPass(alice))).json() as typeof report;
  assert.ok(aliceBill.charges.every((c) => c.contractId === smallId && c.reserves === "10 GiB SSD"));
  assert.equal(aliceBill.balance, 1000 - aliceBill.total);
  // Waiting for a signature is billed (the ledger bills from creation; docs/billing.md says so).
  const waitingEvents = (await runBin("kosmos", ["events", "waiting", "--json"], noPass(erin))).json() as Array<{ event: string }>;
  assert.ok(waitingEvents.some((e) => e.event === "billed"), `billed while unsigned: ${waitingEvents.map((e) => e.event).join(",")}`);
  assert.ok(!waitingEvents.some((e) => e.event === "approved"));
  assert.match((await runBin("kosmos", ["ls"], noPass(erin))).stdout, /^waiting\s+\d+\s+\d+\s+active \(unsigned\)/m);
  const none = await runBin("kosmos", ["billing", "nothing-here"], noPass(alice));
  assert.equal(none.code, 5, none.stderr);
});

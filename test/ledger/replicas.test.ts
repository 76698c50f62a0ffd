// The ledger as three bcdb replicas ordered through a real etcd: concurrent transactions on
// different replicas are each included exactly once and every replica holds the same blocks; a
// replica killed with -9 catches up; a replayed transaction sent to two replicas at once is
// included once and refused once; every replica streams the same events.
import { test, before, after, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UnavailableError, signTx, txHash, type Tx } from "../../src/core/index.js";
import type { Block, LedgerEvent, Receipt } from "../../src/ledger/client/index.js";
import { Chain, EtcdClient, EtcdReplication } from "../../src/ledger/index.js";
import { startBcdb, waitFor, freePort, fundedTwin, type Bcdb } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "bcdb-replicas-"));
let etcd: { url: string; proc: ChildProcess; ports: [number, number] } | undefined;
const dirs = [0, 1, 2].map((i) => join(root, `replica-${i}`));
const replicas: (Bcdb | undefined)[] = [];

async function startEtcd(dir: string, ports?: [number, number]): Promise<{ url: string; proc: ChildProcess; ports: [number, number] }> {
  const [client, peer] = ports ?? [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${client}`, peerUrl = `http://127.0.0.1:${peer}`;
  const proc = spawn("etcd", [
    "--name", "t", "--data-dir", dir, "--listen-client-urls", url, "--advertise-client-urls", url,
    "--listen-peer-urls", peerUrl, "--initial-advertise-peer-urls", peerUrl, "--initial-cluster", `t=${peerUrl}`, "--log-level", "error",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  const err: string[] = [];
  proc.stderr!.on("data", (d: Buffer) => err.push(d.toString()));
  let exited = false;
  proc.once("exit", () => { exited = true; });
  await waitFor("etcd to be healthy", async () => {
    if (exited) throw new Error(`etcd exited: ${err.join("")}`);
    try { return ((await (await fetch(`${url}/health`)).json()) as { health: string }).health === "true"; } catch { return false; }
  }, { timeoutMs: 15_000 });
  return { url, proc, ports: [client, peer] };
}

function replicaArgs(): string[] {
  return ["--etcd", etcd!.url, "--etcd-prefix", "/test/ledger", "--faucet", "--block-interval", "300"];
}

function killAll(): Promise<unknown> {
  const procs = [...replicas.map((r) => r?.proc), etcd?.proc].filter((p): p is ChildProcess => !!p && p.exitCode === null && p.signalCode === null);
  return Promise.all(procs.map((p) => new Promise((r) => { p.once("exit", r); p.kill("SIGKILL"); })));
}

before(async () => {
  etcd = await startEtcd(join(root, "etcd"));
  // The first replica starts the chain in etcd; the others share its genesis key (for the faucet).
  replicas[0] = await startBcdb(dirs[0], replicaArgs());
  for (const d of dirs.slice(1)) { mkdirSync(d); copyFileSync(join(dirs[0], "genesis.key"), join(d, "genesis.key")); }
  replicas[1] = await startBcdb(dirs[1], replicaArgs());
  replicas[2] = await startBcdb(dirs[2], replicaArgs());
});

after(async () => {
  await killAll();
  rmSync(root, { recursive: true, force: true });
});

const r = (i: number): Bcdb => replicas[i]!;

/** When a test fails, each replica's state and the tail of its stderr (warnings and errors) go
 *  with the failure: a replica that exited or logged a fault is the first thing to look at. */
function replicaTest(name: string, fn: (t: TestContext) => Promise<void>): void {
  test(name, async (t) => {
    try { await fn(t); } catch (e) {
      for (const [i, x] of replicas.entries()) {
        if (!x) continue;
        const state = x.proc.exitCode !== null ? `exited with ${x.proc.exitCode}` : x.proc.signalCode ? `killed by ${x.proc.signalCode}` : "running";
        const tail = x.stderr.join("").split("\n").filter(Boolean).slice(-15).join("\n  ");
        t.diagnostic(`replica ${i} (${x.url}): ${state}; stderr tail:\n  ${tail || "(empty)"}`);
      }
      throw e;
    }
  });
}

/** Blocks 0..height as replica i serves them (after waiting for it to reach that height). */
async function blocksOf(i: number, height: number): Promise<Block[]> {
  await waitFor(`replica ${i} to reach height ${height}`, async () => (await r(i).client.status()).height >= height, { timeoutMs: 15_000 });
  const out: Block[] = [];
  while (out.length <= height) out.push(...(await r(i).client.blocks(out.length, Math.min(1000, height + 1 - out.length))));
  return out;
}

async function sameChain(height: number): Promise<Block[]> {
  const [a, b, c] = await Promise.all([0, 1, 2].map((i) => blocksOf(i, height)));
  assert.deepEqual(b.map((x) => x.hash), a.map((x) => x.hash), "replica 1 holds other blocks than replica 0");
  assert.deepEqual(c.map((x) => x.hash), a.map((x) => x.hash), "replica 2 holds other blocks than replica 0");
  for (let h = 1; h < a.length; h++) assert.equal(a[h].prevHash, a[h - 1].hash);
  return a;
}

function countTxs(blocks: Block[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const b of blocks) for (const tx of b.txs) { const h = txHash(tx as object); seen.set(h, (seen.get(h) ?? 0) + 1); }
  return seen;
}

replicaTest("transactions sent concurrently to three replicas are each included once; all replicas hold the same blocks", async () => {
  // Four users per replica, each on its own replica, each sending five transfers to a user of another.
  const users = await Promise.all([0, 1, 2].flatMap((i) => [0, 1, 2, 3].map(async () => ({ i, ...(await fundedTwin(r(i).client, 10_000)) }))));
  const receipts: Receipt[] = [];
  await Promise.all(users.map(async (u, k) => {
    const to = users[(k + 4) % users.length].twinId;
    for (let n = 0; n < 5; n++) receipts.push(await u.signer.send("transfer", { to, amount: 1 }));
  }));
  assert.equal(receipts.length, 60);
  const height = Math.max(...receipts.map((x) => x.height));
  const blocks = await sameChain(height);
  const seen = countTxs(blocks);
  for (const x of receipts) {
    assert.equal(seen.get(x.hash), 1, `tx ${x.hash.slice(0, 12)} is in the chain ${seen.get(x.hash) ?? 0} times`);
    assert.equal(txHash(blocks[x.height].txs[x.index] as object), x.hash, "the receipt points at its transaction");
  }
  // Every replica answers the same balances and nonces (they have all passed `height`).
  for (const u of users) {
    const views = await Promise.all([0, 1, 2].map((i) => r(i).client.twin(u.twinId)));
    assert.equal(views[0].nonce, 6);
    assert.deepEqual(views[1], views[0]);
    assert.deepEqual(views[2], views[0]);
  }
});

replicaTest("a replica killed with -9 while the others keep going restarts and catches up to the same head", async () => {
  const a = await fundedTwin(r(0).client, 10_000), b = await fundedTwin(r(1).client, 10_000);
  let stop = false;
  const sent: Receipt[] = [];
  const load = Promise.all([a, b].map(async (u, k) => {
    while (!stop) sent.push(await u.signer.send("transfer", { to: k === 0 ? b.twinId : a.twinId, amount: 1 }));
  }));
  await waitFor("transfers before the kill", () => sent.length >= 10, { timeoutMs: 10_000 });
  await r(2).stop("SIGKILL");
  const atKill = sent.length;
  await waitFor("transfers while replica 2 is down", () => sent.length >= atKill + 20, { timeoutMs: 10_000 });
  replicas[2] = await startBcdb(dirs[2], replicaArgs());
  await waitFor("transfers after the restart", () => sent.length >= atKill + 30, { timeoutMs: 10_000 });
  stop = true;
  await load;
  const height = Math.max(...sent.map((x) => x.height));
  const blocks = await sameChain(height);
  const seen = countTxs(blocks);
  for (const x of sent) assert.equal(seen.get(x.hash), 1);
  // The restarted replica takes transactions again.
  const c = await fundedTwin(r(2).client, 100);
  const rc = await c.signer.send("transfer", { to: a.twinId, amount: 1 });
  await sameChain(rc.height);
});

replicaTest("a replayed transaction sent to two replicas at once is included once and refused (bad nonce) by the other", async () => {
  const u = await fundedTwin(r(0).client, 1000);
  const nonce = (await r(0).client.account(u.keys.publicKey)).nonce;
  const tx = signTx({ type: "transfer", signer: u.keys.publicKey, nonce: nonce + 1, payload: { to: 1, amount: 3 } }, u.keys.privateKey) as Tx;
  const post = (i: number) => fetch(`${r(i).url}/tx`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(tx) })
    .then(async (res) => ({ status: res.status, body: (await res.json()) as Receipt & { error?: { code: string; message: string } } }));
  const answers = await Promise.all([post(0), post(1)]);
  const ok = answers.filter((x) => x.status === 200), refused = answers.filter((x) => x.status !== 200);
  assert.equal(ok.length, 1, JSON.stringify(answers));
  assert.equal(refused.length, 1);
  assert.equal(refused[0].status, 409);
  assert.equal(refused[0].body.error!.code, "bad_nonce");
  const blocks = await sameChain(ok[0].body.height);
  assert.equal(countTxs(blocks).get(txHash(tx)), 1);
  const acc = await Promise.all([0, 1, 2].map((i) => r(i).client.account(u.keys.publicKey)));
  assert.deepEqual(acc.map((x) => x.nonce), [nonce + 1, nonce + 1, nonce + 1]);
});

replicaTest("every replica streams the same events", async () => {
  const u = await fundedTwin(r(1).client, 1000);
  const rc = await u.signer.send("transfer", { to: 1, amount: 5 });
  const streams = await Promise.all([0, 1, 2].map((i) => new Promise<LedgerEvent[]>((resolve, reject) => {
    const got: LedgerEvent[] = [];
    const timer = setTimeout(() => { sub.close(); reject(new Error(`replica ${i}: no events up to ${rc.height}`)); }, 15_000);
    const sub = r(i).client.subscribe({ from: 0 }, (e) => {
      got.push(e);
      if (e.type === "block" && e.height >= rc.height) { clearTimeout(timer); sub.close(); resolve(got.filter((x) => x.height <= rc.height)); }
    });
  })));
  assert.ok(streams[0].some((e) => e.type === "transfer" && e.height === rc.height && e.from === u.twinId && e.amount === 5));
  assert.ok(streams[0].filter((e) => e.type === "block").length === rc.height + 1);
  assert.deepEqual(streams[1], streams[0]);
  assert.deepEqual(streams[2], streams[0]);
});

/** The URL written beside block `height` in etcd: the replica that proposed it. */
async function proposerOf(height: number): Promise<string> {
  const key = Buffer.from(`/test/ledger/proposers/${String(height).padStart(12, "0")}`).toString("base64");
  const res = await fetch(`${etcd!.url}/v3/kv/range`, { method: "POST", body: JSON.stringify({ key }) });
  const kv = ((await res.json()) as { kvs?: { value: string }[] }).kvs?.[0];
  assert.ok(kv, `etcd has no proposer for block ${height}`);
  const v = Buffer.from(kv.value, "base64").toString();
  return v.slice(v.indexOf(" ") + 1);
}

replicaTest("one replica proposes while the others forward to it; killed with -9, another takes over within a bounded time", async (t) => {
  // Transactions sent to every replica end up in blocks of a single proposer, the leader.
  const users = await Promise.all([0, 1, 2].map(async (i) => fundedTwin(r(i).client, 10_000)));
  const settle = await Promise.all(users.map((u) => u.signer.send("transfer", { to: 1, amount: 1 }))); // leadership settles on one
  await sameChain(Math.max(...settle.map((x) => x.height))); // and every replica knows it
  const rcs = await Promise.all(users.map((u) => u.signer.send("transfer", { to: 1, amount: 1 })));
  const leaderUrl = await proposerOf(Math.max(...rcs.map((x) => x.height)));
  const L = replicas.findIndex((x) => x?.url === leaderUrl);
  assert.ok(L >= 0, `the leader ${leaderUrl} is none of the replicas`);
  for (const x of rcs) assert.equal(await proposerOf(x.height), leaderUrl, "a block came from another proposer than the leader");
  // Load on the two others while the leader is killed.
  const others = [0, 1, 2].filter((i) => i !== L);
  const sent: { rc: Receipt; at: number }[] = [];
  let stop = false;
  const load = Promise.all(others.map(async (i) => {
    while (!stop) sent.push({ rc: await users[i].signer.send("transfer", { to: 1, amount: 1 }), at: Date.now() });
  }));
  await waitFor("transfers before the kill", () => sent.length >= 10, { timeoutMs: 10_000 });
  const head = Math.max(...sent.map((x) => x.rc.height));
  await r(L).stop("SIGKILL");
  const killedAt = Date.now();
  await waitFor("a block after the leader's death", () => sent.some((x) => x.rc.height > head && x.at > killedAt), { timeoutMs: 10_000 });
  const firstAfter = Math.min(...sent.filter((x) => x.at > killedAt && x.rc.height > head).map((x) => x.at));
  assert.ok(firstAfter - killedAt < 3000, `the chain stalled ${firstAfter - killedAt} ms after the leader died`);
  t.diagnostic(`first receipt in a new block ${firstAfter - killedAt} ms after the leader was killed`);
  const atTakeover = sent.length;
  await waitFor("transfers under the new leader", () => sent.length >= atTakeover + 10, { timeoutMs: 10_000 });
  stop = true;
  await load;
  const last = Math.max(...sent.map((x) => x.rc.height));
  assert.notEqual(await proposerOf(last), leaderUrl);
  // The old leader comes back as a follower of the same chain; every receipted tx is in it once.
  replicas[L] = await startBcdb(dirs[L], replicaArgs());
  const again = await r(L).client.signer(users[L].keys).send("transfer", { to: 1, amount: 1 });
  const blocks = await sameChain(Math.max(last, again.height));
  const seen = countTxs(blocks);
  for (const x of [...sent.map((y) => y.rc), again]) assert.equal(seen.get(x.hash), 1, `tx ${x.hash.slice(0, 12)} is in the chain ${seen.get(x.hash) ?? 0} times`);
});

replicaTest("a block of its own committed while its catch-up read is in flight does not stop a replica", async () => {
  // The interleaving behind a replica that exited when etcd came back: its follow loop reads the
  // blocks above its head while its own proposal wins that very height and is committed, so the
  // read answers with a block it already holds. Here the replica's block is made right when the
  // catch-up read of block 1 is sent, deterministically.
  const dir = join(root, "catch-up"), prefix = "/test/catch-up", quiet = { info() {}, warn() {}, error() {} };
  let produce: (() => Promise<unknown>) | undefined;
  class ReadAfterOwnBlock extends EtcdClient {
    override async range(key: string | Buffer, o: { end?: string | Buffer; limit?: number; descending?: boolean } = {}) {
      if (produce && o.end !== undefined && String(key) === `${prefix}/blocks/000000000001`) { const p = produce; produce = undefined; await p(); }
      return super.range(key, o);
    }
  }
  const rep = new EtcdReplication(new ReadAfterOwnBlock(etcd!.url), prefix, quiet);
  const opts = { dir, billingPeriod: 3600, gracePeriod: 7200, reportInterval: 10 };
  const chain = await Chain.open({ ...opts, log: quiet, genesis: await rep.genesis(dir, opts), orderer: rep });
  let fatal: unknown;
  rep.onFatal = (e) => { fatal = e; };
  try {
    produce = () => chain.faucet(1, 5); // this replica proposes block 1, wins it and commits it
    await rep.start(chain); // catch-up: reads from block 1, which it now holds
    assert.equal(produce, undefined, "the catch-up read never ran");
    assert.equal(chain.height, 1);
    // It goes on proposing and following: block 2 is the one etcd holds.
    const rc = await chain.faucet(1, 5);
    assert.equal(rc.height, 2);
    assert.equal((await rep.at(2))!.hash, chain.readBlock(2)!.hash);
    assert.equal(fatal, undefined);
  } finally {
    await rep.stop();
    await chain.close();
  }
});

replicaTest("etcd down: a transaction is refused as unavailable and nothing changes; etcd back: the replicas go on in step", async () => {
  const u = await fundedTwin(r(0).client, 1000);
  const before = await r(0).client.account(u.keys.publicKey);
  await new Promise((res) => { etcd!.proc.once("exit", res); etcd!.proc.kill("SIGKILL"); });
  const tx = signTx({ type: "transfer", signer: u.keys.publicKey, nonce: before.nonce + 1, payload: { to: 1, amount: 1 } }, u.keys.privateKey) as Tx;
  await assert.rejects(r(0).client.submit(tx), (e: unknown) => e instanceof UnavailableError && /etcd .* unreachable/.test(e.message));
  assert.deepEqual(await r(0).client.account(u.keys.publicKey), before);
  etcd = await startEtcd(join(root, "etcd"), etcd!.ports);
  const rc = await r(1).client.submit(tx);
  assert.equal(rc.hash, txHash(tx));
  await sameChain(rc.height);
  const after = await Promise.all([0, 1, 2].map((i) => r(i).client.account(u.keys.publicKey)));
  assert.deepEqual(after.map((a) => a.nonce), [before.nonce + 1, before.nonce + 1, before.nonce + 1]);
});

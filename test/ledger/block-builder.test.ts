// The pure block builder: a batch applied to a state at a block time gives the block, its bytes and
// events, which transactions went in where and which were refused; replaying the block on the
// state before gives the same events and the same state. No clock, no disk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, generateKeyPair, parseTx, signTx, txHash, NonceError, type KeyPair, type Tx } from "../../src/core/index.js";
import { buildBlock, replayBlock, type Candidate } from "../../src/ledger/block-builder.js";
import { computeBlockHash, decodeBlock, ZERO_HASH } from "../../src/ledger/block.js";
import { genesisState, makeGenesisBlock } from "../../src/ledger/genesis.js";
import { stateToJson } from "../../src/ledger/state.js";

const gk = generateKeyPair();
const g = makeGenesisBlock(gk.publicKey, { billingPeriod: 100, gracePeriod: 200, reportInterval: 10 }, 1000);

function cand(k: KeyPair, nonce: number, type: "twin.create" | "transfer", payload: object): Candidate {
  const raw = signTx({ type, signer: k.publicKey, nonce, payload } as never, k.privateKey) as Tx;
  return { tx: parseTx(raw), raw, canon: canonicalJson(raw) };
}

test("buildBlock: includes what applies in order, refuses the rest by position, and replays to the same state", () => {
  const s = genesisState(g.block);
  const before = structuredClone(stateToJson(s));
  const a = generateKeyPair();
  const batch = [
    cand(a, 1, "twin.create", {}),
    cand(a, 1, "twin.create", {}), // the same nonce again: refused
    cand(gk, 1, "transfer", { to: 2, amount: 500 }),
    cand(a, 3, "transfer", { to: 1, amount: 1 }), // a nonce gap: refused
  ];
  const { built, refused } = buildBlock(s, batch, 1005, false);
  assert.ok(built);
  assert.deepEqual(refused.map((r) => r.at), [1, 3]);
  assert.ok(refused.every((r) => r.error instanceof NonceError));
  assert.deepEqual(built.included.map((i) => [i.at, i.index]), [[0, 0], [2, 1]]);
  assert.equal(built.included[1].hash, txHash(batch[2].raw as object));
  // The block: next height, linked, hashed over its canonical form; its bytes are what gets logged.
  assert.equal(built.block.height, 1);
  assert.equal(built.block.prevHash, g.block.hash);
  assert.equal(computeBlockHash(built.block), built.block.hash);
  assert.deepEqual(decodeBlock(built.bytes), JSON.parse(JSON.stringify(built.block)));
  assert.equal(s.height, 1); assert.equal(s.hash, built.block.hash); assert.equal(s.time, 1005);
  // Events carry their position and their transaction.
  assert.deepEqual(built.events.map((e) => [e.type, e.index, e.tx]), [["twin.created", 0, 0], ["transfer", 1, 1]]);
  // Replaying the logged block on the state before gives the same events and the same state.
  const r = genesisState(g.block);
  assert.deepEqual(structuredClone(stateToJson(r)), before);
  const events = replayBlock(r, decodeBlock(built.bytes));
  assert.deepEqual(events, built.events);
  assert.deepEqual(stateToJson(r), stateToJson(s));
});

test("buildBlock: nothing applied and no heartbeat leaves no block and the state as it was; a heartbeat makes an empty one", () => {
  const s = genesisState(g.block);
  const before = JSON.stringify(stateToJson(s));
  const stranger = generateKeyPair();
  const none = buildBlock(s, [cand(stranger, 1, "transfer", { to: 1, amount: 1 })], 1001, false);
  assert.equal(none.built, undefined);
  assert.equal(none.refused.length, 1);
  assert.equal(JSON.stringify(stateToJson(s)), before);
  const beat = buildBlock(s, [], 1001, true);
  assert.ok(beat.built);
  assert.equal(beat.built.block.txs.length, 0);
  assert.equal(beat.built.block.height, 1);
  assert.notEqual(beat.built.block.hash, ZERO_HASH);
  // A candidate may be a function of the state it lands on (the faucet's mint takes the genesis
  // key's next nonce there, after what came before it in the same block).
  const t = genesisState(g.block);
  const a = generateKeyPair();
  const next = (st: typeof t): Candidate => cand(gk, (st.nonces.get(gk.publicKey) ?? 0) + 1, "transfer", { to: 2, amount: 5 });
  const out = buildBlock(t, [cand(a, 1, "twin.create", {}), next, next], 1002, false);
  assert.deepEqual(out.built?.included.map((i) => i.at), [0, 1, 2]);
  assert.equal(t.nonces.get(gk.publicKey), 2);
  assert.equal(t.twins.get(2)?.balance, 10);
});

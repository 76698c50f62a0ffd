// The "should not happen" list: small-order keys refused as signers (so never twins), deeply
// nested JSON and malformed URL paths answered 400 (never 500), results for deleted contracts or
// unknown workloads refused with a reason and nothing changed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import {
  ConflictError, GiB, NotFoundError, generateSealKeyPair, isUsablePublicKey, signDeployment, type Deployment,
} from "../../src/core/index.js";
import { startBcdb, tempDir, fundedTwin } from "./helpers.js";

/** The encodings of small-order points: identity, the 2-, 4- and 8-torsion points (and y = p - 1). */
const SMALL_ORDER = [
  "0100000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000000",
  "0000000000000000000000000000000000000000000000000000000000000080",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
  "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
  "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
  "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

/** A raw HTTP/1.1 request (so a malformed path reaches the server as sent). */
function raw(port: number, request: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.end(request));
    let data = "";
    s.on("data", (d) => { data += d.toString(); });
    s.on("end", () => resolve({ status: Number(data.split(" ")[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) }));
    s.on("error", reject);
  });
}

test("small-order ed25519 keys are refused as signers, so never become twins", async (t) => {
  for (const k of SMALL_ORDER) assert.equal(isUsablePublicKey(k), false, k);
  const b = await startBcdb(tempDir(t, "bcdb-weak-"), ["--block-interval", "600000"]);
  t.after(() => b.stop());
  const before = await b.client.status();
  for (const signer of SMALL_ORDER) {
    // The signature is whatever: a small-order key's "signature" proves nothing either way.
    const tx = { type: "twin.create", signer, nonce: 1, payload: {}, signature: "00".repeat(64) };
    const res = await fetch(`${b.url}/tx`, { method: "POST", body: JSON.stringify(tx) });
    assert.equal(res.status, 400, signer);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "invalid");
    assert.match(body.error.message, /small-order/);
  }
  const after = await b.client.status();
  assert.equal(after.twins, before.twins);
  assert.equal(after.height, before.height);
});

test("deeply nested JSON and malformed URL paths are 400, never 500", async (t) => {
  const b = await startBcdb(tempDir(t, "bcdb-bad-"), ["--faucet", "--block-interval", "600000"]);
  t.after(() => b.stop());
  for (const body of ["[".repeat(100_000), "{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000), "[".repeat(65) + "]".repeat(65)]) {
    for (const path of ["/tx", "/faucet"]) {
      const res = await fetch(`${b.url}${path}`, { method: "POST", body });
      assert.equal(res.status, 400, `${path} with ${body.length} bytes`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "invalid");
    }
  }
  for (const path of ["/twins/%E0%A4%A", "/names/%", "/accounts/%ZZ", "/%C0%AF", "/contracts/%FF%FE"]) {
    const r = await raw(b.port, `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.equal(r.status, 400, `${path}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as { error: { code: string } }).error.code, "invalid");
  }
  const ws = await raw(b.port, "GET /events?from=%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  assert.equal(ws.status, 400);
  assert.equal((await b.client.status()).height >= 0, true, "the ledger still answers");
});

test("contract.result: refused for unknown workloads and for a deleted contract (but `deleted` may be reported), state unchanged", async (t) => {
  const b = await startBcdb(tempDir(t, "bcdb-res-"), ["--faucet", "--block-interval", "600000"]);
  t.after(() => b.stop());
  const c = b.client;
  const user = await fundedTwin(c, 10 ** 9);
  const farmer = await fundedTwin(c, 0);
  const node = await fundedTwin(c, 0);
  const fr = await farmer.signer.send("farm.create", { name: `farm-${user.twinId}` });
  const farmId = (fr.events!.find((e) => e.type === "farm.created") as { farmId: number }).farmId;
  const nr = await node.signer.send("node.register", { farmId, capacity: { cru: 8, mru: 16 * GiB, sru: 100 * GiB, hru: 1000 * GiB }, sealKey: generateSealKeyPair().publicKey, underlay: "10.0.0.2" });
  const nodeId = (nr.events![0] as { nodeId: number }).nodeId;
  const d: Deployment = {
    version: 0, twinId: user.twinId, nodeId, metadata: "", description: "",
    signatureRequirement: { requests: [{ twinId: user.twinId, weight: 1, required: false }], weightRequired: 1 },
    workloads: [{ name: "vol", type: "volume", version: 0, description: "", data: { size: 10 * GiB } }],
  };
  const cr = await user.signer.send("contract.create", { deployment: d, deploymentSignature: signDeployment(d, user.keys.privateKey) });
  const contractId = (cr.events!.find((e) => e.type === "contract.created") as { contractId: number }).contractId;
  const result = (name: string, state: "ok" | "deleted" | "error") => ({ name, state, message: "", data: {}, created: 1 });

  const refusedWith = async (results: ReturnType<typeof result>[], cls: typeof NotFoundError | typeof ConflictError, reason: RegExp) => {
    const before = await c.contract(contractId);
    await assert.rejects(node.signer.send("contract.result", { contractId, version: 0, results }), (e: unknown) => {
      assert.ok(e instanceof cls, `${cls.name}, got ${String(e)}`);
      assert.match((e as Error).message, reason);
      return true;
    });
    assert.deepEqual(await c.contract(contractId), before, "nothing changed");
  };
  // A workload the contract never had; one bad result refuses the whole transaction.
  await refusedWith([result("ghost", "ok")], NotFoundError, /no workload "ghost"/);
  await refusedWith([result("vol", "ok"), result("ghost", "ok")], NotFoundError, /no workload "ghost"/);
  await node.signer.send("contract.result", { contractId, version: 0, results: [result("vol", "ok")] });
  // Deleted: the node may say its workload is gone, nothing else.
  await user.signer.send("contract.cancel", { contractId });
  await refusedWith([result("vol", "ok")], ConflictError, /is deleted/);
  await refusedWith([result("ghost", "deleted")], NotFoundError, /no workload "ghost"/);
  await node.signer.send("contract.result", { contractId, version: 0, results: [result("vol", "deleted")] });
  assert.equal((await c.contract(contractId)).results.vol?.state, "deleted");
});

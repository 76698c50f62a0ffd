// The pure views (src/kosmos/views.ts): what ls/show/pending render and how the deploy wait reads a
// contract, from contracts built here — no ledger needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Contract } from "../../src/ledger/client/index.js";
import type { Workload } from "../../src/core/index.js";
import { failureText, logsTargetOf, nameOf, pendingOf, pendingText, settledState, signatureProgress, viewOf, zdbLookup } from "../../src/kosmos/views.js";

function contract(over: Partial<Contract> & { workloads?: Workload[] } = {}): Contract {
  const workloads = over.workloads ?? [
    { name: "db", type: "zdb", version: 0, description: "", data: { size: 1, mode: "user", password: { sealed: "x" }, public: false } },
    { name: "web", type: "container", version: 1, description: "", data: {} },
  ] as unknown as Workload[];
  const { workloads: _w, ...rest } = over;
  return {
    id: 7, twinId: 3, nodeId: 2, state: "created", signatures: [{ twinId: 3, signature: "s" }], approved: true, approvedVersion: 1,
    approvedDeployment: null, approvedSignatures: [], results: {}, costPerPeriod: 5, createdAt: 0, updatedAt: 0, billedUntil: 0,
    deployment: {
      version: 1, twinId: 3, nodeId: 2, metadata: JSON.stringify({ name: "site", http: { web: 8080 } }), description: "",
      signatureRequirement: { requests: [{ twinId: 3, weight: 1, required: false }, { twinId: 4, weight: 2, required: true }], weightRequired: 3 },
      workloads,
    },
    ...rest,
  } as Contract;
}

test("viewOf: a result counts only for the workload's current, approved version; a served container gets its URL", () => {
  const c = contract({
    results: {
      db: { name: "db", state: "ok", message: "", data: { namespace: "7-db", ips: ["10.0.0.2"], port: 9900 }, created: 1, version: 1 },
      web: { name: "web", state: "ok", message: "", data: { ip: "100.64.0.5" }, created: 1, version: 0 }, // about the previous version
    },
  });
  const v = viewOf(c);
  assert.equal(v.name, "site");
  assert.deepEqual(v.workloads.map((w) => [w.name, w.state]), [["db", "ok"], ["web", "pending"]]);
  assert.equal(settledState(v), null);
  c.results.web = { name: "web", state: "ok", message: "", data: { ip: "100.64.0.5" }, created: 2, version: 1 };
  const ok = viewOf(c);
  assert.equal(ok.workloads[1].url, "http://100.64.0.5:8080/");
  assert.equal(settledState(ok), "ok");
  assert.equal(settledState({ ...ok, approved: false }), null, "not approved: not settled, even with ok results");
  assert.equal(pendingText({ ...ok, approved: false }), "the deployment is not approved yet (signatures missing)");
  assert.equal(pendingText(null), "no answer from the ledger");
});

test("a workload in error settles the deployment in error, with each reason", () => {
  const c = contract({ results: { web: { name: "web", state: "error", message: "disk on fire", data: {}, created: 1, version: 1 } } });
  const v = viewOf(c);
  assert.equal(settledState(v), "error");
  assert.equal(failureText(v), "web: disk on fire");
  assert.equal(pendingText(v), "db is pending, web is error (disk on fire)");
});

test("a contract without kosmos metadata is named by its id", () => {
  const c = contract();
  c.deployment.metadata = "not json";
  assert.equal(nameOf(c), null);
  assert.equal(viewOf(c).name, "contract-7");
});

test("signatureProgress and pendingOf: the weight signed, who is missing, and what a signer is asked", () => {
  const c = contract({ approved: false, approvedVersion: null });
  assert.deepEqual(signatureProgress(c), { weight: 1, weightRequired: 3, waitingFor: [4] });
  const p = pendingOf(c, 4);
  assert.deepEqual(p, {
    contractId: 7, name: "site", ownerTwinId: 3, nodeId: 2, version: 1, weight: 2, required: true, weightRequired: 3, weightSigned: 1,
    approvedVersion: null, workloads: [{ name: "db", type: "zdb" }, { name: "web", type: "container" }],
  });
  assert.equal(pendingOf(c, 99), null, "a twin the contract does not ask");
});

test("zdbLookup: a provisioned 0-db's address (IPv6 bracketed); none before its node answers", () => {
  const c = contract({ results: { db: { name: "db", state: "ok", message: "", data: { namespace: "7-db", ips: ["fd00::2"], port: 9900 }, created: 1, version: 1 } } });
  assert.deepEqual(zdbLookup(c)("db"), { address: "[fd00::2]:9900", namespace: "7-db" });
  assert.equal(zdbLookup(contract())("db"), null);
  assert.equal(zdbLookup(null)("db"), null);
  // A container's logs that name the 0-db resolve through it; others are as signed.
  assert.deepEqual(logsTargetOf(c, { address: "zdb:db", namespace: "" }), { address: "[fd00::2]:9900", namespace: "7-db" });
  assert.equal(logsTargetOf(contract(), { address: "zdb:db", namespace: "" }), null);
  assert.deepEqual(logsTargetOf(c, { address: "10.1.1.1:9900", namespace: "ns" }), { address: "10.1.1.1:9900", namespace: "ns" });
});

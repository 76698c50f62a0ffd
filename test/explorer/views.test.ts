// The explorer's pure views: the nodes table's filters, sort and paging, newest-first pages,
// secrets shown only as sealed, what a search string can be, node status by time.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeRow } from "../../src/explorer/api.js";
import { nodeStatus, pageNewestFirst, parseNodeQuery, parseSearch, queryNodes, redactSealed, MAX_PAGE } from "../../src/explorer/views.js";
import { ValidationError, seal, generateSealKeyPair } from "../../src/core/index.js";

const cap = (n: number) => ({ cru: n, mru: n * 1024, sru: n * 2048, hru: n * 4096 });
function row(id: number, o: Partial<NodeRow> = {}): NodeRow {
  return { id, farmId: 1 + (id % 3), twinId: id, status: id % 4 === 0 ? "down" : "up", gateway: id % 5 === 0, capacity: cap(16), reserved: cap(16 - (id % 16)), free: cap(id % 16), used: cap(0), lastReportAt: id * 10, uptime: 1, workloads: 0, contracts: id % 7, ...o };
}
const rows = Array.from({ length: 1000 }, (_, i) => row(i + 1));
const q = (s: string) => parseNodeQuery(new URLSearchParams(s));

test("nodes: filters combine, sort with ties by id, one bounded page", () => {
  const p = queryNodes(rows, q("farmId=2&status=up&gateway=no&minCru=10&sort=freeCru&desc=1&limit=7&offset=3"));
  const want = rows.filter((n) => n.farmId === 2 && n.status === "up" && !n.gateway && n.free.cru >= 10)
    .sort((a, b) => b.free.cru - a.free.cru || a.id - b.id);
  assert.equal(p.total, want.length);
  assert.deepEqual(p.items.map((n) => n.id), want.slice(3, 10).map((n) => n.id));
  assert.equal(queryNodes(rows, q("")).items.length, 25, "a default page");
  assert.deepEqual(queryNodes(rows, q("sort=id&desc=1&limit=2")).items.map((n) => n.id), [1000, 999]);
  assert.equal(queryNodes(rows, q("offset=5000")).items.length, 0);
});

test("nodes: a bad query is refused, never served unbounded", () => {
  for (const bad of [`limit=${MAX_PAGE + 1}`, "limit=-1", "offset=x", "status=sideways", "gateway=maybe", "sort=__proto__", "farmId=1.5"]) {
    assert.throws(() => q(bad), ValidationError, bad);
  }
});

test("newest first: pages from the highest id down, sorted or not", () => {
  const items = [5, 1, 9, 3, 7].map((id) => ({ id }));
  assert.deepEqual(pageNewestFirst(items, 0, 2).items.map((x) => x.id), [9, 7]);
  assert.deepEqual(pageNewestFirst(items, 4, 2).items.map((x) => x.id), [1]);
  assert.deepEqual(pageNewestFirst([1, 2, 3].map((id) => ({ id })), 0, 10).items.map((x) => x.id), [3, 2, 1]);
  assert.equal(pageNewestFirst([], 0, 10).total, 0);
});

test("secrets show only as sealed, however deep", () => {
  const s = seal("the-password", generateSealKeyPair().publicKey);
  const out = JSON.stringify(redactSealed({ a: [{ password: s }], env: { X: s }, plain: "kept", n: 3, nothing: null }));
  assert.ok(!out.includes(s.sealed.slice(0, 16)), "the box is not shown");
  assert.match(out, /"password":\{"sealed":"\(sealed, \d+ bytes\)"\}/);
  assert.match(out, /"plain":"kept"/);
  assert.deepEqual(redactSealed({ sealed: "x", other: 1 }), { sealed: "x", other: 1 }, "not a sealed value: kept");
});

test("search: ids and heights, hashes and keys, nothing else", () => {
  assert.deepEqual(parseSearch(" 42 "), { kind: "number", n: 42 });
  assert.deepEqual(parseSearch("#7"), { kind: "number", n: 7 });
  assert.deepEqual(parseSearch("AB".repeat(32)), { kind: "hex", hex: "ab".repeat(32) });
  for (const s of ["", "-1", "1e3", "12345678901234567890", "ab".repeat(31), "<script>"]) assert.equal(parseSearch(s).kind, "none", s);
});

test("a node is down after three report intervals without a report", () => {
  assert.equal(nodeStatus({ lastReportAt: 100, registeredAt: 0 }, 130, 10), "up");
  assert.equal(nodeStatus({ lastReportAt: 100, registeredAt: 0 }, 131, 10), "down");
  assert.equal(nodeStatus({ lastReportAt: null, registeredAt: 100 }, 131, 10), "down");
});

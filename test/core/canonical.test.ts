import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalJson, ValidationError } from "../../src/core/index.js";

test("keys are sorted by UTF-16 code units, recursively, without whitespace", () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
  // RFC 8785 §3.2.3: "\u20ac" (€) sorts after "\r" and the surrogate pair for 😀 sorts by code unit, before "ﬂ".
  const obj = { "\u20ac": 1, "\r": 2, "\ud83d\ude00": 3, "\ufb02": 4, "1": 5 };
  assert.equal(canonicalJson(obj), '{"\\r":2,"1":5,"€":1,"😀":3,"ﬂ":4}');
});

test("numbers follow ECMAScript serialisation (RFC 8785 appendix B samples)", () => {
  const cases: Array<[number, string]> = [
    [0, "0"], [-0, "0"], [1e21, "1e+21"], [1e-7, "1e-7"], [333333333.3333333, "333333333.3333333"],
    [9007199254740992, "9007199254740992"], [5e-324, "5e-324"], [0.000001, "0.000001"], [123e-20, "1.23e-18"],
  ];
  for (const [n, s] of cases) assert.equal(canonicalJson(n), s);
});

test("strings are escaped as JSON.stringify does", () => {
  assert.equal(canonicalJson("a\"b\\c\n\u0001é"), '"a\\"b\\\\c\\n\\u0001é"');
});

test("undefined members are dropped, undefined array items become null", () => {
  assert.equal(canonicalJson({ a: undefined, b: [undefined, 1] }), '{"b":[null,1]}');
});

test("values JSON cannot hold are refused with a path", () => {
  assert.throws(() => canonicalJson({ a: [1, NaN] }), (e: unknown) => e instanceof ValidationError && /\$\.a\[1\]/.test(e.message));
  assert.throws(() => canonicalJson({ a: Infinity }), ValidationError);
  assert.throws(() => canonicalJson({ a: 1n }), ValidationError);
  assert.throws(() => canonicalJson({ a: Buffer.from("x") }), ValidationError);
  assert.throws(() => canonicalJson({ a: new Date(0) }), ValidationError);
  assert.throws(() => canonicalJson({ f: () => 1 }), ValidationError);
});

test("canonical form is independent of insertion order", () => {
  const a = { x: 1, y: { p: [3, 2], q: "s" } };
  const b = { y: { q: "s", p: [3, 2] }, x: 1 };
  assert.equal(canonicalJson(a), canonicalJson(b));
});

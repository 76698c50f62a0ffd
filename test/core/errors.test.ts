// The error model's tables and mappings: a thrown value becomes one typed error with one code, the
// code decides the HTTP status and the exit status, and a code read off the wire becomes the same class.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ERROR_CATALOGUE, ERROR_CLASSES, ERROR_CODES, GridError, ValidationError, NotFoundError, UnavailableError, ExhaustedError,
  InternalError, DeploymentFailedError, TimeoutError, errorFromCode, toGridError, exitCodeOf, httpStatusOf, isErrorCode, describeError,
} from "../../src/core/index.js";

test("every code has its own exit status, none of them 0, and `internal` keeps 1", () => {
  const exits = ERROR_CODES.map((c) => ERROR_CATALOGUE[c].exit);
  assert.equal(new Set(exits).size, exits.length, `two codes share an exit status: ${JSON.stringify(exits)}`);
  for (const e of exits) assert.ok(Number.isInteger(e) && e > 0 && e < 126, `exit ${e} is not a plain failure status`);
  assert.equal(ERROR_CATALOGUE.internal.exit, 1);
  assert.equal(ERROR_CATALOGUE.invalid.exit, 2);
});

test("every code's class carries that code, keeps the cause, and is a GridError", () => {
  for (const code of ERROR_CODES) {
    const cause = new Error("below");
    const e = new ERROR_CLASSES[code]("msg", "a hint", { cause });
    assert.ok(e instanceof GridError && e instanceof Error);
    assert.equal(e.code, code);
    assert.equal(e.name, ERROR_CLASSES[code].name);
    assert.equal(e.cause, cause);
    assert.equal(e.transient, ERROR_CATALOGUE[code].transient);
    assert.deepEqual(e.toJSON(), { code, message: "msg", hint: "a hint" });
    assert.equal(exitCodeOf(e), ERROR_CATALOGUE[code].exit);
    assert.equal(httpStatusOf(e), ERROR_CATALOGUE[code].status);
  }
  assert.equal("cause" in new ValidationError("no cause"), false, "no cause given: none made up");
});

test("errorFromCode: a code from the wire becomes its class; an unknown one is internal and says which", () => {
  for (const code of ERROR_CODES) {
    const e = errorFromCode(code, "m", "h");
    assert.ok(e instanceof ERROR_CLASSES[code]);
    assert.equal(e.message, "m");
    assert.equal(e.hint, "h");
  }
  const odd = errorFromCode("teapot", "brewing");
  assert.ok(odd instanceof InternalError);
  assert.match(odd.message, /brewing.*unknown error code "teapot"/);
  assert.ok(errorFromCode(undefined, "x") instanceof InternalError);
  assert.equal(isErrorCode("toString"), false, "inherited names are not codes");
  assert.equal(isErrorCode("not_found"), true);
});

test("toGridError: GridErrors pass through, errno decides system errors, the rest are internal with the cause kept", () => {
  const own = new DeploymentFailedError("x");
  assert.equal(toGridError(own), own);
  const sys = (code: string) => Object.assign(new Error(`${code} happened`), { code });
  for (const code of ["ENOSPC", "EDQUOT", "EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "ENOBUFS"]) {
    const e = toGridError(sys(code));
    assert.ok(e instanceof ExhaustedError, code);
    assert.equal(exitCodeOf(sys(code)), 13);
    assert.equal(e.transient, true);
  }
  for (const code of ["ECONNREFUSED", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNABORTED"]) {
    assert.ok(toGridError(sys(code)) instanceof UnavailableError, code);
    assert.equal(httpStatusOf(sys(code)), 503);
  }
  assert.ok(toGridError(sys("ENOENT")) instanceof NotFoundError);
  let syntax: unknown;
  try { JSON.parse("{"); } catch (e) { syntax = e; }
  assert.ok(toGridError(syntax) instanceof ValidationError);
  const plain = new Error("boom");
  const p = toGridError(plain);
  assert.ok(p instanceof InternalError);
  assert.equal(p.message, "boom");
  assert.equal(p.cause, plain);
  assert.ok(toGridError("a string") instanceof InternalError);
  assert.equal(toGridError("a string").message, "a string");
  assert.equal(exitCodeOf(plain), 1);
  assert.equal(exitCodeOf(new TimeoutError("slow")), 12);
});

test("describeError: message and hint on one line, any thrown value", () => {
  assert.equal(describeError(new ValidationError("bad size", "use 2GiB")), "bad size (use 2GiB)");
  assert.equal(describeError(new ValidationError("bad size")), "bad size");
  assert.equal(describeError(new Error("plain")), "plain");
  assert.equal(describeError(42), "42");
});

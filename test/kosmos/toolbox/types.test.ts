// The toolbox's public types are API: these lines must compile (tsc runs before the tests), and
// the lines marked to expect an error must stay errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import type { ConfigInput, ConfigOf, Executor, RunResult, Scope, SshExecutor } from "../../../src/kosmos/index.js";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
const check = <T extends true>(_: T) => _;

test("config instances are typed per type, with defaults filled in on the way out", () => {
  check<Equal<ConfigOf<"zdb">["port"], number>>(true);
  check<Equal<ConfigOf<"zdb">["password"], string | undefined>>(true);
  check<Equal<ConfigOf<"ssh">["user"], string>>(true);
  check<Equal<ConfigOf<"s3">["forcePathStyle"], boolean>>(true);
  // On the way in, defaults are optional.
  const zin: ConfigInput<"zdb"> = { namespace: "app" };
  // @ts-expect-error an ssh instance needs a host
  const sin: ConfigInput<"ssh"> = { port: 22 };
  // @ts-expect-error no such field in a zdb instance
  const bad: ConfigInput<"zdb"> = { namespace: "x", user: "root" };
  assert.ok(zin && sin && bad);
});

test("the shell's scope and the executors have the types the docs show", () => {
  check<Equal<ReturnType<Scope["zdb"]>, Promise<Redis>>>(true);
  check<Equal<ReturnType<Scope["ssh"]>, Promise<SshExecutor>>>(true);
  check<Equal<ReturnType<Executor["run"]>, Promise<RunResult>>>(true);
  check<Equal<RunResult["code"], number | null>>(true);
  const x = null as unknown as SshExecutor;
  const asExecutor: Executor = x;
  assert.equal(asExecutor, null);
});

// `kosmos run script.js`: a script body with the shell's objects in scope and top-level await. It is
// run as the body of an async function (so `await` works at its top level and the names are plain
// variables); `require` and `argv` are there too, and `await import(…)` for ES modules.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { NotFoundError, ValidationError } from "../../core/index.js";
import type { Scope } from "./scope.js";

const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

export async function runScript(file: string, scope: Scope, argv: string[] = []): Promise<unknown> {
  const path = resolve(file);
  let source: string;
  try { source = readFileSync(path, "utf8"); } catch (e) {
    throw new NotFoundError(`cannot read the script ${file}`, undefined, { cause: e });
  }
  if (/\.(ts|mts|cts)$/.test(path)) throw new ValidationError(`${file}: TypeScript scripts need compiling first on Node 20`, "run `npx tsc` on it and give the .js");
  // A shebang line is not JavaScript inside a function body.
  source = source.replace(/^#!.*/, "");
  // Without a ledger or an identity `grid` is a stand-in that says why on first use, so a script
  // that only uses `config` or `ssh` still runs.
  let grid: unknown;
  try { grid = scope.grid; } catch (e) { grid = new Proxy({}, { get: () => { throw e; } }); }
  const bindings: Record<string, unknown> = {
    grid, config: scope.config, ssh: scope.ssh, zdb: scope.zdb, ledger: scope.ledger, hub: scope.hub, local: scope.local,
    require: createRequire(path), argv, __filename: path,
  };
  const fn = new AsyncFunction(...Object.keys(bindings), `"use strict";\n${source}\n//# sourceURL=${path}`);
  return fn(...Object.values(bindings));
}

// `grid` ends through the shared CLI ending (src/runtime): the catalogue's exit status per error
// code, one line on stderr, or a JSON error body on stderr under --json. (kosmos's exits are asserted
// along its real flows in test/kosmos/cli.test.ts.) No grid is started: these are the error paths.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support.js";

const GRID = fileURLToPath(new URL("../../../bin/grid", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [GRID, ...args], { encoding: "utf8", timeout: 20_000 });

test("grid: a usage error exits 2 (invalid) with commander's message; help exits 0", () => {
  const bad = run("up", "--nodes", "0");
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /--nodes <n>.*is invalid/);
  const unknown = run("frobnicate");
  assert.equal(unknown.status, 2, unknown.stderr);
  const help = run("--help");
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: grid/);
});

test("grid: an error while running is one line on stderr, or a JSON body on stderr under --json, with the code's exit", (t) => {
  const dir = tempDir(t, "grid-exit");
  writeFileSync(join(dir, "grid.json"), "{damaged");
  const plain = run("status", "--data", dir);
  assert.equal(plain.status, 2, plain.stderr);
  assert.match(plain.stderr, /^grid: .*JSON/);
  assert.equal(plain.stdout, "");
  const json = run("status", "--data", dir, "--json");
  assert.equal(json.status, 2);
  assert.equal(json.stdout, "", "stdout stays for results");
  const body = JSON.parse(json.stderr) as { error: { code: string; message: string } };
  assert.equal(body.error.code, "invalid");
  assert.match(body.error.message, /JSON/);
});

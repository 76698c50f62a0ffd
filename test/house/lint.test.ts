// The lint (Biome, biome.json) passes on the tree, and its one project rule — no bare
// `throw new Error(` in src/ (scripts/lint/no-throw-new-error.grit) — really fires, in src/ only.
// biome.json exempts the files other branches are still converting; this test fails when that list
// names a file that no longer throws a bare Error (take it off) or misses one that does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const BIOME = join(REPO, "node_modules", ".bin", "biome");

function biome(cwd: string, ...args: string[]) {
  return spawnSync(BIOME, ["lint", "--diagnostic-level=error", "--colors=off", ...args], { cwd, encoding: "utf8", timeout: 60_000 });
}

/** The code of a file without its comments (block comments, and lines that are only a comment). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").split("\n").filter((l) => !l.trim().startsWith("//")).join("\n");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("biome lint passes on the tree (test command runs the same)", () => {
  const r = biome(REPO, ".");
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
});

test("the bare-Error rule fires on src/, not on tests", (t) => {
  const dir = tempDir(t, "lint-probe");
  writeFileSync(join(dir, "biome.json"), readFileSync(join(REPO, "biome.json")));
  cpSync(join(REPO, "scripts", "lint"), join(dir, "scripts", "lint"), { recursive: true });
  mkdirSync(join(dir, "src", "part"), { recursive: true });
  mkdirSync(join(dir, "test", "part"), { recursive: true });
  const body = [
    "export function a(x: number): void { if (x) throw new Error(String(x)); }",
    "export function b(e: unknown): void { throw new Error(\"m\", { cause: e }); }",
    "export function c(): void { throw Error(\"no new\"); }",
    "export function d(): Error { return new Error(\"built, not thrown: allowed\"); }",
    "",
  ].join("\n");
  writeFileSync(join(dir, "src", "part", "probe.ts"), body);
  writeFileSync(join(dir, "test", "part", "probe.test.ts"), body);
  const r = biome(dir, "--max-diagnostics=50", ".");
  assert.equal(r.status, 1, "the lint must fail on a bare Error thrown in src/");
  const out = r.stdout + r.stderr;
  const hits = [...out.matchAll(/^(\S+probe\S*\.ts):(\d+):\d+ plugin/gm)].map((m) => `${m[1]}:${m[2]}`);
  assert.deepEqual(hits.sort(), ["src/part/probe.ts:1", "src/part/probe.ts:2", "src/part/probe.ts:3"], out);
});

test("biome.json's exemptions are exactly the src files that still throw a bare Error", () => {
  const config = JSON.parse(readFileSync(join(REPO, "biome.json"), "utf8")) as { overrides: { includes: string[]; plugins?: string[] }[] };
  const rule = config.overrides.find((o) => o.plugins?.some((p) => p.endsWith("no-throw-new-error.grit")));
  assert.ok(rule, "biome.json has no override with the bare-Error rule");
  const exempt = rule.includes.filter((g) => g.startsWith("!")).map((g) => g.slice(1)).sort();
  const offenders = files(join(REPO, "src"))
    .filter((f) => /\bthrow\s+(new\s+)?Error\(/.test(code(readFileSync(f, "utf8"))))
    .map((f) => relative(REPO, f)).sort();
  const stale = exempt.filter((f) => !offenders.includes(f));
  const missing = offenders.filter((f) => !exempt.includes(f));
  assert.deepEqual(stale, [], "these files no longer throw a bare Error: take them off biome.json's list");
  assert.deepEqual(missing, [], "these files throw a bare Error and are not on the list (the lint should have said so)");
});

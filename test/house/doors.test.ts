// The doors and arrows of docs/layout.md, enforced: dependency-cruiser with .dependency-cruiser.cjs
// over the compiled tree (dependency-cruiser 16 cannot parse TypeScript 7's sources), and the same
// rules over the TypeScript sources' own import lines, so a type-only import — which the compiler
// erases — cannot slip past a door either. A probe tree shows every rule fires.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../support.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CONFIG = join(REPO, ".dependency-cruiser.cjs");
const DEPCRUISE = join(REPO, "node_modules", ".bin", "depcruise");

interface Side { path?: string | string[]; pathNot?: string | string[] }
interface Rule { name: string; from: Side; to: Side }
const RULES = (createRequire(import.meta.url)(CONFIG) as { forbidden: Rule[] }).forbidden;

interface Violation { rule: string; from: string; to: string }

/** dependency-cruiser over `root/src` (paths relative to root), its violations. */
function cruise(root: string): Violation[] {
  const r = spawnSync(DEPCRUISE, ["--config", CONFIG, "--output-type", "json", "src"], { cwd: root, encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 });
  assert.ok(r.stdout, `depcruise printed nothing: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { summary: { violations: { from: string; to: string; rule: { name: string } }[] } };
  return out.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
}

const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The same rules applied to one arrow, as dependency-cruiser reads them ($1 is from.path's group). */
function broken(from: string, to: string): string[] {
  return RULES.filter((r) => {
    const m = list(r.from.path).map((p) => new RegExp(p).exec(from)).find(Boolean);
    if (!m || list(r.from.pathNot).some((p) => new RegExp(p).test(from))) return false;
    const sub = (p: string) => new RegExp(p.replace(/\$(\d)/g, (_, i: string) => m[Number(i)] ?? ""));
    return list(r.to.path).some((p) => sub(p).test(to)) && !list(r.to.pathNot).some((p) => sub(p).test(to));
  }).map((r) => r.name);
}

/** The code of a file without its comments (block comments, and lines that are only a comment). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").split("\n").filter((l) => !l.trim().startsWith("//")).join("\n");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import, re-export and dynamic import of the sources under `root/src`, `import type` included. */
function sourceArrows(root: string): { from: string; to: string }[] {
  const spec = /(?:\b(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?|\bimport\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g;
  return tsFiles(join(root, "src")).flatMap((file) => {
    const from = relative(root, file).split("\\").join("/");
    return [...code(readFileSync(file, "utf8")).matchAll(spec)].map((m) => ({ from, to: posix.normalize(posix.join(posix.dirname(from), m[1])).replace(/\.js$/, ".ts") }));
  });
}

test("the compiled tree (dist/src) has no forbidden arrow and no import past a door", () => {
  const violations = cruise(join(REPO, "dist"));
  assert.deepEqual(violations, [], violations.map((v) => `${v.rule}: ${v.from} → ${v.to}`).join("\n"));
});

test("the TypeScript sources, type-only imports included, keep the same rules", () => {
  const arrows = sourceArrows(REPO);
  assert.ok(arrows.length > 200, `only ${arrows.length} imports found: the scanner is broken`);
  assert.ok(arrows.some((a) => a.from === "src/kosmos/cli/output.ts" && a.to === "src/kosmos/views.ts"), "a type-only import was not seen");
  const bad = arrows.flatMap((a) => broken(a.from, a.to).map((rule) => `${rule}: ${a.from} → ${a.to}`));
  assert.deepEqual(bad, []);
});

test("every rule fires on a probe tree, in compiled and in source form", (t) => {
  const dir = tempDir(t, "doors-probe");
  // part file → what it imports; each comment is the rule it must break.
  const files: Record<string, string[]> = {
    "core/index": ["../zdb/index"], // core-is-a-leaf
    "runtime/index": ["../core/index", "../ledger/index"], // runtime-needs-only-core
    "zdb/index": ["../core/index", "../runtime/index", "../flist/index"], // zdb-needs-only-core
    "ledger/index": ["./chain", "../node/index"], // ledger-not-node-or-kosmos
    "ledger/chain": [],
    "ledger/client/index": [],
    "node/index": ["../kosmos/index", "../ledger/client/index"], // node-not-kosmos
    "gateway/index": ["../core/index", "../flist/index"], // gateway-needs-only-core
    "s3/index": ["../zdb/index", "../ledger/index"], // s3-needs-only-core
    "kosmos/index": ["./sdk", "../ledger/chain", "../flist/index"], // only-through-the-door
    "kosmos/sdk": [],
    "flist/index": [],
  };
  for (const [f, deps] of Object.entries(files)) {
    for (const ext of ["js", "ts"]) {
      const path = join(dir, ext, "src", `${f}.${ext}`);
      mkdirSync(dirname(path), { recursive: true });
      const imports = deps.map((d) => (ext === "ts" ? `import type { A } from "${d}.js";` : `import "${d}.js";`));
      writeFileSync(path, `${imports.join("\n")}\nexport const a = 1;\n`);
    }
  }
  const expected = [
    "core-is-a-leaf: src/core/index → src/zdb/index",
    "gateway-needs-only-core: src/gateway/index → src/flist/index",
    "ledger-not-node-or-kosmos: src/ledger/index → src/node/index",
    "node-not-kosmos: src/node/index → src/kosmos/index",
    "only-through-the-door: src/kosmos/index → src/ledger/chain",
    "runtime-needs-only-core: src/runtime/index → src/ledger/index",
    "s3-needs-only-core: src/s3/index → src/ledger/index",
    "zdb-needs-only-core: src/zdb/index → src/flist/index",
  ];
  const strip = (p: string) => p.replace(/\.(js|ts)$/, "");
  const compiled = cruise(join(dir, "js")).map((v) => `${v.rule}: ${strip(v.from)} → ${strip(v.to)}`).sort();
  assert.deepEqual(compiled, expected, "dependency-cruiser");
  const source = sourceArrows(join(dir, "ts")).flatMap((a) => broken(a.from, a.to).map((r) => `${r}: ${strip(a.from)} → ${strip(a.to)}`)).sort();
  assert.deepEqual(source, expected, "the source scan");
});

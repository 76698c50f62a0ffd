#!/usr/bin/env node
// Runs every compiled test file with Node's built-in runner. Files are found here rather than by a
// shell glob so the command is the same on every machine. Pass paths or a part name to narrow it.
import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { spawnSync } from "node:child_process";

const root = resolve(new URL("..", import.meta.url).pathname);
const testRoot = join(root, "dist", "test");
const filters = process.argv.slice(2);

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith(".test.js")) out.push(p);
  }
  return out;
}

let files = walk(testRoot);
// Filters match the path from the repository root (dist/test/zdb/protocol.test.js), not the absolute
// one: a checkout in /work/wt-house must not make the filter "house/" match every file.
if (filters.length) files = files.filter((f) => filters.some((x) => relative(root, f).includes(x)));
if (!files.length) { console.error("no test files found; run `npm run build` first"); process.exit(1); }
const args = ["--test", "--test-reporter=spec", `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files];
// The tests start their own grids: a user's Kosmos settings (a demo grid's `export KOSMOS_LEDGER=…`)
// must not reach the commands they run.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(KOSMOS_|HELLO_FLIST$)/.test(k)));
const r = spawnSync(process.execPath, args, { stdio: "inherit", cwd: root, env });
process.exit(r.status ?? 1);

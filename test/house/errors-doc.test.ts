// docs/errors.md against core's catalogue (fastify's errors test is the model): the page lists every
// code and no other, and every class, status, exit code, transience, meaning and action it shows is
// the catalogue's. Edit the catalogue, then the page; this test says where they part.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ERROR_CATALOGUE, ERROR_CLASSES, ERROR_CODES } from "../../src/core/index.js";

const DOC = fileURLToPath(new URL("../../../docs/errors.md", import.meta.url));
const text = readFileSync(DOC, "utf8");

const yesNo = (b: boolean) => (b ? "yes" : "no");
const cells = (line: string) => line.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());

/** The overview table's rows: `| [`code`](#code) | `Class` | status | exit | transient |`. */
function overviewRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const m = /^\| \[`([a-z_]+)`\]\(#[a-z_]+\) \|/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]), `the overview lists ${m[1]} twice`);
      rows.set(m[1], cells(line).slice(1));
    }
  }
  return rows;
}

/** Each `### \`code\`` section: its table row and its meaning and action lines. */
function sections(): Map<string, { row: string[]; meaning?: string; action?: string }> {
  const out = new Map<string, { row: string[]; meaning?: string; action?: string }>();
  const parts = text.split(/^### /m).slice(1);
  for (const part of parts) {
    const code = /^`([^`]+)`/.exec(part)?.[1];
    assert.ok(code, `a section without a code heading: ${part.slice(0, 60)}`);
    assert.ok(!out.has(code), `the page has two sections for ${code}`);
    const lines = part.split("\n");
    const rowLine = lines.find((l) => /^\| `[A-Za-z]+` \|/.test(l));
    assert.ok(rowLine, `section ${code} has no table row`);
    const meaning = /^\*\*Meaning:\*\* (.*)\.$/m.exec(part)?.[1];
    const action = /^\*\*What to do:\*\* (.*)\.$/m.exec(part)?.[1];
    out.set(code, { row: cells(rowLine), meaning, action });
  }
  return out;
}

test("docs/errors.md lists every code of the catalogue and no other", () => {
  const codes = [...ERROR_CODES].sort();
  assert.deepEqual([...overviewRows().keys()].sort(), codes, "the overview table's codes");
  assert.deepEqual([...sections().keys()].sort(), codes, "the page's sections");
});

test("docs/errors.md shows each code's class, HTTP status, exit code and transience as the catalogue has them", () => {
  const overview = overviewRows();
  const secs = sections();
  for (const code of ERROR_CODES) {
    const e = ERROR_CATALOGUE[code];
    const want = [`\`${ERROR_CLASSES[code].name}\``, String(e.status), String(e.exit), yesNo(e.transient)];
    assert.deepEqual(overview.get(code), want, `overview row of ${code}`);
    assert.deepEqual(secs.get(code)?.row, want, `section table of ${code}`);
  }
});

test("docs/errors.md says what each code means and what the user does, in the catalogue's words", () => {
  const secs = sections();
  for (const code of ERROR_CODES) {
    assert.equal(secs.get(code)?.meaning, ERROR_CATALOGUE[code].meaning, `meaning of ${code}`);
    assert.equal(secs.get(code)?.action, ERROR_CATALOGUE[code].action, `action of ${code}`);
  }
});

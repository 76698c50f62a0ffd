// The explorer in a real browser (Debian's chromium driven by playwright-core) against a real
// ledger: the overview shows the grid, a contract made while the page is open appears without a
// reload, a node that stops reporting turns down on its page, the search finds a contract, every
// page renders (a screenshot each), axe-core finds no serious or critical violation, and the
// keyboard reaches the search box and the navigation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { REPO_ROOT, startLedger, tempDir } from "../support.js";
import { startExplorer } from "../../src/explorer/index.js";
import { createContract, seed } from "./seed.js";

const CHROMIUM = "/usr/bin/chromium";
const AXE = join(REPO_ROOT, "node_modules", "axe-core", "axe.min.js");

async function launch(t: { after(fn: () => Promise<void>): void }): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"], timeout: 30_000 });
  t.after(() => browser.close());
  return browser;
}

/** A full-page screenshot under the test's folder, checked non-empty; also kept in EXPLORER_SHOTS if set (docs). */
async function shot(page: Page, dir: string, name: string): Promise<string> {
  const file = join(dir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  assert.ok(statSync(file).size > 2000, `screenshot ${name} is (nearly) empty`);
  if (process.env.EXPLORER_SHOTS) copyFileSync(file, join(process.env.EXPLORER_SHOTS, `${name}.png`));
  return file;
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => {
    const res = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } }).axe.run();
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, where: v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ") }));
  });
  return r.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${v.impact} ${v.id} at ${v.where}`);
}

test("the explorer in a browser: overview, live contracts, node down, search, every page, accessibility", { timeout: 120_000 }, async (t) => {
  const ledger = await startLedger(tempDir(t, "explorer-ledger"), { args: ["--faucet", "--block-interval", "200", "--report-interval", "1"], t });
  const out = tempDir(t, "explorer-shots");
  const grid = await seed(ledger.client, 2);
  const [live, dying] = grid.nodes;
  // The first node keeps reporting (bounded by the test's life); the second never reports again.
  let reporting = true;
  const reporter = (async () => {
    for (let i = 0; reporting && i < 600; i++) {
      await live.signer.send("node.report", { nodeId: live.id, uptime: i + 2, used: { cru: 0, mru: 0, sru: 0, hru: 0 } }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  t.after(async () => { reporting = false; await reporter; });

  const ex = await startExplorer({ ledger: ledger.url });
  t.after(() => ex.close());
  const browser = await launch(t);
  // axe is injected as a script: the explorer's CSP (rightly) forbids that, so this context bypasses it.
  const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // 1. Overview: the seeded nodes and contract.
  await page.goto(ex.url);
  await page.waitForFunction(() => /\/ 2$/.test(document.getElementById("nodes-up")?.textContent ?? ""), undefined, { timeout: 10_000 });
  assert.equal(await page.textContent("#contracts-active"), "1");
  assert.ok(await page.isVisible(`#latest-contracts a[href="#/contracts/${grid.contractIds[0]}"]`));
  await page.waitForFunction(() => /^live/.test(document.getElementById("live")?.textContent ?? ""), undefined, { timeout: 10_000 });
  await shot(page, out, "overview");
  assert.deepEqual(await axeViolations(page), [], "overview accessibility");

  // 2. A contract made while the page is open appears without a reload.
  await page.evaluate(() => { (window as unknown as { marker: number }).marker = 42; });
  // Its description is markup anyone could write on the ledger: it must show as text.
  const XSS = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`;
  const id2 = await createContract(grid.user, live, XSS);
  const included = Date.now();
  await page.waitForSelector(`#latest-contracts a[href="#/contracts/${id2}"]`, { timeout: 5_000 });
  const appearedMs = Date.now() - included;
  t.diagnostic(`contract ${id2} appeared on the open overview ${appearedMs} ms after its inclusion`);
  assert.ok(appearedMs < 2_000, `the new contract took ${appearedMs} ms to appear`);
  assert.equal(await page.textContent("#contracts-active"), "2");
  assert.equal(await page.evaluate(() => (window as unknown as { marker?: number }).marker), 42, "the page was not reloaded");

  // 3. Keyboard: Tab reaches the nav links and the search box.
  await page.focus("body");
  const reached = new Set<string>();
  for (let i = 0; i < 15; i++) {
    await page.keyboard.press("Tab");
    reached.add(await page.evaluate(() => { const a = document.activeElement as HTMLElement | null; return a ? a.id || a.getAttribute("href") || a.tagName : ""; }));
  }
  for (const want of ["#/", "#/nodes", "#/farms", "#/contracts", "#/blocks", "q"]) assert.ok(reached.has(want), `Tab never reached ${want}: ${[...reached].join(" ")}`);
  assert.equal(await page.getAttribute("#q", "aria-label") ?? await page.textContent("label[for=q]"), "Search");

  // 4. Search finds a contract by id (a number matches several kinds: the results list them).
  await page.fill("#q", String(id2));
  await page.keyboard.press("Enter");
  await page.waitForSelector(`#search-results a[href="#/contracts/${id2}"]`, { timeout: 5_000 });
  await shot(page, out, "search");
  await page.click(`#search-results a[href="#/contracts/${id2}"]`);
  await page.waitForFunction((id) => document.querySelector("h1")?.textContent === `Contract ${id}`, id2, { timeout: 5_000 });
  const body = await page.textContent("main");
  assert.ok(body!.includes(XSS), "ledger text shows as text");
  assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined, "no script ran from ledger data");
  assert.equal(await page.$$eval("main img, main script", (els) => els.length), 0);
  assert.ok(body!.includes("sealed,"), "the zdb password shows as sealed");
  const ciphertext = ((await ledger.client.contract(id2)).deployment.workloads[1].data as { password: { sealed: string } }).password.sealed;
  assert.ok(!body!.includes(ciphertext.slice(0, 24)), "the sealed box itself is not shown either");
  assert.match(body!, /Signatures: weight 1 of 1 required/);
  await shot(page, out, "contract");
  assert.deepEqual(await axeViolations(page), [], "contract page accessibility");

  // 5. A node that stopped reporting turns down on its page (3 report intervals of 1 s).
  await page.goto(`${ex.url}#/nodes/${dying.id}`);
  await page.waitForFunction(() => document.getElementById("node-status")?.textContent === "down", undefined, { timeout: 15_000 });
  await shot(page, out, "node-down");
  await page.goto(`${ex.url}#/nodes/${live.id}`);
  await page.waitForFunction(() => document.getElementById("node-status")?.textContent === "up", undefined, { timeout: 5_000 });
  await shot(page, out, "node");

  // 6. Every other page renders, with its own URL.
  const height = (await ledger.client.status()).height;
  const pages: [string, string, RegExp][] = [
    ["nodes", "#/nodes?status=up&sort=freeCru&desc=1", /1 node match/],
    ["farms", "#/farms", new RegExp(`farm ${grid.farmId}`)],
    ["farm", `#/farms/${grid.farmId}`, /Nodes/],
    ["contracts", "#/contracts", /2 contracts/],
    ["twin", `#/twins/${grid.user.twinId}`, /Contracts \(2\)/],
    ["chain", "#/blocks", /Height/],
    ["block", `#/blocks/${height}`, new RegExp(`Block ${height}`)],
    ["genesis", "#/blocks/0", /Genesis/],
  ];
  for (const [name, hash, want] of pages) {
    await page.goto(`${ex.url}${hash}`);
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("main")?.textContent ?? ""), want.source, { timeout: 5_000 });
    await shot(page, out, name);
    if (name === "nodes" || name === "chain") assert.deepEqual(await axeViolations(page), [], `${name} accessibility`);
  }
  assert.deepEqual(errors, [], "no error in the page");
});

// The pure parts of "tell the user the truth, early": the entrypoint found in an flist document as
// the node would find it, a node's liveness by its last report, the per-workload diff of an update,
// the balance's runway, and the price list docs/billing.md carries (regenerated here: stale fails).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { GiB, MiB, ValidationError, InsufficientFundsError, DEFAULT_PRICES, generateKeyPair, reservationCost } from "../../src/core/index.js";
import type { Flist } from "../../src/flist/index.js";
import { entrypointProblem } from "../../src/kosmos/entrypoint.js";
import { nodeLiveness } from "../../src/kosmos/preflight.js";
import { diffDeployments, diffLines } from "../../src/kosmos/diff.js";
import { runway, checkRunway, durationText, runwayText } from "../../src/kosmos/money.js";
import { GENERATED_BEGIN, GENERATED_END, priceRows, priceTableMarkdown } from "../../src/kosmos/prices.js";
import { buildDeployment, parseDeploymentText, placeholderSealer } from "../../src/kosmos/spec/index.js";
import { REPO } from "./helpers.js";

const h = "0".repeat(64);
const FLIST: Flist = {
  version: 1, chunkSize: 1024 * 1024,
  config: { entrypoint: [], cmd: ["/bin/sh"], env: ["PATH=/usr/bin:/bin"], workdir: "/" },
  entries: [
    { path: "bin", type: "dir", mode: 0o755, uid: 0, gid: 0 },
    { path: "bin/busybox", type: "file", mode: 0o755, uid: 0, gid: 0, size: 1, chunks: [h] },
    { path: "bin/httpd", type: "symlink", mode: 0o777, uid: 0, gid: 0, target: "busybox" },
    { path: "bin/sh", type: "symlink", mode: 0o777, uid: 0, gid: 0, target: "/bin/busybox" },
    { path: "bin/loop", type: "symlink", mode: 0o777, uid: 0, gid: 0, target: "loop" },
    { path: "etc", type: "dir", mode: 0o755, uid: 0, gid: 0 },
    { path: "etc/motd", type: "file", mode: 0o644, uid: 0, gid: 0, size: 1, chunks: [h] },
    { path: "usr", type: "symlink", mode: 0o777, uid: 0, gid: 0, target: "." },
  ],
};

test("the entrypoint is looked up in the flist as the node would: symlinks, PATH, the image's command", () => {
  assert.equal(entrypointProblem(FLIST, "/bin/httpd -f -p 80"), null, "a relative symlink");
  assert.equal(entrypointProblem(FLIST, "httpd -f"), null, "found on the image's PATH");
  assert.equal(entrypointProblem(FLIST, "'/bin/sh' -c 'echo hi'"), null, "an absolute symlink, quotes");
  assert.equal(entrypointProblem(FLIST, "/usr/bin/httpd"), null, "through a symlinked folder");
  assert.equal(entrypointProblem(FLIST, ""), null, "the image's own cmd");
  assert.match(entrypointProblem(FLIST, "/bin/nginx -g x")!, /entrypoint \/bin\/nginx is not in the flist$/);
  assert.match(entrypointProblem(FLIST, "nginx")!, /not in the flist's PATH \(\/usr\/bin:\/bin\)/);
  assert.match(entrypointProblem(FLIST, "nginx", { PATH: "/opt" })!, /PATH \(\/opt\)/, "the workload's PATH wins");
  assert.match(entrypointProblem(FLIST, "/etc/motd")!, /not executable \(mode 644\)/);
  assert.match(entrypointProblem(FLIST, "/bin/loop")!, /not in the flist/, "a symlink loop ends");
  assert.match(entrypointProblem(FLIST, "/etc")!, /not in the flist/, "a folder is not a program");
  assert.match(entrypointProblem({ ...FLIST, config: { ...FLIST.config, cmd: [] } }, "")!, /nothing to run/);
  assert.throws(() => entrypointProblem(FLIST, "/bin/sh -c 'oops"), ValidationError);
});

test("a node is up only with a report within two report intervals, and never without one", () => {
  const f = { time: 1000, reportInterval: 10, billingPeriod: 3600, gracePeriod: 60 };
  assert.deepEqual(nodeLiveness({ id: 1, status: "up", lastReportAt: 990 }, f), { up: true, why: "node 1 reported 10 s ago" });
  assert.equal(nodeLiveness({ id: 1, status: "up", lastReportAt: 980 }, f).up, true);
  const stale = nodeLiveness({ id: 1, status: "up", lastReportAt: 979 }, f);
  assert.equal(stale.up, false, "the ledger still says up (3 intervals), kosmos does not (2)");
  assert.match(stale.why, /last reported 21 s ago \(nodes report every 10 s\)/);
  assert.match(nodeLiveness({ id: 2, status: "up", lastReportAt: null }, f).why, /node 2 has never reported since it registered/);
  assert.equal(nodeLiveness({ id: 3, status: "down", lastReportAt: 999 }, f).up, false);
});

test("an update's plan says per workload what changes, secrets by name only", () => {
  const keys = generateKeyPair();
  const v0 = `name: app
volumes:
  - {name: data, size: 1GiB}
  - {name: old, size: 1GiB}
containers:
  - name: web
    flist: http://hub/flists/me/app
    memory: 64MiB
    rootfsSize: 64MiB
    env: {MODE: a, KEEP: x}
    secretEnv: {TOKEN: t1}
`;
  const first = buildDeployment({ spec: parseDeploymentText(v0), twinId: 1, nodeId: 1, privateKey: keys.privateKey, sealSecret: placeholderSealer }).deployment;
  const v1 = v0.replace("  - {name: old, size: 1GiB}\n", "  - {name: new, size: 2GiB}\n").replace("memory: 64MiB", "memory: 128MiB").replace("MODE: a", "MODE: b, ADDED: y");
  const next = buildDeployment({ spec: parseDeploymentText(v1), twinId: 1, nodeId: 1, privateKey: keys.privateKey, sealSecret: placeholderSealer, previous: first });
  const d = diffDeployments(first, next.deployment);
  assert.deepEqual(d.workloads.map((w) => [w.name, w.change]), [["data", "unchanged"], ["new", "added"], ["web", "changed"], ["old", "removed"]]);
  assert.deepEqual(d.workloads.find((w) => w.name === "web")!.fields, ["env.ADDED added", 'env.MODE: "a" → "b"', "memory: 64 MiB → 128 MiB"]);
  const secretOnly = buildDeployment({ spec: parseDeploymentText(v0.replace("t1", "t2")), twinId: 1, nodeId: 1, privateKey: keys.privateKey, sealSecret: placeholderSealer, previous: first });
  assert.deepEqual(diffDeployments(first, secretOnly.deployment).workloads.find((w) => w.name === "web")!.fields, ["secret changed"]);
  assert.deepEqual(diffLines(d), ["  = data (volume) unchanged", "  + new (volume) added", '  ~ web (container) changed: env.ADDED added; env.MODE: "a" → "b"; memory: 64 MiB → 128 MiB', "  - old (volume) removed"]);
});

test("the runway: whole billing periods the balance pays, and a refusal below one", () => {
  const r = runway(1000, 100, 10, 3600);
  assert.equal(r.coversSeconds, 9 * 3600);
  assert.equal(durationText(r.coversSeconds!), "9 h");
  assert.match(runwayText(r), /your balance 1000 covers 9 h at 110 per billing period of 1 h \(with your other deployments' 10\)/);
  assert.equal(r.enough, true);
  const poor = runway(105, 100, 10, 3600);
  assert.equal(poor.enough, false);
  assert.throws(() => checkRunway(poor, false), (e) => e instanceof InsufficientFundsError && /does not cover one billing period/.test(e.message) && /--force/.test(e.hint ?? ""));
  assert.doesNotThrow(() => checkRunway(poor, true));
  assert.equal(runway(0, 0, 0, 60).enough, true, "what costs nothing needs no money");
  assert.equal(durationText(90061), "1 d 1 h");
});

test("docs/billing.md carries the price table the code computes (regenerate: kosmos prices --markdown)", () => {
  const rows = priceRows();
  const one = rows.find((r) => r.what === "1 CPU with 1 GiB memory")!;
  assert.equal(one.perHour, reservationCost({ cru: 1, mru: GiB, sru: 0, hru: 0 }, { publicIps: 0, names: 0 }, 3600), "the ledger's own formula");
  assert.equal(rows.find((r) => r.what.startsWith("1 GiB of SSD"))!.perMonth, Math.ceil((DEFAULT_PRICES.suPerHour / 200) * 720));
  assert.ok(rows.find((r) => r.what === "1 CPU with 256 MiB memory")!.perHour <= one.perHour, `${256 * MiB}`);
  const doc = readFileSync(join(REPO, "docs", "billing.md"), "utf8");
  const start = doc.indexOf(GENERATED_BEGIN), end = doc.indexOf(GENERATED_END);
  assert.ok(start >= 0 && end > start, "docs/billing.md has the generated section's markers");
  assert.equal(doc.slice(start + GENERATED_BEGIN.length, end).trim(), priceTableMarkdown().trim(),
    "docs/billing.md's price table is stale: replace its generated section with the output of `kosmos prices --markdown`");
});

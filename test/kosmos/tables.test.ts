// What `kosmos ls` and `kosmos show` print for a container that restarts and crash-loops: restarts
// and OOM kills in their own columns (not only inside --json data), the crash's message in the
// table on one line and its last output below it.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Contract } from "../../src/ledger/client/index.js";
import type { Workload } from "../../src/core/index.js";
import { viewOf } from "../../src/kosmos/views.js";
import { deploymentText, deploymentsTable } from "../../src/kosmos/cli/output.js";

function contract(results: Contract["results"]): Contract {
  const workloads = [
    { name: "db", type: "zdb", version: 0, description: "", data: {} },
    { name: "web", type: "container", version: 0, description: "", data: {} },
    { name: "crashy", type: "container", version: 0, description: "", data: {} },
  ] as unknown as Workload[];
  return {
    id: 9, twinId: 3, nodeId: 2, state: "active", signatures: [], approved: true, approvedVersion: 0, approvedDeployment: null, approvedSignatures: [],
    results, costPerPeriod: 5, createdAt: 0, updatedAt: 0, billedUntil: 0,
    deployment: { version: 0, twinId: 3, nodeId: 2, metadata: JSON.stringify({ name: "app" }), description: "", signatureRequirement: { requests: [], weightRequired: 1 }, workloads },
  } as unknown as Contract;
}

test("ls and show: RESTARTS and OOM columns; a crash loop's output under the table", () => {
  const crash = "crash loop: 5 restarts within 60s (7 in all, 0 out of memory); last: exited with code 3 after 0s; restarted; its last output:\nline-38\nline-39\nabout to fail";
  const v = viewOf(contract({
    db: { name: "db", state: "ok", message: "", data: { namespace: "9-db", ips: ["127.0.0.1"], port: 9900 }, created: 1, version: 0 },
    web: { name: "web", state: "ok", message: "killed: out of memory (over its 16 MiB limit); restarted", data: { ip: "100.96.0.2", restarts: 2, oomKills: 1 }, created: 1, version: 0 },
    crashy: { name: "crashy", state: "error", message: crash, data: { ip: "100.96.0.3", restarts: 7, oomKills: 0, exitCode: 3, crashLoop: true }, created: 1, version: 0 },
  }));
  assert.deepEqual(v.workloads.map((w) => [w.name, w.restarts, w.oomKills]), [["db", undefined, undefined], ["web", 2, 1], ["crashy", 7, 0]]);

  const show = deploymentText(v).split("\n");
  assert.match(show[1], /^WORKLOAD\s+TYPE\s+STATE\s+RESTARTS\s+OOM\s+MESSAGE$/);
  assert.match(show[2], /^db\s+zdb\s+ok\s+-\s+-$/);
  assert.match(show[3], /^web\s+container\s+ok\s+2\s+1\s+killed: out of memory/);
  assert.match(show[4], /^crashy\s+container\s+error\s+7\s+0\s+crash loop: 5 restarts within 60s .*its last output: …$/);
  const below = show.indexOf("crashy, its last output:");
  assert.ok(below > 4, show.join("\n"));
  assert.deepEqual(show.slice(below + 1, below + 4), ["  line-38", "  line-39", "  about to fail"]);

  const ls = deploymentsTable([v], false).split("\n");
  assert.match(ls[0], /^NAME\s+CONTRACT\s+NODE\s+STATE\s+VERSION\s+WORKLOADS\s+RESTARTS$/);
  assert.match(ls[1], /^app\s+9\s+2\s+active\s+0\s+db:ok web:ok crashy:error\s+9 \(1 oom\)$/);
});

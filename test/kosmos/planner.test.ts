import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseNode, estimateCost, needOf, type PlannerNode } from "../../src/kosmos/planner.js";
import { parseDeploymentText, translateWorkloads, placeholderSealer } from "../../src/kosmos/spec/index.js";
import { CapacityError, NotFoundError, GiB, reservationCost } from "../../src/core/index.js";

const node = (id: number, farmId: number, hru: number, sru: number, status: "up" | "down" = "up"): PlannerNode =>
  ({ id, farmId, status, free: { cru: 4, mru: 8 * GiB, sru: sru * GiB, hru: hru * GiB }, underlay: `10.0.0.${id}`, sealKey: "00".repeat(32) });

const spec = parseDeploymentText("name: x\nzdbs: [{name: db, size: 10GiB, password: p}]\nvolumes: [{name: v, size: 1GiB}]\n");
const need = needOf(translateWorkloads(spec, placeholderSealer).map((t) => t.workload));

test("need: a zdb reserves HDD, a volume SSD", () => {
  assert.deepEqual(need, { cru: 0, mru: 0, sru: GiB, hru: 10 * GiB });
});

test("picks the node with the most free disk among those that fit and are up", () => {
  const nodes = [node(1, 1, 5, 100), node(2, 1, 50, 10), node(3, 1, 500, 500, "down"), node(4, 2, 20, 10)];
  assert.equal(chooseNode(nodes, need).id, 2);
  assert.equal(chooseNode(nodes, need, { farm: 2 }).id, 4);
  assert.equal(chooseNode([node(7, 1, 20, 20), node(6, 1, 20, 20)], need).id, 6, "ties go to the lowest id");
});

test("honours an explicit node and says why it cannot", () => {
  const nodes = [node(1, 1, 5, 100), node(2, 1, 50, 10), node(3, 1, 500, 500, "down")];
  assert.equal(chooseNode(nodes, need, { node: 2 }).id, 2);
  assert.throws(() => chooseNode(nodes, need, { node: 1 }), (e) => e instanceof CapacityError && /node 1 cannot take this deployment: it needs 10 GiB of HDD but only 5 GiB is free/.test(e.message));
  assert.throws(() => chooseNode(nodes, need, { node: 3 }), (e) => e instanceof CapacityError && /down/.test(e.message));
  assert.throws(() => chooseNode(nodes, need, { node: 9 }), NotFoundError);
  assert.throws(() => chooseNode(nodes, need, { node: 2, farm: 5 }), /not farm 5/);
});

test("no room anywhere is a clear capacity error", () => {
  assert.throws(() => chooseNode([node(1, 1, 1, 1)], need), (e) => e instanceof CapacityError && /no node is up with 1 GiB SSD, 10 GiB HDD free/.test(e.message));
  assert.throws(() => chooseNode([node(1, 1, 100, 100)], need, { farm: 3 }), /no node in farm 3/);
});

test("the cost estimate is core's reservation cost per hour and per month", () => {
  const c = estimateCost(need);
  assert.equal(c.perHour, reservationCost(need, { publicIps: 0, names: 0 }, 3600));
  assert.ok(c.perHour > 0);
  assert.equal(c.perMonth, reservationCost(need, { publicIps: 0, names: 0 }, 3600 * 720));
  assert.ok(c.perMonth <= c.perHour * 720 && c.perMonth > c.perHour * 700);
});

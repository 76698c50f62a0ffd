// What a twin was charged, when, and for what (`kosmos billing`): the ledger's contract.billed
// events from the twin's creation on, each named by its deployment and what it reserved.
import { deploymentCapacity } from "../core/index.js";
import type { Contract, LedgerClient } from "../ledger/client/index.js";
import { firstHeightAt, replay } from "./history.js";
import { describeNeed } from "./planner.js";
import { nameOf } from "./views.js";

export interface Charge {
  time: number;
  height: number;
  contractId: number;
  name: string;
  amount: number;
  /** A billing period, or the pro-rata charge when the owner cancelled. */
  kind: "period" | "cancellation";
  /** What the contract reserves (its latest version). */
  reserves: string;
}

export interface BillingReport { twinId: number; balance: number; charges: Charge[]; total: number }

/** Every charge to `twinId` (only those of the contracts in `only`, when given). */
export async function billingOf(client: LedgerClient, twinId: number, contracts: Contract[], only?: Set<number>): Promise<BillingReport> {
  const twin = await client.twin(twinId);
  const byId = new Map(contracts.map((c) => [c.id, c]));
  const charges: Charge[] = [];
  const from = only?.size ? Math.min(...[...only].map((id) => byId.get(id)?.createdAt ?? twin.createdAt)) : twin.createdAt;
  await replay(client, { from: await firstHeightAt(client, from), twinId }, {
    onEvent: (e) => {
      if (e.type !== "contract.billed" || e.twinId !== twinId || (only && !only.has(e.contractId))) return;
      const c = byId.get(e.contractId);
      charges.push({
        time: e.time, height: e.height, contractId: e.contractId, name: c ? nameOf(c) ?? `contract-${c.id}` : `contract-${e.contractId}`, amount: e.amount,
        kind: e.tx === undefined ? "period" : "cancellation", reserves: c ? describeNeed(deploymentCapacity(c.deployment)) : "?",
      });
    },
  });
  return { twinId, balance: twin.balance, charges, total: charges.reduce((s, x) => s + x.amount, 0) };
}

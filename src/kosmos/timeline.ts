// A deployment's life as the ledger tells it (`kosmos events`): created, signed, approved, each
// workload's state changes with the node's reasons, billing, grace, deletion and why. Events come
// from history.ts; this turns each into a line a person reads, like `kubectl describe`.
import type { ChainEvent, Contract, LedgerClient } from "../ledger/client/index.js";
import { BlockCache, firstHeightAt, replay } from "./history.js";
import { durationText } from "./money.js";
import { END_REASONS } from "./views.js";

export interface TimelineEntry {
  height: number;
  time: number;
  event: string;
  /** What happened, in words. */
  detail: string;
  /** For a node's report: the workloads whose state or message changed. */
  workloads?: Array<{ name: string; state: string; message: string }>;
}

interface ResultsTx { payload?: { results?: Array<{ name: string; state: string; message: string }> } }

/** Follows one contract's events; `onEntry` gets each as a TimelineEntry (reports only when something changed). */
export async function contractTimeline(
  client: LedgerClient, c: Contract, o: { follow?: boolean; signal?: AbortSignal; gracePeriod?: number; onEntry: (e: TimelineEntry) => void },
): Promise<void> {
  const blocks = new BlockCache(client);
  const last = new Map<string, string>();
  const from = await firstHeightAt(client, c.createdAt);
  await replay(client, { from, contractId: c.id }, {
    follow: o.follow, signal: o.signal,
    stop: (e) => e.type === "contract.deleted",
    onEvent: async (e) => {
      const entry = await describe(e, blocks, last, o.gracePeriod);
      if (entry) o.onEntry(entry);
    },
  });
}

async function describe(e: ChainEvent, blocks: BlockCache, last: Map<string, string>, gracePeriod?: number): Promise<TimelineEntry | null> {
  const at = { height: e.height, time: e.time, event: e.type.replace(/^contract\./, "") };
  switch (e.type) {
    case "contract.created": return { ...at, detail: `version ${e.version} created for node ${e.nodeId}; signers: twin ${e.signers.join(", twin ")}` };
    case "contract.updated": return { ...at, detail: `updated to version ${e.version}; signers: twin ${e.signers.join(", twin ")}` };
    case "contract.signed": return { ...at, detail: `twin ${e.twinId} signed version ${e.version}` };
    case "contract.approved": return { ...at, detail: `version ${e.version} approved: node ${e.nodeId} provisions it` };
    case "contract.billed": return { ...at, detail: e.tx === undefined ? `charged ${e.amount} for a billing period` : `charged ${e.amount}, the time since the last charge (at cancellation)` };
    case "contract.grace": return { ...at, detail: `grace: the balance did not pay the billing period; the workloads pause${gracePeriod ? ` and the contract is deleted in ${durationText(gracePeriod)}` : ""} unless it is funded` };
    case "contract.resumed": return { ...at, detail: "resumed: the balance paid again" };
    case "contract.deleted": return { ...at, detail: `deleted: ${END_REASONS[e.reason] ?? e.reason}` };
    case "contract.result": {
      const tx = e.tx === undefined ? undefined : (await blocks.tx(e.height, e.tx)) as ResultsTx | undefined;
      const results = tx?.payload?.results ?? e.names.map((name) => ({ name, state: "?", message: "" }));
      const changed = results.filter((r) => {
        const k = `${r.state}\u0000${r.message}`;
        if (last.get(r.name) === k) return false;
        last.set(r.name, k);
        return true;
      });
      if (!changed.length) return null;
      return {
        ...at, event: "result",
        detail: `node ${e.nodeId} on version ${e.version}: ${changed.map((r) => `${r.name} ${r.state}${r.message ? ` (${r.message})` : ""}`).join("; ")}`,
        workloads: changed.map((r) => ({ name: r.name, state: r.state, message: r.message })),
      };
    }
    default: return null;
  }
}

export function timeText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

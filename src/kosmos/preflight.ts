// The checks a deploy makes before anything is signed, each failing with a typed error and a hint:
// the containers' flists resolve on their hub (pinned ones hash to their pin) and hold what the
// container runs; the node is up by its recent reports (not merely registered); the ledger facts
// (time, report interval, billing period) these are judged against. The node choice and room are
// the planner's (planner.ts), the money money.ts's.
import { CapacityError, ERROR_CLASSES, GridError, ValidationError, type Capacity } from "../core/index.js";
import { fetchFlist } from "../flist/index.js";
import type { Block, LedgerClient, NodeInfo } from "../ledger/client/index.js";
import { entrypointProblem } from "./entrypoint.js";
import { durationText } from "./money.js";
import type { ResolvedContainer } from "./spec/index.js";

/** The ledger's clock and the chain's fixed parameters (from the genesis block). */
export interface LedgerFacts { time: number; reportInterval: number; billingPeriod: number; gracePeriod: number }

/** Block 0 never changes: read once per client. */
const genesisOf = new WeakMap<LedgerClient, Promise<Block>>();

export async function ledgerFacts(client: LedgerClient): Promise<LedgerFacts> {
  let first = genesisOf.get(client);
  if (!first) {
    first = client.block(0);
    genesisOf.set(client, first);
    first.catch(() => genesisOf.delete(client));
  }
  const [status, genesis] = await Promise.all([client.status(), first]);
  const g = genesis.genesis;
  if (!g) throw new ValidationError(`the ledger at ${client.url} has no genesis parameters in block 0`);
  return { time: status.time, reportInterval: g.reportInterval, billingPeriod: g.billingPeriod, gracePeriod: g.gracePeriod };
}

/** A node reporting within two report intervals (by ledger time) is up; the ledger's own status
 *  allows three, and a node that never reported since it registered is not up at all. */
export function nodeLiveness(n: Pick<NodeInfo, "id" | "status" | "lastReportAt">, f: LedgerFacts): { up: boolean; why: string } {
  if (n.lastReportAt === null) return { up: false, why: `node ${n.id} has never reported since it registered (its zos is not running)` };
  const age = Math.max(0, f.time - n.lastReportAt);
  if (n.status !== "up" || age > 2 * f.reportInterval) {
    return { up: false, why: `node ${n.id} last reported ${durationText(age)} ago (nodes report every ${durationText(f.reportInterval)})` };
  }
  return { up: true, why: `node ${n.id} reported ${durationText(age)} ago` };
}

export function mustBeUp(n: NodeInfo, f: LedgerFacts, hint: string): string {
  const l = nodeLiveness(n, f);
  if (!l.up) throw new CapacityError(`${l.why}: it is down`, hint);
  return l.why;
}

/** The same error class, its message prefixed with what it is about (and the original as cause). */
function about(what: string, e: unknown, hint?: string): GridError {
  if (!(e instanceof GridError)) return new ERROR_CLASSES.unavailable(`${what}: ${(e as Error).message}`, hint, { cause: e });
  return new ERROR_CLASSES[e.code](`${what}: ${e.message}`, e.hint ?? hint, { cause: e });
}

/** Fetches each container's flist (each address once) and checks its command is in it; one line
 *  per container saying what was checked. */
export async function checkContainers(containers: ResolvedContainer[], timeoutMs = 15_000): Promise<string[]> {
  const lines: string[] = [];
  const fetched = new Map<string, ReturnType<typeof fetchFlist>>();
  for (const c of containers) {
    let p = fetched.get(c.flist);
    if (!p) { p = fetchFlist(c.flist, AbortSignal.timeout(timeoutMs)); fetched.set(c.flist, p); }
    let f: Awaited<typeof p>;
    try { f = await p; } catch (e) {
      throw about(`container ${c.name}`, e, "build and publish it with `kosmos flist build DIR --name NAME` and use the address it prints");
    }
    const problem = entrypointProblem(f.flist, c.entrypoint ?? "", c.env);
    if (problem) {
      const image = [...f.flist.config.entrypoint, ...f.flist.config.cmd].join(" ");
      throw new ValidationError(`container ${c.name}: ${problem}`, image ? `the image's own command is \`${image}\`; fix \`entrypoint\` or drop it` : "set `entrypoint` to a program the flist holds");
    }
    lines.push(`container ${c.name}: flist ${f.address.owner ? `${f.address.name} ` : ""}${f.hash.slice(0, 12)}${f.address.hash ? " (pinned, hash checked)" : ""} found, runs ${c.entrypoint?.trim() ? c.entrypoint.trim().split(/\s+/)[0] : "the image's command"}`);
  }
  return lines;
}

/** Room on a node for `need`, counting what the contract being updated already holds there. */
export function roomFor(n: NodeInfo, held: Capacity | null): Capacity {
  const free = { ...n.free };
  if (held) for (const k of ["cru", "mru", "sru", "hru"] as const) free[k] += held[k];
  return free;
}

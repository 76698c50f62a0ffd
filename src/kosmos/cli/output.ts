// How results reach the user: a table or lines for people, one JSON document for scripts.
import { formatBytes, type Capacity } from "../../core/index.js";
import type { BillingReport } from "../billing.js";
import { diffLines } from "../diff.js";
import { durationText, runwayText } from "../money.js";
import { describeNeed } from "../planner.js";
import type { Plan } from "../progress.js";
import { timeText, type TimelineEntry } from "../timeline.js";
import type { DeploymentView, SigningView, WorkloadView } from "../views.js";

export interface Out {
  json: boolean;
  /** The command's result: JSON when --json, else the human text. */
  result(data: unknown, human: () => string): void;
  /** Progress and notes for people: stderr, so stdout stays clean for scripts. */
  note(line: string): void;
}

export function makeOut(json: boolean, stdout: NodeJS.WritableStream = process.stdout, stderr: NodeJS.WritableStream = process.stderr): Out {
  return {
    json,
    result(data, human) {
      stdout.write(json ? JSON.stringify(data, null, 2) + "\n" : human().replace(/\n?$/, "\n"));
    },
    note(line) { stderr.write(line + "\n"); },
  };
}

export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: string[]) => r.map((c, i) => (c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [fmt(head), ...rows.map(fmt)].join("\n");
}

export function capacityText(c: Capacity): string {
  return `${c.cru} cpu, ${formatBytes(c.mru)} mem, ${formatBytes(c.sru)} ssd, ${formatBytes(c.hru)} hdd`;
}

/** What a person needs to reach one workload (the password stays with them: it is sealed on the ledger). */
export function accessLines(w: WorkloadView, password = "<password>"): string[] {
  if (w.type === "zdb" && w.state === "ok") {
    const d = w.data as { namespace?: string; ips?: string[]; port?: number };
    const host = d.ips?.[0] ?? "?";
    return [`redis-cli -h ${host} -p ${d.port ?? "?"}`, `  then: SELECT ${d.namespace ?? "?"} ${password}`];
  }
  if (w.type === "volume" && w.state === "ok") return [`volume ${w.name}: ${JSON.stringify(w.data)}`];
  if (w.type === "container" && w.state === "ok") {
    const ip = (w.data as { ip?: string }).ip ?? "?";
    return [`container ${w.name}: ip ${ip}${w.url ? `, serves ${w.url}` : ""}`];
  }
  return [];
}

/** A table cell holds one line: a multi-line message (a crash's last output) shows its first line
 *  there, the rest below the table. */
function firstLine(s: string): string {
  const i = s.indexOf("\n");
  return i < 0 ? s : `${s.slice(0, i)} …`;
}

/** "3" or "3 (1 oom)" for a container; "-" for other workloads. */
export function restartsText(w: WorkloadView): string {
  if (w.restarts === undefined) return "-";
  return w.oomKills ? `${w.restarts} (${w.oomKills} oom)` : String(w.restarts);
}

export function deploymentText(v: DeploymentView): string {
  const lines = [
    `${v.name}: contract ${v.contractId} on node ${v.nodeId}, ${v.state}${v.endReason ? ` (${v.endReason})` : ""}, version ${v.version}${v.approved || v.state === "deleted" ? "" : " (waiting for signatures)"}, ${v.costPerPeriod} per billing period`,
    table(["WORKLOAD", "TYPE", "STATE", "RESTARTS", "OOM", "MESSAGE"], v.workloads.map((w) => [
      w.name, w.type, w.state, w.restarts === undefined ? "-" : String(w.restarts), w.oomKills === undefined ? "-" : String(w.oomKills), firstLine(w.message),
    ])),
  ];
  for (const w of v.workloads) {
    const rest = w.message.split("\n").slice(1);
    if (rest.length) lines.push("", `${w.name}, its last output:`, ...rest.map((l) => `  ${l}`));
  }
  const access = v.workloads.flatMap((w) => accessLines(w));
  if (access.length) lines.push("", ...access);
  return lines.join("\n");
}

/** What `kosmos plan` prints (and `kosmos deploy` before it signs). */
export function planText(p: Plan): string {
  const lines = [
    `deployment "${p.name}" ${p.existing ? `(update of contract ${p.existing.id}${p.changed ? "" : ": nothing changes"})` : "(new)"}`,
    `  node ${p.node.id} in farm ${p.node.farmId} at ${p.node.underlay}`,
    `  reserves ${describeNeed(p.need)}`,
    `  costs about ${p.cost.perHour} per hour, ${p.cost.perMonth} per month; ${p.runway.perPeriod} per billing period of ${durationText(p.runway.billingPeriod)}`,
    `  ${runwayText(p.runway)}${p.runway.enough ? "" : " — NOT ONE PERIOD (--force was given)"}`,
  ];
  if (p.waitsForSignatures && p.changed) lines.push("  billed from submission on, also while it waits for the other signatures (the ledger holds its capacity meanwhile)");
  if (p.diff) lines.push("changes:", ...diffLines(p.diff));
  if (p.checks.length) lines.push("checked:", ...p.checks.map((c) => `  ok ${c}`));
  return lines.join("\n");
}

/** The plan as `--json` gives it: what a script needs, not the whole node and contract records. */
export function planJson(p: Plan): object {
  return {
    name: p.name, node: { id: p.node.id, farmId: p.node.farmId, underlay: p.node.underlay, lastReportAt: p.node.lastReportAt },
    existing: p.existing ? { contractId: p.existing.id, version: p.existing.deployment.version } : null,
    changed: p.changed, need: p.need, cost: p.cost, runway: p.runway, diff: p.diff, checks: p.checks, waitsForSignatures: p.waitsForSignatures,
  };
}

/** `kosmos show ID` for a signer: every field of every workload of the version they would sign. */
export function signingText(v: SigningView): string {
  const lines = [
    `contract ${v.contractId} "${v.name}" of twin ${v.ownerTwinId} on node ${v.nodeId}, ${v.state}; latest version ${v.version}${v.approved ? " (approved)" : v.approvedVersion !== null ? ` (version ${v.approvedVersion} is the approved one)` : " (not approved yet)"}`,
    `costs ${v.costPerPeriod} per billing period, paid by twin ${v.ownerTwinId}`,
    `signers (weight ${v.weightRequired} required): ${v.signers.map((s) => `twin ${s.twinId} weight ${s.weight}${s.required ? " required" : ""} ${s.signed ? "signed" : "not signed"}`).join("; ")}`,
    "signing approves exactly these workloads:",
  ];
  for (const w of v.workloads) {
    lines.push(`  ${w.name} (${w.type}, version ${w.version})`);
    for (const [k, x] of Object.entries(w.fields)) lines.push(`    ${k.padEnd(11)} ${x}`);
  }
  return lines.join("\n");
}

/** `kosmos ls`: one row per deployment; a container's restarts show beside its state. */
export function deploymentsTable(list: DeploymentView[], all: boolean): string {
  const state = (d: DeploymentView) => d.state + (d.state !== "deleted" && !d.approved ? " (unsigned)" : "");
  const restarts = (d: DeploymentView) => {
    const cs = d.workloads.filter((w) => w.restarts !== undefined);
    if (!cs.length || d.state === "deleted") return "-";
    const r = cs.reduce((s, w) => s + (w.restarts ?? 0), 0), o = cs.reduce((s, w) => s + (w.oomKills ?? 0), 0);
    return o ? `${r} (${o} oom)` : String(r);
  };
  return table(["NAME", "CONTRACT", "NODE", "STATE", "VERSION", "WORKLOADS", "RESTARTS", ...(all ? ["ENDED"] : [])], list.map((d) => [
    d.name, String(d.contractId), String(d.nodeId), state(d), String(d.version),
    d.state === "deleted" ? "-" : d.workloads.map((w) => `${w.name}:${w.state}`).join(" "), restarts(d), ...(all ? [d.endReason ?? ""] : []),
  ]));
}

export function timelineRow(e: TimelineEntry): string[] {
  return [timeText(e.time), String(e.height), e.event, e.detail];
}

export function billingText(r: BillingReport): string {
  if (!r.charges.length) return `nothing charged yet; balance ${r.balance}`;
  return [
    table(["TIME", "CONTRACT", "NAME", "AMOUNT", "FOR"], r.charges.map((c) => [timeText(c.time), String(c.contractId), c.name, String(c.amount),
      `${c.kind === "period" ? "a billing period" : "time since the last charge, at cancellation"} of ${c.reserves}`])),
    `total ${r.total}; balance now ${r.balance}`,
  ].join("\n");
}

// How results reach the user: a table or lines for people, one JSON document for scripts.
import { formatBytes, type Capacity } from "../../core/index.js";
import type { DeploymentView, WorkloadView } from "../views.js";

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

export function deploymentText(v: DeploymentView): string {
  const lines = [
    `${v.name}: contract ${v.contractId} on node ${v.nodeId}, ${v.state}, version ${v.version}${v.approved ? "" : " (waiting for signatures)"}, ${v.costPerPeriod} per billing period`,
    table(["WORKLOAD", "TYPE", "STATE", "MESSAGE"], v.workloads.map((w) => [w.name, w.type, w.state, w.message])),
  ];
  const access = v.workloads.flatMap((w) => accessLines(w));
  if (access.length) lines.push("", ...access);
  return lines.join("\n");
}

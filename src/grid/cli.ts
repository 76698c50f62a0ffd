// The `grid` command line: up, down, status.
import { Command, InvalidArgumentError } from "commander";
import { runCli } from "../runtime/index.js";
import { accessLines } from "../kosmos/index.js";
import { gridUp, overlayLine, DEFAULT_EXAMPLE, type UpReport } from "./up.js";
import { gridDown } from "./down.js";
import { gridStatus, type StatusReport } from "./status.js";

const note = (line: string) => process.stderr.write(`grid: ${line}\n`);

function upText(r: UpReport): string {
  const lines = [
    `The local grid is up (${r.mode === "netns" ? "one network namespace per node" : "plain processes on 127.0.0.1"}; data in ${r.dir}).`,
    "",
    `ledger   ${r.ledger}`,
    `hub      ${r.hub}`,
    `explorer ${r.explorer}   (open it in a browser)`,
    ...r.nodes.map((n) => `node ${n.id}   ${n.underlay}${n.netns ? `  (netns ${n.netns})` : ""}  pid ${n.pid}`),
    "",
    ...deployedLines(r),
    "",
    ...r.view.workloads.flatMap((w) => accessLines(w, r.examplePassword)),
    ...r.deployment.containers.filter((c) => c.url).map((c) => `curl ${c.url}`),
    ...(r.deployment.overlay ? [overlayLine(r.deployment.overlay)] : []),
    ...r.deployment.containers.filter((c) => c.logs).map((c) => `./bin/kosmos logs ${r.deployment.name} ${c.name}   (its output, from the 0-db it streams into)`),
    "",
    "To use ./bin/kosmos as the demo user (a local demo grid: its passphrase is kept in a file):",
    ...Object.entries(r.env).map(([k, v]) => `  export ${k}=${v}`),
    "",
    `Stop it with: ./bin/grid down --data ${r.dir}`,
  ];
  return lines.join("\n");
}

/** The deployment's workloads; a file spanning nodes has a contract per node, listed each. */
function deployedLines(r: UpReport): string[] {
  const parts = (r.view as { parts?: UpReport["view"][] }).parts;
  if (!parts || parts.length < 2) {
    return [`"${r.deployment.name}" is deployed (contract ${r.deployment.contractId}) by the demo user, twin ${r.user.twinId}:`, ...r.view.workloads.map((w) => `  ${w.name} (${w.type}): ${w.state}`)];
  }
  return [
    `"${r.deployment.name}" is deployed on ${parts.length} nodes (contracts ${parts.map((p) => p.contractId).join(", ")}) by the demo user, twin ${r.user.twinId}:`,
    ...parts.flatMap((p) => p.workloads.map((w) => `  node ${p.nodeId}: ${w.name} (${w.type}): ${w.state}`)),
  ];
}

function statusText(s: StatusReport): string {
  if (!s.exists) return `no grid in ${s.dir}`;
  return [
    `grid in ${s.dir}: ${s.running ? "running" : "not (fully) running"} (${s.mode})`,
    `ledger  ${s.ledger.url}  ${s.ledger.alive ? `pid ${s.ledger.pid}, height ${s.ledger.height ?? "?"}` : "stopped"}`,
    ...(s.explorer ? [`explorer ${s.explorer.url}  ${s.explorer.alive ? `pid ${s.explorer.pid}` : "stopped"}`] : []),
    ...(s.hub ? [`hub     ${s.hub.url}  ${s.hub.alive ? `pid ${s.hub.pid}` : "stopped"}${s.hub.zdbAlive ? "" : " (its 0-db is stopped)"}`] : []),
    ...s.nodes.map((n) => `node ${n.id ?? "?"}  ${n.underlay}${n.netns ? ` (netns ${n.netns}${n.netnsExists ? "" : ", missing"})` : ""}  ${n.alive ? `pid ${n.pid}` : "stopped"}${n.status ? `, ${n.status} on the ledger` : ""}`),
    ...(s.bridge ? [`bridge ${s.bridge.name}: ${s.bridge.exists ? "present" : "absent"}`] : []),
    ...(s.deployment ? [`example deployment: ${s.deployment.name}`] : []),
  ].join("\n");
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1 || n > 200) throw new InvalidArgumentError("a whole number from 1 to 200");
  return n;
}

export function buildProgram(): Command {
  const program = new Command("grid").description("A whole grid on this machine: ledger, flist hub, nodes, a demo user and an example deployment").showHelpAfterError()
    // Usage errors throw instead of exiting, so they end like every other error (exit 2, invalid).
    .exitOverride();
  program.command("up").description("bring the local grid up (or report it if it is up), deploy the example, print how to reach it")
    .option("--data <dir>", "the grid's folder: state, keys, logs, node data", "./.grid")
    .option("--nodes <n>", "how many nodes (default: 3, or as many as the grid in DIR has)", positiveInt)
    .option("--example <file>", "the deployment to make", DEFAULT_EXAMPLE)
    .option("--no-netns", "run nodes as plain processes on 127.0.0.1 even as root")
    .option("--timeout <seconds>", "how long to wait for the example to be ok (and its page served)", positiveInt, 90)
    .option("--billing-period <seconds>", "ledger time between two charges, for a new grid (fixed at the ledger's genesis; a demo at human speed: 60)", positiveInt)
    .option("--grace-period <seconds>", "ledger time a deployment out of funds stays paused before it is deleted, for a new grid (fixed at genesis)", positiveInt)
    .option("--json", "print one JSON document")
    .action(async (o: { data: string; nodes?: number; example: string; netns: boolean; timeout: number; json?: boolean; billingPeriod?: number; gracePeriod?: number }) => {
      const r = await gridUp({
        dir: o.data, nodes: o.nodes, example: o.example, noNetns: !o.netns, note, timeoutMs: o.timeout * 1000,
        billingPeriod: o.billingPeriod, gracePeriod: o.gracePeriod,
      });
      if (o.json) {
        const { ledger, explorer, hub, nodes, user, deployment } = r;
        process.stdout.write(JSON.stringify({ ledger, explorer, hub, nodes, user, deployment }, null, 2) + "\n");
      } else process.stdout.write(upText(r) + "\n");
    });
  program.command("down").description("stop every process of the grid and remove its namespaces and links (the data stays)")
    .option("--data <dir>", "the grid's folder", "./.grid")
    .option("--json", "print one JSON document")
    .action(async (o: { data: string; json?: boolean }) => {
      const r = await gridDown({ dir: o.data, note });
      process.stdout.write(o.json ? JSON.stringify(r, null, 2) + "\n" : `stopped ${r.stopped.length} process(es) and ${r.containers.length} container(s), removed ${r.removed.length} namespace(s)/link(s)\n`);
    });
  program.command("status").description("what of the grid runs")
    .option("--data <dir>", "the grid's folder", "./.grid")
    .option("--json", "print one JSON document")
    .action(async (o: { data: string; json?: boolean }) => {
      const s = await gridStatus(o.data);
      process.stdout.write(o.json ? JSON.stringify(s, null, 2) + "\n" : statusText(s) + "\n");
    });
  return program;
}

/** Runs the CLI; an error ends it through the shared ending (src/runtime): its code's exit status,
 *  one line on stderr, or under --json a JSON error body on stderr. */
export async function main(argv: string[]): Promise<void> {
  await runCli("grid", () => buildProgram().parseAsync(argv, { from: "user" }).then(() => undefined), argv.includes("--json"));
}

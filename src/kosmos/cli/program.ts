// The `kosmos` command line: a thin layer over the SDK (sdk.ts) and the config manager.
import { createInterface } from "node:readline/promises";
import { Command, InvalidArgumentError, Option } from "commander";
import { ConflictError, GridError, NotFoundError, UnavailableError, ValidationError, newMnemonic, formatBytes } from "../../core/index.js";
import { readSecretInput } from "../config/index.js";
import { LedgerClient } from "../../ledger/client/index.js";
import { parseDeploymentFile, logPasswordsOf } from "../spec/index.js";
import { buildAndPublish, readShippedLogs } from "../../flist/index.js";
import { GENERATED_BEGIN, GENERATED_END, priceRows, priceTableMarkdown } from "../prices.js";
import { durationText } from "../money.js";
import { ledgerFacts, nodeLiveness } from "../preflight.js";
import type { DeployProgress } from "../progress.js";
import { Context, type GlobalOptions } from "./context.js";
import { accessLines, billingText, capacityText, deploymentText, deploymentsTable, planJson, planText, signingText, table, timelineRow } from "./output.js";
import { runCli } from "../../runtime/index.js";
import { addNetworkCommands } from "../network/cli.js";
import { registerToolbox } from "./toolbox.js";

const DEFAULT_FAUCET = 100_000_000;

function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive whole number`);
    return n;
  };
}

function progressLine(p: DeployProgress): string {
  switch (p.stage) {
    case "planned": return planText(p.plan);
    case "unchanged": return `already deployed as contract ${p.contractId}, unchanged`;
    case "submitted": return `${p.update ? "updated" : "submitted"}: contract ${p.contractId}, version ${p.version}`;
    case "signatures": return `waiting for signatures: weight ${p.weight} of ${p.weightRequired}, not yet signed by twin(s) ${p.waitingFor.join(", ")} (they run: kosmos sign ${p.contractId})`;
    case "approved": return `approved: version ${p.version}`;
    case "held": return `${p.containers.join(", ")}: added once 0-db(s) ${p.zdbs.join(", ")} on another node are up (they hold their logs)`;
    case "workload": return `  ${p.name}: ${p.state === "pending" ? "waiting for the node" : p.state}${p.message ? ` (${p.message})` : ""}`;
  }
}

async function confirmPlan(ctx: Context, yes: boolean): Promise<boolean> {
  if (yes || ctx.out.json || !process.stdin.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const a = await rl.question("Sign and submit it? [y/N] ");
    return /^y(es)?$/i.test(a.trim());
  } finally { rl.close(); }
}

export function buildProgram(env: NodeJS.ProcessEnv = process.env): Command {
  const program = new Command("kosmos")
    .description("Deploy workloads on the grid: containers, 0-db namespaces and volumes, signed on the ledger, provisioned by the nodes")
    .option("--ledger <url>", "the ledger's URL (env KOSMOS_LEDGER, or the one saved in the home)")
    .option("--home <dir>", "the kosmos home: encrypted identity and settings (env KOSMOS_HOME, default ~/.kosmos)")
    .option("--json", "print one JSON document (for scripts)")
    .showHelpAfterError()
    // Usage errors throw (a CommanderError) instead of exiting, so they end like every other
    // error: exit 2 (invalid). Set before the subcommands are made: they inherit it.
    .exitOverride();
  const ctx = (cmd: Command) => new Context(cmd.optsWithGlobals() as GlobalOptions, env);

  const identity = program.command("identity").description("your signing identity (a BIP39 mnemonic, stored encrypted)");
  identity.command("new").description("create a new identity in the kosmos home")
    .option("--force", "replace the identity that is there (its mnemonic is lost unless you saved it)")
    .action(async (o: { force?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      if (!o.force && c.store.hasSecrets() && (await c.store.secrets()).mnemonic) throw new ConflictError(`${c.store.home} already has an identity`, "pass --force to replace it, or use another --home");
      const id = await c.store.setIdentity(newMnemonic());
      c.out.result({ publicKey: id.keys.publicKey, home: c.store.home }, () =>
        `new identity ${id.keys.publicKey}\nstored encrypted in ${c.store.secretsPath}; back up its mnemonic with \`kosmos identity show --mnemonic\``);
    });
  identity.command("import").description("import a mnemonic, read from stdin or typed at a prompt (never from the command line)")
    .option("--force", "replace the identity that is there")
    .action(async (o: { force?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const words = await readSecretInput("Mnemonic: ");
      if (!words) throw new ValidationError("no mnemonic given", "pipe it on stdin: kosmos identity import < mnemonic.txt");
      if (!o.force && c.store.hasSecrets()) {
        const old = (await c.store.secrets()).mnemonic;
        if (old && old !== words.trim().split(/\s+/).join(" ")) throw new ConflictError(`${c.store.home} already has another identity`, "pass --force to replace it");
      }
      const id = await c.store.setIdentity(words);
      c.out.result({ publicKey: id.keys.publicKey, home: c.store.home }, () => `imported identity ${id.keys.publicKey}`);
    });
  identity.command("show").description("your public key and twin id")
    .option("--mnemonic", "also print the mnemonic (to back it up; keep it secret)")
    .action(async (o: { mnemonic?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const id = await c.store.identity();
      let twinId: number | null = c.store.settings().twinId ?? null;
      let balance: number | null = null;
      try {
        const k = await c.kosmos();
        const b = await k.balance();
        twinId = b.twinId; balance = b.balance;
        c.remember(twinId);
      } catch { /* no ledger configured or reachable: show what is local */ }
      const data = { publicKey: id.keys.publicKey, twinId, balance, home: c.store.home, ...(o.mnemonic ? { mnemonic: id.mnemonic } : {}) };
      c.out.result(data, () => [
        `public key  ${id.keys.publicKey}`,
        `twin        ${twinId ?? "(none yet: created on first use)"}`,
        ...(balance !== null ? [`balance     ${balance}`] : []),
        `home        ${c.store.home}`,
        ...(o.mnemonic ? [`mnemonic    ${id.mnemonic}`] : []),
      ].join("\n"));
    });

  const wallet = program.command("wallet").description("your twin's balance and transfers");
  wallet.command("balance").description("your balance").action(async (_o: unknown, cmd: Command) => {
    const c = ctx(cmd);
    const b = await (await c.kosmos()).balance();
    c.remember(b.twinId);
    c.out.result(b, () => `twin ${b.twinId ?? "(none yet)"}: ${b.balance}`);
  });
  wallet.command("transfer").description("send tokens to another twin").argument("<twin>", "the receiving twin id", positiveInt("twin"))
    .argument("<amount>", "how much", positiveInt("amount"))
    .action(async (to: number, amount: number, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const k = await c.kosmos();
      const r = await k.transfer(to, amount);
      const b = await k.balance();
      c.remember(b.twinId);
      c.out.result({ ...r, to, amount, balance: b.balance }, () => `sent ${amount} to twin ${to} (block ${r.height}); balance ${b.balance}`);
    });
  wallet.command("faucet").description("get free tokens (the local grid's ledger only)").argument("[amount]", "how much", positiveInt("amount"), DEFAULT_FAUCET)
    .action(async (amount: number, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const k = await c.kosmos();
      const r = await k.faucet(amount);
      const b = await k.balance();
      c.remember(b.twinId);
      c.out.result({ ...r, amount, twinId: b.twinId, balance: b.balance }, () => `received ${amount}; balance ${b.balance}`);
    });

  program.command("nodes").description("the grid's nodes and their free capacity")
    .option("--farm <id>", "only this farm's", positiveInt("farm"))
    .addOption(new Option("--status <status>", "only nodes that are up or down").choices(["up", "down"]))
    .option("--gateways", "only gateway nodes (a public config with a domain), with their domain and public address")
    .action(async (o: { farm?: number; status?: "up" | "down"; gateways?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      // Read-only: needs no identity.
      const client = new LedgerClient(c.ledgerUrl());
      const [all, facts] = await Promise.all([client.nodes({ farmId: o.farm, status: o.status }), ledgerFacts(client)]);
      const nodes = o.gateways ? all.filter((n) => !!n.publicConfig?.domain) : all;
      // STATUS is the ledger's (reported within two report intervals), the same rule the planner uses.
      const last = (n: (typeof nodes)[number]) => (n.lastReportAt === null ? "never" : `${durationText(Math.max(0, facts.time - n.lastReportAt))} ago${nodeLiveness(n, facts).up ? "" : " (stale)"}`);
      c.out.result(nodes.map((n) => ({ id: n.id, farmId: n.farmId, status: n.status, lastReportAt: n.lastReportAt, offered: nodeLiveness(n, facts).up, free: n.free, capacity: n.capacity, underlay: n.underlay, ...(o.gateways ? { publicConfig: n.publicConfig } : {}) })), () =>
        !nodes.length ? (o.gateways ? "no gateway nodes" : "no nodes")
        : o.gateways ? table(["ID", "FARM", "STATUS", "LAST REPORT", "DOMAIN", "PUBLIC IPV4"], nodes.map((n) => [String(n.id), String(n.farmId), n.status, last(n), n.publicConfig?.domain ?? "", n.publicConfig?.ipv4 ?? ""]))
        : table(["ID", "FARM", "STATUS", "LAST REPORT", "FREE", "UNDERLAY"], nodes.map((n) => [String(n.id), String(n.farmId), n.status, last(n), capacityText(n.free), n.underlay])));
    });

  program.command("plan").description("what deploying a file would do, checked, without signing anything: node, cost, how long your balance lasts, what changes")
    .argument("<file>", "the deployment file (YAML; see docs/kosmos.md)")
    .option("--force", "plan even if your balance does not cover one billing period")
    .action(async (file: string, o: { force?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const spec = parseDeploymentFile(file, env);
      const p = await (await c.kosmos()).plan(spec, { force: !!o.force });
      c.out.result(planJson(p), () => planText(p) + (p.changed ? "\nnothing was signed; `kosmos deploy` signs and submits it" : ""));
    });

  program.command("deploy").description("deploy (or update) what a deployment file describes, and wait until it runs")
    .argument("<file>", "the deployment file (YAML; see docs/kosmos.md)")
    .option("-y, --yes", "do not ask before signing (implied when not at a terminal)")
    .option("--timeout <seconds>", "how long to wait for every workload to be ok", positiveInt("timeout"), 120)
    .option("--no-wait", "return once the contract is on the ledger")
    .option("--force", "deploy even if your balance does not cover one billing period")
    .action(async (file: string, o: { yes?: boolean; timeout: number; wait: boolean; force?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const spec = parseDeploymentFile(file, env);
      const k = await c.kosmos();
      // Before anything is signed: `kosmos logs` will need these, and the file may not be at hand then.
      const logPasswords = logPasswordsOf(spec);
      if (Object.keys(logPasswords).length) await c.store.rememberLogPasswords(spec.name, logPasswords);
      const r = await k.deploy(spec, {
        timeoutMs: o.timeout * 1000,
        wait: o.wait,
        force: !!o.force,
        onProgress: (p) => c.out.note(progressLine(p)),
        confirm: () => confirmPlan(c, !!o.yes),
      });
      c.remember(await k.existingTwinId());
      c.out.result(r, () => deploymentText(r));
    });

  program.command("logs").description("a container's output, read back from the 0-db namespace it streams into (`logs:` in the deployment file)")
    .argument("<deployment>").argument("<container>")
    .option("-f, --follow", "keep printing new lines until interrupted")
    .action(async (name: string, container: string, o: { follow?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const k = await c.kosmos();
      const target = await k.logTarget(name, container);
      let password: string | undefined;
      if (target.sealedPassword) {
        password = env.KOSMOS_LOGS_PASSWORD || (await c.store.logPassword(name, container)) || undefined;
        if (!password) throw new ValidationError(`no password for the log namespace of ${name}/${container} in ${c.store.home}`, "deploy the file with this kosmos home, or set KOSMOS_LOGS_PASSWORD");
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const lines: Array<{ time: string; line: string }> = [];
      try {
        await readShippedLogs({ address: target.address, namespace: target.namespace, password }, {
          follow: !!o.follow, signal: ac.signal,
          onLine: (l) => { if (c.out.json && !o.follow) lines.push({ time: l.time, line: l.line }); else process.stdout.write(c.out.json ? JSON.stringify({ time: l.time, line: l.line }) + "\n" : `${l.time} ${l.line}\n`); },
        });
      } catch (e) {
        if (e instanceof GridError) throw e;
        throw new UnavailableError(`cannot read the logs from 0-db ${target.address} namespace ${target.namespace}: ${(e as Error).message}`, "the node holding that 0-db may be down; `kosmos show` tells");
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      if (c.out.json && !o.follow) c.out.result(lines, () => "");
    });

  const flist = program.command("flist").description("package an app as an flist (a root file system described by metadata, content on the hub)");
  flist.command("build").description("build an flist from a folder, a `docker save` archive or an OCI layout tar, upload what the hub lacks, print its address")
    .argument("<source>", "a folder (the root file system) or an image archive (.tar)")
    .requiredOption("--name <name>", "the flist's name under your public key on the hub")
    .option("--hub <url>", "the flist hub (env KOSMOS_HUB, or the one saved in the home)")
    .action(async (source: string, o: { name: string; hub?: string }, cmd: Command) => {
      const c = ctx(cmd);
      const hub = c.hubUrl();
      const { keys } = await c.store.identity();
      const r = await buildAndPublish(source, { hub, keys, name: o.name, onProgress: (m) => c.out.note(m) });
      if (c.store.settings().hubUrl !== hub) c.store.updateSettings({ hubUrl: hub });
      const { flist: _f, ...rest } = r;
      c.out.result(rest, () => r.address);
    });

  program.command("ls").description("your deployments (reads only your public key: asks no passphrase)")
    .option("-a, --all", "also the cancelled and deleted ones, with why they ended")
    .action(async (o: { all?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const list = await (await c.reader()).list({ all: !!o.all });
      c.out.result(list, () => list.length
        ? deploymentsTable(list, !!o.all)
        : o.all ? "no deployments, now or before" : "no deployments");
    });
  program.command("show").description("one deployment, its workloads and how to reach them; or, by contract id, exactly what its signers are asked to sign")
    .argument("<name>", "your deployment's name, or a contract id (yours or one that asks your signature)")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const r = await c.reader();
      try {
        const v = await r.get(name);
        c.out.result(v, () => deploymentText(v));
      } catch (e) {
        if (!(e instanceof NotFoundError) || !/^[1-9]\d*$/.test(name)) throw e;
        const v = await r.toSign(Number(name));
        c.out.result(v, () => signingText(v));
      }
    });
  program.command("events").description("a deployment's timeline from the ledger: created, signed, approved, each workload's state with the node's reason, billing, grace, deletion and why")
    .argument("<name>", "your deployment's name (a deleted one too)")
    .option("-f, --follow", "keep printing new events until the deployment is deleted or you interrupt")
    .action(async (name: string, o: { follow?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const rows: string[][] = [];
      const entries: unknown[] = [];
      try {
        await (await c.reader()).events(name, {
          follow: !!o.follow, signal: ac.signal,
          onEntry: (e) => {
            if (o.follow) process.stdout.write(c.out.json ? JSON.stringify(e) + "\n" : timelineRow(e).join("  ") + "\n");
            else if (c.out.json) entries.push(e);
            else rows.push(timelineRow(e));
          },
        });
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      if (!o.follow) c.out.result(entries, () => rows.length ? table(["TIME", "BLOCK", "EVENT", "DETAIL"], rows) : "no events");
    });
  program.command("billing").description("what you were charged, when, and for what (from the ledger's events)")
    .argument("[name]", "only this deployment (ended ones too)")
    .action(async (name: string | undefined, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const r = await (await c.reader()).billing(name);
      c.out.result(r, () => billingText(r));
    });
  program.command("prices").description("the price list in your units: per hour and per month of common container sizes and of a GiB of disk")
    .option("--markdown", "as the table docs/billing.md carries")
    .action((o: { markdown?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      if (o.markdown) { process.stdout.write(`${GENERATED_BEGIN}\n${priceTableMarkdown()}\n${GENERATED_END}\n`); return; }
      const rows = priceRows();
      c.out.result(rows, () => table(["WHAT", "PER HOUR", "PER MONTH"], rows.map((r) => [r.what, String(r.perHour), String(r.perMonth)])));
    });
  program.command("cancel").description("cancel a deployment: the node removes its workloads").argument("<name>")
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const v = await (await c.kosmos()).cancel(name);
      c.out.result(v, () => `cancelled ${name} (contract ${v.contractId})`);
    });
  addNetworkCommands(program, ctx);
  program.command("pending").description("multi-signature deployments waiting for your signature (sign them with `kosmos sign ID`)")
    .action(async (_o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const list = await (await c.reader()).pending();
      c.out.result(list, () => list.length
        ? table(["CONTRACT", "NAME", "OWNER", "NODE", "VERSION", "ASKS", "WORKLOADS"], list.map((p) => [
          String(p.contractId), p.name, `twin ${p.ownerTwinId}`, String(p.nodeId), String(p.version),
          `weight ${p.weight}${p.required ? " (required)" : ""}; ${p.weightSigned} of ${p.weightRequired} signed`,
          p.workloads.map((w) => `${w.name}:${w.type}`).join(" "),
        ])) + "\nsee exactly what you would sign: kosmos show CONTRACT; sign it: kosmos sign CONTRACT"
        : "nothing waits for your signature");
    });
  program.command("sign").description("approve a multi-signature deployment as one of its signers").argument("<contract>", "contract id", positiveInt("contract"))
    .action(async (id: number, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const r = await (await c.kosmos()).sign(id);
      const state = r.approved ? "approved" : "still waiting for other signatures";
      c.out.result(r, () => r.alreadySigned
        ? `you had already signed version ${r.version} of contract ${r.contractId}; nothing sent (${state})`
        : `signed contract ${r.contractId} version ${r.version}: ${state}`);
    });
  registerToolbox(program, env);
  return program;
}

/** Runs the CLI; an error ends it through the shared ending (src/runtime): its code's exit status,
 *  one line on stderr, or under --json a JSON error body on stderr (stdout stays for results). */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runCli("kosmos", () => buildProgram(env).parseAsync(argv, { from: "user" }).then(() => undefined), argv.includes("--json"));
}

export { formatBytes, accessLines };

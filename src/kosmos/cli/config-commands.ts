// `kosmos config …`: the config manager (src/kosmos/configs) at the command line. Values come as
// `key=value`, `key:=JSON` (numbers, booleans), `key=@FILE` (a file's content: a private key) or
// `key=@-` (stdin) — a secret never has to be on the command line, where `ps` shows it.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { ValidationError } from "../../core/index.js";
import { ConfigManager, checkType, masked, CONFIG_TYPES, type ConfigType } from "../configs/index.js";
import { readSecretInput } from "../config/index.js";
import type { Context } from "./context.js";
import { table } from "./output.js";
import { writeFileAtomic } from "../../runtime/index.js";

export function configManagerOf(c: Context): ConfigManager {
  return new ConfigManager(c.store.home, async () => (await c.store.identity()).keys);
}

/** `key=value` words → an object (see the header for the forms). */
export async function parseAssignments(words: string[], readStdin: () => Promise<string> = () => readSecretInput("value: ")): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  let stdinUsed = false;
  for (const w of words) {
    const m = /^([A-Za-z][A-Za-z0-9_]*)(:?=)(.*)$/s.exec(w);
    if (!m) throw new ValidationError(`"${w}" is not key=value`, "write key=value, key:=JSON, key=@FILE or key=@-");
    const [, key, op, raw] = m as unknown as [string, string, string, string];
    if (op === ":=") {
      try { out[key] = JSON.parse(raw); } catch (e) { throw new ValidationError(`${key}:= takes JSON (got ${raw})`, undefined, { cause: e }); }
    } else if (raw === "@-") {
      if (stdinUsed) throw new ValidationError("only one value can come from stdin (@-)");
      stdinUsed = true;
      out[key] = (await readStdin()).replace(/\n$/, "");
    } else if (raw.startsWith("@")) {
      try { out[key] = readFileSync(raw.slice(1), "utf8"); } catch (e) { throw new ValidationError(`cannot read ${raw.slice(1)} for ${key}: ${(e as Error).message}`, undefined, { cause: e }); }
    } else out[key] = raw;
  }
  return out;
}

export function registerConfigCommands(program: Command, ctx: (cmd: Command) => Context): void {
  const config = program.command("config").description(`named, typed client configurations (${CONFIG_TYPES.join(", ")}), encrypted at rest under a key from your identity`);

  config.command("set").description("create or update an instance: kosmos config set ssh box host=10.0.0.2 privateKey=@~/.ssh/id_ed25519")
    .argument("<type>", CONFIG_TYPES.join("|")).argument("<name>").argument("[assignments...]", "key=value, key:=JSON, key=@FILE, key=@-")
    .option("--replace", "drop the fields not given (default: keep them)")
    .action(async (type: string, name: string, words: string[], o: { replace?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const t = checkType(type);
      const v = await configManagerOf(c).set(t, name, await parseAssignments(words), { merge: !o.replace });
      c.out.result({ type: t, name, value: masked(t, v) }, () => `saved ${t}/${name}`);
    });

  config.command("get").description("show an instance (secrets masked unless --reveal)")
    .argument("<type>").argument("<name>")
    .option("--reveal", "print the secret fields too")
    .action(async (type: string, name: string, o: { reveal?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const t = checkType(type);
      const v = await configManagerOf(c).get(t, name);
      const shown = o.reveal ? { ...v } as Record<string, unknown> : masked(t, v);
      c.out.result(shown, () => Object.entries(shown).map(([k, x]) => `${k}: ${typeof x === "string" && x.includes("\n") ? `\n${x}` : String(x)}`).join("\n"));
    });

  config.command("ls").description("the instances (all, or one type's)").argument("[type]")
    .action(async (type: string | undefined, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const list = configManagerOf(c).list(type === undefined ? undefined : checkType(type));
      c.out.result(list, () => list.length ? table(["TYPE", "NAME"], list.map((r) => [r.type, r.name])) : "no configs");
    });

  config.command("rm").description("remove an instance").argument("<type>").argument("<name>")
    .action(async (type: string, name: string, _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const t: ConfigType = checkType(type);
      await configManagerOf(c).remove(t, name);
      c.out.result({ removed: { type: t, name } }, () => `removed ${t}/${name}`);
    });

  config.command("export").description("every instance in one bundle, encrypted under your identity (opens only in a home with the same identity)")
    .option("-o, --out <file>", "write it there (mode 0600) instead of stdout")
    .action(async (o: { out?: string }, cmd: Command) => {
      const c = ctx(cmd);
      const m = configManagerOf(c);
      const bundle = await m.export();
      if (o.out) {
        await writeFileAtomic(resolve(o.out), bundle, 0o600);
        c.out.result({ file: o.out, count: m.list().length }, () => `exported ${m.list().length} instance(s) to ${o.out}`);
      } else process.stdout.write(bundle);
    });

  config.command("import").description("take a bundle made by `kosmos config export` (same identity)")
    .argument("[file]", "the bundle (default: stdin)")
    .option("--overwrite", "replace instances this home has already")
    .action(async (file: string | undefined, o: { overwrite?: boolean }, cmd: Command) => {
      const c = ctx(cmd);
      const text = file && file !== "-" ? readFileSync(file, "utf8") : await readSecretInput("bundle: ");
      const r = await configManagerOf(c).import(text, { overwrite: !!o.overwrite });
      c.out.result(r, () => `imported ${r.imported.length} instance(s): ${r.imported.map((x) => `${x.type}/${x.name}`).join(", ")}`);
    });
}

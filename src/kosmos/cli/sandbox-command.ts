// `kosmos flist sandbox BINARY…`: binaries of this machine with their libraries, as an flist on the hub.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { InternalError, ValidationError } from "../../core/index.js";
import { buildAndPublish } from "../../flist/index.js";
import { sandboxTree } from "../builders/index.js";
import type { Context } from "./context.js";

export function registerSandboxCommand(program: Command, ctx: (cmd: Command) => Context): void {
  const flist = program.commands.find((c) => c.name() === "flist");
  if (!flist) throw new InternalError("the `flist` command group is missing; register the toolbox after it");
  flist.command("sandbox").description("collect binaries with their shared libraries (ldd) into a root file system and publish it as an flist")
    .argument("<binaries...>", "absolute paths, e.g. /usr/bin/redis-server")
    .option("--name <name>", "the flist's name under your public key on the hub (required unless --tree-only)")
    .option("--with <file>", "another file to copy in at its own path (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--out <dir>", "lay the tree out here and keep it (default: a temporary folder)")
    .option("--tree-only", "only lay the tree out (with --out); publish nothing")
    .option("--hub <url>", "the flist hub (env KOSMOS_HUB, or the one saved in the home)")
    .action(async (binaries: string[], o: { name?: string; with: string[]; out?: string; treeOnly?: boolean; hub?: string }, cmd: Command) => {
      const c = ctx(cmd);
      if (o.treeOnly && !o.out) throw new ValidationError("--tree-only needs --out DIR (where to keep the tree)");
      if (!o.treeOnly && !o.name) throw new ValidationError("--name is required to publish", "or pass --tree-only --out DIR");
      const root = o.out ? resolve(o.out) : join(await mkdtemp(join(tmpdir(), "kosmos-sandbox-")), "root");
      try {
        const tree = await sandboxTree(binaries, root, { extra: o.with });
        c.out.note(`sandbox: ${tree.files.length} files in ${root}`);
        if (o.treeOnly) { c.out.result({ root, files: tree.files }, () => `${root}: ${tree.files.join(" ")}`); return; }
        const hub = c.hubUrl();
        const { keys } = await c.store.identity();
        const r = await buildAndPublish(root, { hub, keys, name: o.name!, onProgress: (m) => c.out.note(m) });
        const { flist: _f, ...rest } = r;
        c.out.result({ ...rest, binaries, libraries: tree.files.filter((f) => !binaries.includes(f)) }, () => r.address);
      } finally {
        if (!o.out) await rm(join(root, ".."), { recursive: true, force: true });
      }
    });
}

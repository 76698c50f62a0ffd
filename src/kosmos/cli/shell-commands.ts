// `kosmos shell` and `kosmos run`: the toolbox in a REPL, or in a script (src/kosmos/shell).
import { inspect } from "node:util";
import type { Command } from "commander";
import { describeError } from "../../core/index.js";
import { buildScope, runScript, startShell } from "../shell/index.js";
import type { Context } from "./context.js";

function scopeOf(c: Context) {
  return buildScope({ home: c.store.home, keys: async () => (await c.store.identity()).keys, ledgerUrl: () => c.ledgerUrl() });
}

export function registerShellCommands(program: Command, ctx: (cmd: Command) => Context): void {
  program.command("shell").description("a JavaScript shell with the SDK loaded: grid, config, ssh(…), zdb(…), ledger(…), hub(…), local; top-level await; .help")
    .action(async (_o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const { scope, close, gridError } = await scopeOf(c);
      try {
        await startShell(scope, { home: c.store.home, banner: gridError ? `(grid is not connected: ${describeError(gridError)})` : undefined });
      } finally { await close(); }
    });

  program.command("run").description("run a JavaScript file with the shell's objects in scope (grid, config, ssh, zdb, ledger, hub, local, argv) and top-level await")
    .argument("<script>", "a .js file").argument("[args...]", "given to the script as `argv`")
    .action(async (file: string, args: string[], _o: unknown, cmd: Command) => {
      const c = ctx(cmd);
      const { scope, close } = await scopeOf(c);
      try {
        const v = await runScript(file, scope, args);
        if (v !== undefined) c.out.result(v, () => (typeof v === "string" ? v : inspect(v, { depth: 4 })));
      } finally { await close(); }
    });
}

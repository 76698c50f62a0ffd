// The toolbox's command groups (config manager, shell, run, flist sandbox), registered from here so
// program.ts gains one line. Each group lives in its own file.
import type { Command } from "commander";
import { Context, type GlobalOptions } from "./context.js";
import { registerConfigCommands } from "./config-commands.js";
import { registerShellCommands } from "./shell-commands.js";
import { registerSandboxCommand } from "./sandbox-command.js";

export function registerToolbox(program: Command, env: NodeJS.ProcessEnv = process.env): void {
  const ctx = (cmd: Command) => new Context(cmd.optsWithGlobals() as GlobalOptions, env);
  registerConfigCommands(program, ctx);
  registerShellCommands(program, ctx);
  registerSandboxCommand(program, ctx);
}

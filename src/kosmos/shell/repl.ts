// `kosmos shell`: Node's REPL with the toolbox in scope (scope.ts). Top-level await is the REPL's
// own; completion walks the objects (`grid.` then Tab lists the SDK's methods); history is kept in
// the kosmos home (`shell_history`, mode 0600).
import repl from "node:repl";
import { join } from "node:path";
import { SCOPE_HELP, type Scope } from "./scope.js";

export interface ShellOptions {
  home: string;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Printed once at start (e.g. why `grid` is not connected). */
  banner?: string;
}

export function helpText(): string {
  const width = Math.max(...SCOPE_HELP.map(([n]) => n.length));
  return ["In scope:", ...SCOPE_HELP.map(([n, d]) => `  ${n.padEnd(width)}  ${d}`),
    "Top-level await works; Tab completes names and methods; .exit (or Ctrl-D) leaves."].join("\n");
}

/** Starts the shell; resolves when the user leaves it. */
export function startShell(scope: Scope, opts: ShellOptions): Promise<void> {
  const output = opts.output ?? process.stdout;
  output.write(`kosmos shell — .help lists what is here\n${opts.banner ? opts.banner + "\n" : ""}`);
  const server = repl.start({ prompt: "kosmos> ", input: opts.input ?? process.stdin, output, useGlobal: false, ignoreUndefined: true, breakEvalOnSigint: true });
  // Getters, not values: `grid` says why it is not connected when it is used, not at start.
  for (const key of Object.keys(Object.getOwnPropertyDescriptors(scope)) as Array<keyof Scope>) {
    Object.defineProperty(server.context, key, { get: () => scope[key], enumerable: true, configurable: true });
  }
  server.defineCommand("help", {
    help: "What is in scope, and the shell's commands",
    action() {
      this.output.write(helpText() + "\nCommands: " + Object.keys(this.commands).sort().map((c) => `.${c}`).join(" ") + "\n");
      this.displayPrompt();
    },
  });
  server.setupHistory(join(opts.home, "shell_history"), () => { /* no history file is not worth failing for */ });
  return new Promise((resolve) => server.on("exit", () => resolve()));
}

// The shell's door: the scope both the REPL and `kosmos run` give, and the two ways in.
export { buildScope, SCOPE_HELP, type Scope, type ScopeSources } from "./scope.js";
export { startShell, helpText, type ShellOptions } from "./repl.js";
export { runScript } from "./run.js";

// Executors' door: one interface to run commands and move files, here (LocalExecutor) or over SSH
// (SshExecutor).
export type { Executor, RunOptions, RunResult } from "./executor.js";
export { shellQuote, commandLine } from "./command-line.js";
export { LocalExecutor } from "./local.js";
export { SshExecutor, fingerprintOf, type SshTarget } from "./ssh.js";

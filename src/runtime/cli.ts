// How every CLI ends: an error is printed as one line (message and hint), or as a JSON error body
// under --json, and the process exits with the code's exit status from core's catalogue.
import { CommanderError } from "commander";
import { describeError, exitCodeOf, toGridError, ERROR_CATALOGUE } from "../core/index.js";

/** The exit status for any thrown value: commander's usage errors are `invalid`, help is 0. */
export function exitStatusOf(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) return 0;
    return ERROR_CATALOGUE.invalid.exit;
  }
  return exitCodeOf(err);
}

/** Prints `err` for a person (or a script with `json`) on stderr and sets the exit status. */
export function reportCliError(program: string, err: unknown, json = false): void {
  const status = exitStatusOf(err);
  process.exitCode = status;
  if (status === 0 || err instanceof CommanderError) return; // commander has printed its own message
  if (json) process.stderr.write(`${JSON.stringify({ error: toGridError(err).toJSON() })}\n`);
  else process.stderr.write(`${program}: ${describeError(err)}\n`);
}

/** Runs a CLI's main with the shared error ending. */
export async function runCli(program: string, main: () => Promise<void>, json = process.argv.includes("--json")): Promise<void> {
  try { await main(); } catch (err) { reportCliError(program, err, json); }
}

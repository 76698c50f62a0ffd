// How a run() request becomes the one string a remote shell executes (ssh runs a string, not an
// argv), and how `env -0` output reads back. Pure.
import { ValidationError } from "../../core/index.js";
import type { RunOptions } from "./executor.js";

/** `s` quoted for a POSIX shell: it arrives as one word, unchanged. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The one command line that does what `run(command, opts)` asks on a machine reached by a shell
 * (ssh executes a string): cd, then `env` sets the variables, then the argv or `sh -c`.
 */
export function commandLine(command: string | readonly string[], opts: Pick<RunOptions, "env" | "cwd" | "timeoutMs"> = {}): string {
  const argv = typeof command === "string" ? ["sh", "-c", command] : [...command];
  const vars = Object.entries(opts.env ?? {}).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new ValidationError(`"${k}" is not an environment variable name`);
    return `${k}=${v}`;
  });
  // A deadline is enforced on the far side too: OpenSSH refuses `signal` requests in many setups
  // (it needs a privilege-separated session) and closing the channel does not stop a command
  // without a terminal, so coreutils' timeout kills it there.
  const limit = opts.timeoutMs ? ["timeout", "-s", "KILL", (opts.timeoutMs / 1000).toFixed(3)] : [];
  const body = [...limit, ...(vars.length ? ["env", ...vars] : []), ...argv].map(shellQuote).join(" ");
  return opts.cwd ? `cd ${shellQuote(opts.cwd)} && exec ${body}` : `exec ${body}`;
}

/** Parses `env -0` output. */
export function parseEnv0(out: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of out.split("\0")) {
    const i = entry.indexOf("=");
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}

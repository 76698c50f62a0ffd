// Structured logs go to stderr (or --logfile) so stdout stays free for whoever runs us.
import { pino } from "pino";

export type Logger = Pick<pino.Logger, "info" | "warn" | "error" | "debug">;

export function makeLogger(opts: { verbose?: boolean; logfile?: string; silent?: boolean }): Logger {
  if (opts.silent) return pino({ level: "silent" });
  const dest = opts.logfile ? pino.destination({ dest: opts.logfile, sync: false, mkdir: true }) : pino.destination(2);
  return pino({ level: opts.verbose ? "debug" : "info", base: { svc: "zdb" } }, dest);
}

// A container's command line, read the same way by Kosmos (checking a file before it is signed) and
// by the node (starting it): split on spaces, quotes group, no other shell syntax.
import { ValidationError } from "./errors.js";

/** The PATH a container starts with, before the image's and the workload's env. */
export const CONTAINER_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Splits a shell-like command line: spaces separate, single or double quotes group. */
export function splitCommand(s: string): string[] {
  const out: string[] = [];
  let cur = "", q: string | null = null, has = false;
  for (const ch of s) {
    if (q) { if (ch === q) q = null; else cur += ch; continue; }
    if (ch === "'" || ch === '"') { q = ch; has = true; continue; }
    if (/\s/.test(ch)) { if (has || cur) { out.push(cur); cur = ""; has = false; } continue; }
    cur += ch;
  }
  if (q) throw new ValidationError(`unbalanced quote in entrypoint: ${s}`, "close the quote in the workload's entrypoint");
  if (has || cur) out.push(cur);
  return out;
}

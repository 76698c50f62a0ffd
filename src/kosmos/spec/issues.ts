// A schema issue in the user's words, at the user's line: an unknown key points at that key (with
// "did you mean" when it is one typo away from a known one), a missing field says it is required
// and which fields the entry needs, the rest keep zod's message at the field's own line.
import type { z } from "zod";

/** The zod schema's internals this file reads (zod 4's `_zod.def`), typed loosely on purpose. */
interface Def { type: string; shape?: Record<string, Schema>; element?: Schema; innerType?: Schema; options?: Schema[]; in?: Schema }
interface Schema { _zod: { def: Def; optin?: string } }

/** The object schemas reachable at `path` (a union yields one per option). */
function objectsAt(schema: Schema, path: readonly PropertyKey[]): Schema[] {
  let at: Schema[] = [schema];
  for (let i = 0; i <= path.length; i++) {
    // Unwrap what does not change the shape: optional, default, pipes (sizes), unions (several shapes).
    const flat: Schema[] = [];
    const open = (s: Schema): void => {
      const d = s._zod.def;
      if (d.innerType) open(d.innerType);
      else if (d.type === "pipe" && d.in) open(d.in);
      else if (d.type === "union" && d.options) d.options.forEach(open);
      else flat.push(s);
    };
    at.forEach(open);
    if (i === path.length) return flat.filter((s) => s._zod.def.type === "object");
    const key = path[i];
    at = flat.flatMap((s) => {
      const d = s._zod.def;
      if (d.type === "array" && typeof key === "number" && d.element) return [d.element];
      if (d.type === "object" && typeof key === "string" && d.shape?.[key]) return [d.shape[key]];
      return [];
    });
  }
  return [];
}

/** The keys an entry at `path` may have, and those it must have. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): { known: string[]; required: string[] } {
  const objs = objectsAt(schema as unknown as Schema, path);
  const known = new Set<string>(), required = new Set<string>();
  for (const o of objs) {
    for (const [k, v] of Object.entries(o._zod.def.shape ?? {})) {
      known.add(k);
      // With several shapes (a union), a key is required only if every shape requires it.
      // (`optin` is unset only for a field with neither `.optional()` nor `.default()`.)
      if (objs.every((x) => x._zod.def.shape?.[k] && x._zod.def.shape[k]._zod.optin === undefined)) required.add(k);
    }
  }
  return { known: [...known], required: [...required] };
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known key `typo` most likely meant: a few edits away (a swap counts two), else none. */
export function didYouMean(typo: string, known: readonly string[]): string | null {
  let best: string | null = null, bestD = Infinity;
  for (const k of known) {
    const d = editDistance(typo, k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : null;
}

export interface Located { path: readonly PropertyKey[]; key?: string; message: string }

/** One zod issue as messages: several for an unknown-keys issue (one per key, each at its own line). */
export function describeIssue(schema: z.ZodType, issue: z.core.$ZodIssue, valueAt: (path: readonly PropertyKey[]) => unknown): Located[] {
  if (issue.code === "unrecognized_keys") {
    const { known } = keysAt(schema, issue.path);
    const present = valueAt(issue.path);
    const free = known.filter((k) => !(present && typeof present === "object" && k in present));
    return issue.keys.map((key) => {
      const guess = didYouMean(key, free) ?? didYouMean(key, known);
      return { path: issue.path, key, message: `unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : `; known keys here: ${known.join(", ")}`}` };
    });
  }
  if (issue.path.length && valueAt(issue.path) === undefined) {
    const parent = issue.path.slice(0, -1);
    const { required } = keysAt(schema, parent);
    const what = parent.length ? "this entry" : "a deployment file";
    return [{ path: issue.path, message: `required, and missing here (${what} needs ${required.join(", ")})` }];
  }
  return [{ path: issue.path, message: issue.message }];
}

// Request bodies: read with a size limit, and refused (400) when nested deeper than any transaction
// is — before JSON.parse and the recursive canonical form see them, so a body of ten thousand `[`
// is an `invalid` answer, never a stack overflow answered 500.
import type { IncomingMessage } from "node:http";
import { GridError, MAX_TX_BYTES, ValidationError } from "../core/index.js";

/** Largest request body: a maximal transaction plus room for JSON whitespace. */
export const MAX_BODY_BYTES = 2 * MAX_TX_BYTES;
/** Deepest nesting of arrays and objects a request may have (a deployment needs about ten). */
export const MAX_JSON_DEPTH = 64;

/** An error with an HTTP status of its own (404 for a path, 405, 413), beside core's table. */
export class HttpError extends GridError {
  constructor(readonly status: number, code: GridError["code"], message: string, hint?: string) { super(code, message, hint); }
}

/** Throws `invalid` when `text` nests arrays/objects deeper than `max` (strings are skipped). */
export function checkJsonDepth(text: string, max = MAX_JSON_DEPTH): void {
  let depth = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) throw new ValidationError(`the request body nests deeper than ${max} levels`, "a transaction is a shallow JSON object");
    } else if (c === 93 || c === 125) depth--;
  }
}

/** JSON.parse after the depth check; a parse error is `invalid`. */
export function parseJsonBody(text: string): unknown {
  checkJsonDepth(text);
  try { return JSON.parse(text); } catch (e) {
    throw new ValidationError(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

export async function readJson(req: IncomingMessage): Promise<unknown> {
  return parseJsonBody(await readBody(req));
}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    const tooBig = () => new HttpError(413, "invalid", `request body is larger than the limit of ${MAX_BODY_BYTES} bytes`, `a transaction may be at most ${MAX_TX_BYTES} bytes`);
    if (declared > MAX_BODY_BYTES) { req.resume(); reject(tooBig()); return; }
    const chunks: Buffer[] = [];
    let size = 0, failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY_BYTES) { failed = true; reject(tooBig()); return; }
      chunks.push(c);
    });
    req.on("end", () => {
      if (failed) return;
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

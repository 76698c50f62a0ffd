// RFC 8785 (JSON Canonicalization Scheme). Pure: the bytes every signature in the grid covers.
import { ValidationError } from "./errors.js";

/** Serialize a JSON value canonically: keys sorted by UTF-16 code units, no whitespace,
 *  numbers and strings as ECMAScript's JSON.stringify writes them. Undefined object members are
 *  dropped (as JSON does); anything that JSON cannot represent exactly is refused. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, "$");
  return out.join("");
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), "utf8");
}

function write(value: unknown, out: string[], path: string): void {
  if (value === null) { out.push("null"); return; }
  switch (typeof value) {
    case "boolean": out.push(value ? "true" : "false"); return;
    case "string": out.push(JSON.stringify(value)); return;
    case "number":
      if (!Number.isFinite(value)) throw new ValidationError(`canonical JSON: ${path} is not a finite number`);
      // JSON.stringify gives ECMAScript Number::toString, which is what RFC 8785 prescribes; -0 → 0.
      out.push(Object.is(value, -0) ? "0" : JSON.stringify(value));
      return;
    case "object": {
      if (Array.isArray(value)) {
        out.push("[");
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",");
          const item = value[i];
          // JSON.stringify writes undefined array items as null; keep that behaviour.
          write(item === undefined ? null : item, out, `${path}[${i}]`);
        }
        out.push("]");
        return;
      }
      if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) {
        throw new ValidationError(`canonical JSON: ${path} is binary; encode it as hex or base64 first`);
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new ValidationError(`canonical JSON: ${path} is a ${proto?.constructor?.name ?? "non-plain"} object, not plain JSON`);
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort(compareUtf16);
      out.push("{");
      keys.forEach((k, i) => {
        if (i > 0) out.push(",");
        out.push(JSON.stringify(k), ":");
        write(record[k], out, `${path}.${k}`);
      });
      out.push("}");
      return;
    }
    default:
      throw new ValidationError(`canonical JSON: ${path} is a ${typeof value}, which JSON cannot hold`);
  }
}

// Array.prototype.sort's default comparison is by UTF-16 code units, which is what RFC 8785 asks.
function compareUtf16(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

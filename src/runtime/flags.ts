// Command-line values parsed one way for every CLI (commander argument parsers).
import { InvalidArgumentError } from "commander";

/** A non-negative integer flag (`--port 0`, `--datasize 1048576`); `min` raises the floor. */
export function intFlag(name: string, min = 0): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min} (got "${v}")`);
    return n;
  };
}

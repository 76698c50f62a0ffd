// What ldd says a binary loads, parsed (pure). glibc's ldd prints one line per object:
//   libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x…)     a library found by name
//   /lib64/ld-linux-x86-64.so.2 (0x…)                          the loader, by path
//   linux-vdso.so.1 (0x…)                                      the kernel's, not a file
//   libfoo.so.1 => not found                                   missing: the sandbox would not run
// and "not a dynamic executable" (or "statically linked") for a binary that loads nothing.
import { NotFoundError } from "../../core/index.js";

export interface LddResult { libraries: string[]; missing: string[]; static: boolean }

export function parseLdd(output: string): LddResult {
  const libraries: string[] = [], missing: string[] = [];
  if (/not a dynamic executable|statically linked/.test(output)) return { libraries, missing, static: true };
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    let m = /^(\S+) => not found$/.exec(line);
    if (m) { missing.push(m[1]!); continue; }
    m = /^\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line) ?? /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (m && !libraries.includes(m[1]!)) libraries.push(m[1]!);
  }
  return { libraries, missing, static: false };
}

/** The libraries, or NotFoundError naming those ldd could not find. */
export function librariesOrFail(binary: string, output: string): string[] {
  const r = parseLdd(output);
  if (r.missing.length) throw new NotFoundError(`${binary} needs ${r.missing.join(", ")}, which this machine does not have`, "install them (or set LD_LIBRARY_PATH) and sandbox again");
  return r.libraries;
}

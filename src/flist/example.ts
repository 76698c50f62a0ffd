// The example flist: busybox `httpd` serving one page, laid out from Debian's busybox-static.
import { chmod, copyFile, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../core/index.js";

export const BUSYBOX = "/bin/busybox";
export const EXAMPLE_PAGE = "<!doctype html><title>hello from the grid</title><h1>Hello from a container on the grid</h1>\n";
/** What the example runs: busybox httpd in the foreground on port 80, serving /www. */
export const EXAMPLE_ENTRYPOINT = "/bin/httpd -f -v -p 80 -h /www";

/** Lays out the example's root file system in `dir` (which must be empty or absent). */
export async function layoutExampleFolder(dir: string, opts: { page?: string; busybox?: string } = {}): Promise<void> {
  const bb = opts.busybox ?? BUSYBOX;
  await mkdir(join(dir, "bin"), { recursive: true });
  try { await copyFile(bb, join(dir, "bin/busybox")); } catch (e) {
    throw new ValidationError(`cannot copy ${bb}: ${(e as Error).message}`, "install Debian's busybox-static (scripts/setup.sh does)");
  }
  await chmod(join(dir, "bin/busybox"), 0o755);
  for (const app of ["sh", "httpd", "ls", "cat", "echo", "env", "sleep", "wget", "head", "dd", "ip"]) await symlink("busybox", join(dir, "bin", app));
  for (const d of ["www", "tmp", "etc", "proc", "sys", "dev", "root"]) await mkdir(join(dir, d), { recursive: true });
  await chmod(join(dir, "tmp"), 0o1777);
  await writeFile(join(dir, "www/index.html"), opts.page ?? EXAMPLE_PAGE);
  await writeFile(join(dir, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
  await writeFile(join(dir, "etc/group"), "root:x:0:\n");
}

// `kosmos flist sandbox`: a root file system holding given binaries, each at its own path, with
// every shared library ldd names (and the loader) at the path the binary looks for it — so the
// binary runs chrooted there, or in a container on the grid once the tree is an flist. The
// commands run through an Executor (local by default), the copies are local file operations.
import { copyFile, chmod, mkdir, realpath, stat, writeFile, access } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { NotFoundError, ValidationError } from "../../core/index.js";
import { LocalExecutor, type Executor } from "../executors/index.js";
import { librariesOrFail } from "./ldd.js";

/** glibc opens these by name at run time (user and host lookups): ldd cannot see them. */
const NSS_LIBRARIES = ["libnss_files.so.2", "libnss_dns.so.2", "libresolv.so.2"];

export interface SandboxResult {
  root: string;
  binaries: string[];
  /** Every file copied into the tree, by its path inside it. */
  files: string[];
}

async function copyInto(root: string, path: string, files: string[]): Promise<void> {
  if (files.includes(path)) return;
  const dest = join(root, path);
  await mkdir(dirname(dest), { recursive: true, mode: 0o755 });
  // Dereferenced: the tree holds the file under the name the loader asks for.
  const real = await realpath(path);
  await copyFile(real, dest);
  await chmod(dest, (await stat(real)).mode & 0o7777);
  files.push(path);
}

/** Lays the sandbox of `binaries` out in `root` (created if needed). */
export async function sandboxTree(binaries: string[], root: string, opts: { exec?: Executor; extra?: string[] } = {}): Promise<SandboxResult> {
  if (!binaries.length) throw new ValidationError("no binary to sandbox", "name at least one, e.g. /usr/bin/redis-server");
  const exec = opts.exec ?? new LocalExecutor();
  const files: string[] = [];
  const libDirs = new Set<string>();
  for (const bin of binaries) {
    if (!isAbsolute(bin)) throw new ValidationError(`${bin}: give the binary's absolute path`, `e.g. $(command -v ${bin})`);
    try { await access(bin); } catch (e) { throw new NotFoundError(`no binary ${bin}`, undefined, { cause: e }); }
    const ldd = await exec.run(["ldd", bin], { env: { LC_ALL: "C" } });
    const libs = librariesOrFail(bin, ldd.stdout + ldd.stderr);
    await copyInto(root, bin, files);
    for (const lib of libs) { await copyInto(root, lib, files); libDirs.add(dirname(lib)); }
  }
  for (const dir of libDirs) for (const name of NSS_LIBRARIES) {
    const p = join(dir, name);
    if (await access(p).then(() => true, () => false)) await copyInto(root, p, files);
  }
  for (const p of opts.extra ?? []) await copyInto(root, p, files);
  // What a process expects of a root file system: a writable /tmp, users to resolve, and hosts.
  await mkdir(join(root, "tmp"), { recursive: true });
  await chmod(join(root, "tmp"), 0o1777);
  await mkdir(join(root, "etc"), { recursive: true, mode: 0o755 });
  const etc: Record<string, string> = {
    "passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "group": "root:x:0:\nnogroup:x:65534:\n",
    "nsswitch.conf": "passwd: files\ngroup: files\nhosts: files dns\n",
    "hosts": "127.0.0.1 localhost\n::1 localhost\n",
  };
  for (const [name, text] of Object.entries(etc)) if (!files.includes(`/etc/${name}`)) await writeFile(join(root, "etc", name), text, { mode: 0o644 });
  return { root, binaries, files };
}

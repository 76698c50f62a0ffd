// A container's root: overlayfs with the flist's read-only tree below and a writable layer above,
// on its own tmpfs sized to the workload's rootfsSize (writes beyond it fail with ENOSPC). The
// tmpfs also holds the runtime bundle, so config.json (with the secret env) never touches a disk.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { isMounted, sh, unmount } from "./sys.js";

export interface RootfsPaths { rw: string; rootfs: string; bundle: string }

export function rootfsPaths(dir: string): RootfsPaths {
  return { rw: join(dir, "rw"), rootfs: join(dir, "rootfs"), bundle: join(dir, "rw", "bundle") };
}

export async function mountRootfs(dir: string, lower: string, sizeBytes: number): Promise<RootfsPaths> {
  const p = rootfsPaths(dir);
  await mkdir(p.rw, { recursive: true, mode: 0o700 });
  await mkdir(p.rootfs, { recursive: true, mode: 0o755 });
  if (!(await isMounted(p.rw))) await sh("mount", ["-t", "tmpfs", "-o", `size=${Math.max(sizeBytes, 1024 * 1024)},mode=0700`, "tmpfs", p.rw]);
  await mkdir(join(p.rw, "upper"), { recursive: true });
  await mkdir(join(p.rw, "work"), { recursive: true });
  await mkdir(p.bundle, { recursive: true, mode: 0o700 });
  if (!(await isMounted(p.rootfs))) {
    await sh("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${join(p.rw, "upper")},workdir=${join(p.rw, "work")}`, p.rootfs]);
  }
  return p;
}

export async function unmountRootfs(dir: string): Promise<void> {
  const p = rootfsPaths(dir);
  await unmount(p.rootfs);
  await unmount(p.rw);
}

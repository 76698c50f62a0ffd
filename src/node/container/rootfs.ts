// A container's root: overlayfs with the flist's read-only tree below and a writable layer above,
// on its own tmpfs sized to the workload's rootfsSize (writes beyond it fail with ENOSPC). The
// tmpfs also holds the runtime bundle, so config.json (with the secret env) never touches a disk.
import { access, constants, mkdir, realpath } from "node:fs/promises";
import { join } from "node:path";
import { mountPoints, sh, unmount } from "./sys.js";

export interface RootfsPaths {
  rw: string;
  rootfs: string;
  bundle: string;
  /** The writable layer was made by this mount: empty, so the root is exactly the flist's tree. */
  fresh: boolean;
}

export function rootfsPaths(dir: string): Omit<RootfsPaths, "fresh"> {
  return { rw: join(dir, "rw"), rootfs: join(dir, "rootfs"), bundle: join(dir, "rw", "bundle") };
}

// busybox (static, from busybox-static) runs the whole mount sequence in one short process with its
// applets, where util-linux's mount costs a process per mount plus libmount's bookkeeping: on a
// cached start this is on the critical path.
let busybox: Promise<string | null> | undefined;
function findBusybox(): Promise<string | null> {
  busybox ??= (async () => {
    for (const p of ["/bin/busybox", "/usr/bin/busybox"]) if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
    return null;
  })();
  return busybox;
}

// The bundle (config.json, 0600) is under the tmpfs's root, mode 0700: no other user reaches it.
const MOUNT_BOTH = 'set -e; "$0" mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$2"; "$0" mkdir -p "$2/upper" "$2/work" "$2/bundle"; exec "$0" mount -t overlay overlay -o "lowerdir=$3,upperdir=$2/upper,workdir=$2/work" "$4"';

export async function mountRootfs(dir: string, lower: string, sizeBytes: number): Promise<RootfsPaths> {
  await mkdir(join(dir, "rw"), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, "rootfs"), { recursive: true, mode: 0o755 });
  // Real paths: that is how /proc/self/mountinfo names mount points.
  const p = rootfsPaths(await realpath(dir));
  const size = String(Math.max(sizeBytes, 1024 * 1024));
  const mounted = await mountPoints();
  const rwMounted = mounted.has(p.rw), rootMounted = mounted.has(p.rootfs);
  const bb = !rwMounted && !rootMounted ? await findBusybox() : null;
  if (bb) {
    await sh(bb, ["sh", "-c", MOUNT_BOTH, bb, size, p.rw, lower, p.rootfs]);
    return { ...p, fresh: true };
  }
  if (!rwMounted) await sh("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", p.rw]);
  await mkdir(join(p.rw, "upper"), { recursive: true });
  await mkdir(join(p.rw, "work"), { recursive: true });
  await mkdir(p.bundle, { recursive: true, mode: 0o700 });
  if (!rootMounted) {
    await sh("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${lower},upperdir=${join(p.rw, "upper")},workdir=${join(p.rw, "work")}`, p.rootfs]);
  }
  return { ...p, fresh: !rwMounted };
}

export async function unmountRootfs(dir: string): Promise<void> {
  const p = rootfsPaths(dir);
  await unmount(p.rootfs);
  await unmount(p.rw);
}

// `volume` workloads: a folder whose size is enforced. As root it is a real file system of exactly
// that size (a sparse image file, mkfs.ext4, loop-mounted): writes past it fail with ENOSPC.
// Without root a plain folder stands in, and the node says so in its log.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, open, rename, rm, stat, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { ConflictError, DamagedError, ValidationError, type WorkloadOf } from "../../core/index.js";
import type { Logger } from "pino";
import type { Provisioner, WorkloadContext } from "./types.js";

const run = promisify(execFile);
type Volume = WorkloadOf<"volume">;

/** Mount points from /proc/self/mountinfo (field 5, octal escapes decoded). */
export function parseMountinfo(text: string): string[] {
  return text.split("\n").filter(Boolean).map((l) => l.split(" ")[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

async function isMounted(path: string): Promise<boolean> {
  const real = await realpath(path).catch(() => path);
  return parseMountinfo(await readFile("/proc/self/mountinfo", "utf8")).includes(real);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/**
 * With no node running on the data folder: unmounts every volume of it (their loop devices go with
 * the mounts) and returns the mount points. The images stay — the volumes' data — unless `purge`,
 * which removes the whole `DATA/volume/` folder.
 */
export async function cleanupVolumes(dataDir: string, opts: { purge?: boolean } = {}): Promise<{ mounts: string[]; errors: string[] }> {
  const dir = join(dataDir, "volume");
  const out = { mounts: [] as string[], errors: [] as string[] };
  const real = await realpath(dir).catch(() => null);
  if (!real) return out;
  const points = parseMountinfo(await readFile("/proc/self/mountinfo", "utf8")).filter((p) => p.startsWith(real + "/"));
  for (const m of [...new Set(points)].sort((a, b) => b.length - a.length)) {
    await run("umount", [m]).catch(() => run("umount", ["-l", m])).then(() => out.mounts.push(m), (e: Error) => out.errors.push(`unmount ${m}: ${e.message}`));
  }
  if (opts.purge && !out.errors.length) await rm(dir, { recursive: true, force: true });
  return out;
}

/** The size of the ext4 file system in an image (its superblock's block count × block size). */
async function fsBytes(image: string): Promise<number> {
  const out = (await run("dumpe2fs", ["-h", image])).stdout;
  const count = Number(/^Block count:\s+(\d+)/m.exec(out)?.[1]);
  const size = Number(/^Block size:\s+(\d+)/m.exec(out)?.[1]);
  return count * size;
}

/** The loop devices backed by `image`. */
async function loopsOf(image: string): Promise<string[]> {
  return (await run("losetup", ["-j", image, "-n", "-O", "NAME"])).stdout.split("\n").map((l) => l.trim()).filter(Boolean);
}

async function waitDetached(image: string, ms = 5000): Promise<string[]> {
  for (const end = Date.now() + ms; ;) {
    const loops = await loopsOf(image);
    if (!loops.length || Date.now() > end) return loops;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** e2fsck `-p` (fix what is safe) or `-n` (check only): anything but clean (or, with -p, fixed) is damage. */
async function fsck(ctx: WorkloadContext, image: string, mode: "-p" | "-n"): Promise<void> {
  const r = await run("e2fsck", ["-f", mode, image], { signal: ctx.signal }).then(() => 0, (e: { code?: unknown }) => (typeof e.code === "number" ? e.code : 8));
  if (r === 0 || (mode === "-p" && r === 1)) return;
  throw new DamagedError(`volume ${ctx.workloadId}: e2fsck ${mode} found errors it did not fix (status ${r}); not resized`, `run e2fsck -f ${image} by hand`);
}

/** Whoever mounts volumes (the containers): stopped while a volume is grown offline. */
export interface VolumeUsers {
  holdMounts(dataDir: string, source: string, log: Logger): Promise<() => Promise<void>>;
}

export interface VolumeOptions {
  /** Real loop-mounted file systems (default: when running as root). */
  root?: boolean;
  users?: VolumeUsers;
}

export class VolumeProvisioner implements Provisioner<"volume"> {
  readonly type = "volume" as const;
  private warned = false;
  private readonly root: boolean;

  constructor(private readonly opts: VolumeOptions = {}) {
    this.root = opts.root ?? process.getuid?.() === 0;
  }

  private paths(ctx: WorkloadContext): { dir: string; mount: string; image: string } {
    const dir = join(ctx.dataDir, "volume");
    return { dir, mount: join(dir, ctx.workloadId), image: join(dir, `${ctx.workloadId}.img`) };
  }

  async provision(ctx: WorkloadContext, w: Volume): Promise<Record<string, unknown>> {
    const { dir, mount, image } = this.paths(ctx);
    await mkdir(mount, { recursive: true, mode: 0o755 });
    if (!this.root) {
      if (!this.warned) { ctx.log.warn("not running as root: volumes are plain folders and their size is not enforced"); this.warned = true; }
      return { path: mount, size: w.data.size, quota: false };
    }
    if (!(await exists(image))) {
      // Formatted under a temporary name and renamed: an image file that exists is always whole.
      const tmp = join(dir, `.${ctx.workloadId}.img.tmp`);
      ctx.progress(`formatting a ${w.data.size}-byte file system`);
      const fh = await open(tmp, "w", 0o600);
      try { await fh.truncate(w.data.size); await fh.sync(); } finally { await fh.close(); }
      await run("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1", tmp], { signal: ctx.signal });
      await rename(tmp, image);
    } else {
      const current = (await stat(image)).size;
      if (w.data.size < current) throw new ValidationError(`volume ${ctx.workloadId} cannot shrink from ${current} to ${w.data.size} bytes`, "a volume only grows: keep its size, or add a new volume and move the data");
      // Compared with the file system, not the file: a grow cut short after the truncate is finished here.
      if (w.data.size > current || (await fsBytes(image)) < w.data.size - 64 * 1024) await this.grow(ctx, image, mount, w.data.size);
    }
    if (!(await isMounted(mount))) await run("mount", ["-o", "loop", image, mount], { signal: ctx.signal });
    return { path: mount, size: w.data.size, quota: true };
  }

  /**
   * Grows the image and its file system to `size`. Unmounting the node's mount and resizing the
   * image offline is what damaged volumes before: a container's bind mount keeps the file system
   * mounted (an unmount here does not end it), and resize2fs then rewrites a live file system.
   *
   * A volume in use is grown online when the kernel lets us — the loop device told the file's new
   * size (`losetup -c`), then `resize2fs` on the mounted device, as ext4 allows. That needs
   * CAP_SYS_RESOURCE, which a node in a container may lack: then the containers mounting the
   * volume are stopped, the file system unmounted everywhere, checked, grown and checked again,
   * and the containers started again (their files intact, the new size visible).
   */
  private async grow(ctx: WorkloadContext, image: string, mount: string, size: number): Promise<void> {
    ctx.progress(`growing to ${size} bytes`);
    const fh = await open(image, "r+");
    try { if ((await fh.stat()).size < size) await fh.truncate(size); await fh.sync(); } finally { await fh.close(); }
    const loops = await loopsOf(image);
    if (loops.length) {
      for (const dev of loops) await run("losetup", ["-c", dev]);
      const online = await run("resize2fs", [loops[0]], { signal: ctx.signal }).then(() => null, (e: Error) => e);
      if (!online) return;
      ctx.log.info({ err: online.message.split("\n").pop() }, "online resize refused; growing the volume offline");
    }
    const restart = await this.opts.users?.holdMounts(ctx.dataDir, mount, ctx.log);
    try {
      if (await isMounted(mount)) await run("umount", [mount]);
      // The loop device goes with its last mount (autoclear); one still attached means the file
      // system is mounted somewhere we do not know: resizing it would damage it.
      const left = await waitDetached(image);
      if (left.length) throw new ConflictError(`volume ${ctx.workloadId} is still in use (${left.join(", ")}); not resized`, "stop what mounts it and update again");
      await fsck(ctx, image, "-p");
      await run("resize2fs", [image], { signal: ctx.signal });
      await fsck(ctx, image, "-n");
      await run("mount", ["-o", "loop", image, mount], { signal: ctx.signal });
    } finally {
      await restart?.();
    }
  }

  async deprovision(ctx: WorkloadContext, _w?: Volume): Promise<void> {
    const { mount, image, dir } = this.paths(ctx);
    if (this.root && (await exists(mount)) && (await isMounted(mount))) {
      // A busy mount (a process still inside) is detached lazily rather than blocking the removal.
      await run("umount", [mount]).catch(() => run("umount", ["-l", mount]));
    }
    await rm(mount, { recursive: true, force: true });
    await rm(image, { force: true });
    await rm(join(dir, `.${ctx.workloadId}.img.tmp`), { force: true });
  }

  async pause(): Promise<void> {
    // A volume serves containers; pausing those is what stops its use.
  }

  async resume(ctx: WorkloadContext, w: Volume): Promise<Record<string, unknown>> {
    return this.provision(ctx, w);
  }

  async check(ctx: WorkloadContext, _w?: Volume): Promise<{ ok: boolean; message?: string }> {
    const { mount } = this.paths(ctx);
    if (!(await exists(mount))) return { ok: false, message: `${mount} is missing` };
    if (this.root && !(await isMounted(mount))) return { ok: false, message: `${mount} is not mounted` };
    return { ok: true };
  }
}

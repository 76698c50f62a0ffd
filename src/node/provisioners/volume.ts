// `volume` workloads: a folder whose size is enforced. As root it is a real file system of exactly
// that size (a sparse image file, mkfs.ext4, loop-mounted): writes past it fail with ENOSPC.
// Without root a plain folder stands in, and the node says so in its log.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, open, rename, rm, stat, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError, type WorkloadOf } from "../../core/index.js";
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

export class VolumeProvisioner implements Provisioner<"volume"> {
  readonly type = "volume" as const;
  private warned = false;

  constructor(private readonly root = process.getuid?.() === 0) {}

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
      if (w.data.size > current) {
        if (await isMounted(mount)) await run("umount", [mount]);
        const fh = await open(image, "r+");
        try { await fh.truncate(w.data.size); await fh.sync(); } finally { await fh.close(); }
        await run("e2fsck", ["-f", "-p", image], { signal: ctx.signal }).catch(() => {});
        await run("resize2fs", [image], { signal: ctx.signal });
      }
    }
    if (!(await isMounted(mount))) await run("mount", ["-o", "loop", image, mount], { signal: ctx.signal });
    return { path: mount, size: w.data.size, quota: true };
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

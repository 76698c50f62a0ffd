// The OCI runtime config (config.json) of a container: pure, from what the workload and the flist ask.
import { CONTAINER_DEFAULT_PATH, splitCommand } from "../../core/index.js";
export interface OciInput {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  hostname: string;
  netnsPath: string;
  cgroupsPath: string;
  memoryBytes: number;
  cpus: number;
  pids: number;
  mounts: Array<{ source: string; destination: string }>;
}

const CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"];
const CPU_PERIOD = 100_000;

export function ociConfig(i: OciInput): Record<string, unknown> {
  return {
    ociVersion: "1.0.2",
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: i.args,
      env: i.env,
      cwd: i.cwd,
      capabilities: { bounding: CAPS, effective: CAPS, permitted: CAPS },
      noNewPrivileges: true,
    },
    root: { path: i.rootfs, readonly: false },
    hostname: i.hostname,
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
      { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
      { destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
      { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"] },
      ...i.mounts.map((m) => ({ destination: m.destination, type: "bind", source: m.source, options: ["rbind", "rw"] })),
    ],
    linux: {
      namespaces: [{ type: "pid" }, { type: "ipc" }, { type: "uts" }, { type: "mount" }, { type: "network", path: i.netnsPath }],
      cgroupsPath: i.cgroupsPath,
      resources: {
        devices: [{ allow: false, access: "rwm" }],
        memory: { limit: i.memoryBytes, swap: i.memoryBytes },
        cpu: { quota: i.cpus * CPU_PERIOD, period: CPU_PERIOD },
        pids: { limit: i.pids },
      },
      maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
      readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
    },
  };
}

/**
 * What runs: the workload's entrypoint (a shell-like string, split on spaces, quotes honoured) over
 * the image's entrypoint+cmd; the workload's env over the image's env.
 */
export function processOf(entrypoint: string, image: { entrypoint: string[]; cmd: string[]; env: string[]; workdir: string }, env: Record<string, string>): { args: string[]; env: string[]; cwd: string } {
  const args = entrypoint.trim() ? splitArgs(entrypoint) : [...image.entrypoint, ...image.cmd];
  const merged = new Map<string, string>([["PATH", CONTAINER_DEFAULT_PATH]]);
  for (const kv of image.env) { const eq = kv.indexOf("="); if (eq > 0) merged.set(kv.slice(0, eq), kv.slice(eq + 1)); }
  for (const [k, v] of Object.entries(env)) merged.set(k, v);
  return { args, env: [...merged].map(([k, v]) => `${k}=${v}`), cwd: image.workdir || "/" };
}

/** The node reads a command line as Kosmos does (core's splitCommand). */
export const splitArgs = splitCommand;

// A real OpenSSH server (Debian's sshd) as a test host: its own network namespace reached through a
// veth pair, a host key and a client key generated for the test, names with a random suffix so
// concurrent tests never collide. Stopped and removed when the test ends.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import { tempDir, waitFor, type AfterHooks } from "../../support.js";

export interface SshHost {
  host: string;
  port: number;
  user: string;
  privateKey: string;
  /** The host key's `SHA256:…` fingerprint (ssh-keygen -lf). */
  hostKey: string;
  netns: string;
  stderr(): string;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

/** A /30 in 10.210-219.x.y whose addresses no interface here uses yet. */
function freeSubnet(): [string, string] {
  const used = execFileSync("ip", ["-4", "-o", "addr"], { encoding: "utf8" });
  for (;;) {
    const base = `10.${210 + randomInt(10)}.${randomInt(256)}`;
    const last = randomInt(64) * 4;
    const h = `${base}.${last + 1}`, n = `${base}.${last + 2}`;
    if (!used.includes(` ${h}/`) && !used.includes(` ${n}/`)) return [h, n];
  }
}

export async function startSshd(t: AfterHooks): Promise<SshHost> {
  const id = randomBytes(3).toString("hex");
  const netns = `ktssh-${id}`, hostIf = `kth${id}`, nsIf = `ktn${id}`;
  const [hostIp, nsIp] = freeSubnet();
  let proc: ChildProcess | undefined;
  // Registered before tempDir: the server stops and the namespace goes before its folder is removed.
  t.after(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const gone = new Promise((r) => proc!.once("exit", r));
      proc.kill("SIGTERM");
      await gone;
    }
    // Session processes sshd forked for connections still open outlive it (and hold its stderr
    // pipe): end every process in the namespace, only then remove it.
    try {
      for (const pid of execFileSync("ip", ["netns", "pids", netns], { encoding: "utf8" }).split(/\s+/).filter(Boolean)) {
        try { process.kill(Number(pid), "SIGKILL"); } catch { /* gone */ }
      }
    } catch { /* never made */ }
    proc?.stderr?.destroy();
    try { ip("netns", "del", netns); } catch { /* never made */ }
    try { ip("link", "del", hostIf); } catch { /* went with the namespace */ }
  });
  const dir = tempDir(t, "kosmos-sshd");
  ip("netns", "add", netns);
  ip("link", "add", hostIf, "type", "veth", "peer", "name", nsIf);
  ip("link", "set", nsIf, "netns", netns);
  ip("addr", "add", `${hostIp}/30`, "dev", hostIf);
  ip("link", "set", hostIf, "up");
  ip("-n", netns, "addr", "add", `${nsIp}/30`, "dev", nsIf);
  ip("-n", netns, "link", "set", nsIf, "up");
  ip("-n", netns, "link", "set", "lo", "up");

  for (const k of ["host_key", "client_key"]) execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `kosmos-test-${id}`, "-f", join(dir, k)]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  const hostKey = execFileSync("ssh-keygen", ["-lf", join(dir, "host_key.pub")], { encoding: "utf8" }).split(" ")[1]!;
  writeFileSync(join(dir, "sshd_config"), [
    `ListenAddress ${nsIp}`, "Port 22", `HostKey ${join(dir, "host_key")}`, `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    `PidFile ${join(dir, "sshd.pid")}`, "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
    "UsePAM no", "StrictModes no", "Subsystem sftp /usr/lib/openssh/sftp-server", "LogLevel ERROR", "",
  ].join("\n"));
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // sshd's privilege-separation folder
  proc = spawn("ip", ["netns", "exec", netns, "/usr/sbin/sshd", "-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d) => { err = (err + d).slice(-10_000); });
  await waitFor("sshd to accept connections", () => {
    if (proc!.exitCode !== null) throw new Error(`sshd exited: ${err}`);
    return new Promise<boolean>((res) => {
      const s = connect(22, nsIp);
      s.once("connect", () => { s.destroy(); res(true); });
      s.once("error", () => res(false));
    });
  });
  return { host: nsIp, port: 22, user: "root", privateKey: readFileSync(join(dir, "client_key"), "utf8"), hostKey, netns, stderr: () => err };
}

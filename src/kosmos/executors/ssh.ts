// The executor for a machine reached over SSH (ssh2): commands through `exec` on one connection,
// files through SFTP. The connection is opened once and shared by every call until close().
import { createHash } from "node:crypto";
import { Client, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { ForbiddenError, NotFoundError, SignatureError, TimeoutError, UnavailableError, toGridError } from "../../core/index.js";
import { commandLine, parseEnv0 } from "./command-line.js";
import type { Executor, RunOptions, RunResult } from "./executor.js";

export interface SshTarget {
  host: string;
  port?: number;
  user?: string;
  /** OpenSSH or PEM private key text. */
  privateKey?: string;
  passphrase?: string;
  password?: string;
  /** The server's host key fingerprint `SHA256:…` to insist on. Without it any host key is taken
   *  (and can be read back from `hostKey` after connecting, to pin it next time). */
  hostKey?: string;
  /** How long connecting and authenticating may take (default 10 s). */
  readyTimeoutMs?: number;
}

/** Destroys the client's socket even when it is half-closed: ssh2's destroy() skips a socket that
 *  is no longer writable (after end()), and a server whose network vanished never sends the FIN
 *  that would close it — the socket would keep the process alive. ssh2 keeps it in `_sock`. */
function destroySocket(client: Client): void {
  (client as unknown as { _sock?: { destroy(): void } })._sock?.destroy();
}

/** OpenSSH's fingerprint of a raw host key: SHA256, base64 without padding. */
export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

export class SshExecutor implements Executor {
  readonly description: string;
  /** The server's host key fingerprint, as seen when connecting. */
  hostKey = "";
  #sftp?: Promise<SFTPWrapper>;

  private constructor(readonly client: Client, target: SshTarget) {
    this.description = `ssh ${target.user ?? "root"}@${target.host}:${target.port ?? 22}`;
  }

  /** Connects and authenticates: UnavailableError (no server), ForbiddenError (refused credentials),
   *  SignatureError (the host key is not the pinned one), TimeoutError. */
  static connect(target: SshTarget): Promise<SshExecutor> {
    const client = new Client();
    const ex = new SshExecutor(client, target);
    const where = `${target.host}:${target.port ?? 22}`;
    let hostRejected = "";
    const cfg: ConnectConfig = {
      host: target.host, port: target.port ?? 22, username: target.user ?? "root",
      privateKey: target.privateKey, passphrase: target.passphrase, password: target.password,
      readyTimeout: target.readyTimeoutMs ?? 10_000,
      hostVerifier: (key: Buffer) => {
        ex.hostKey = fingerprintOf(key);
        if (target.hostKey && target.hostKey !== ex.hostKey) { hostRejected = ex.hostKey; return false; }
        return true;
      },
    };
    return new Promise((resolve, reject) => {
      client.once("ready", () => { client.removeAllListeners("error"); client.on("error", () => { /* reported by the call in flight */ }); resolve(ex); });
      client.once("error", (e: Error & { level?: string }) => {
        destroySocket(client);
        if (hostRejected) reject(new SignatureError(`${where} presented host key ${hostRejected}, not the pinned ${target.hostKey}`, "the server was reinstalled, or this is not the server you think: check before changing hostKey", { cause: e }));
        else if (e.level === "client-authentication") reject(new ForbiddenError(`${where} refused the credentials for ${target.user ?? "root"}`, "check the ssh config's user and privateKey (is its public key in authorized_keys?)", { cause: e }));
        else if (e.level === "client-timeout") reject(new TimeoutError(`no SSH session with ${where} within ${cfg.readyTimeout} ms`, undefined, { cause: e }));
        else { const g = toGridError(e); reject(g.code === "internal" ? new UnavailableError(`cannot reach SSH at ${where}: ${e.message}`, undefined, { cause: e }) : g); }
      });
      client.connect(cfg);
    });
  }

  run(command: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const line = commandLine(command, opts);
    return new Promise((resolve, reject) => {
      this.client.exec(line, (err, stream) => {
        if (err) return reject(new UnavailableError(`${this.description}: cannot start a command: ${err.message}`, undefined, { cause: err }));
        const out: Buffer[] = [], errs: Buffer[] = [];
        let code: number | null = null, signal: string | null = null, timedOut = false;
        const started = Date.now();
        const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; stream.signal("KILL"); stream.close(); }, opts.timeoutMs) : undefined;
        stream.on("data", (d: Buffer) => { out.push(d); opts.onStdout?.(d); });
        stream.stderr.on("data", (d: Buffer) => { errs.push(d); opts.onStderr?.(d); });
        stream.on("exit", (c: number | null, s?: string) => { code = c ?? null; signal = s ?? null; });
        stream.on("close", () => {
          clearTimeout(timer);
          // The far side's timeout may win the race: KILL there is exit 137 (or the signal) after the deadline.
          if (!timedOut && opts.timeoutMs && Date.now() - started >= opts.timeoutMs && (code === 137 || signal === "SIGKILL" || signal === "KILL")) timedOut = true;
          if (timedOut) return reject(new TimeoutError(`${this.description}: the command did not finish within ${opts.timeoutMs} ms (killed)`));
          resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errs).toString("utf8") });
        });
        stream.end(opts.stdin ?? "");
      });
    });
  }

  #sftpSession(): Promise<SFTPWrapper> {
    this.#sftp ??= new Promise((resolve, reject) => this.client.sftp((err, s) => {
      if (err) { this.#sftp = undefined; reject(new UnavailableError(`${this.description}: no SFTP subsystem: ${err.message}`, "the server needs `Subsystem sftp` in sshd_config", { cause: err })); }
      else resolve(s);
    }));
    return this.#sftp;
  }

  /** Written to a temporary name, then renamed over `path` (posix-rename@openssh.com): never half a file. */
  async putFile(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
    const sftp = await this.#sftpSession();
    const mode = opts.mode ?? 0o644;
    const tmp = `${path}.kosmos-${process.pid}-${Date.now()}.tmp`;
    const step = (what: string, fn: (cb: (err?: Error | null) => void) => void) => new Promise<void>((res, rej) => fn((err) => {
      if (!err) return res();
      const code = (err as { code?: number }).code;
      rej(code === 2 ? new NotFoundError(`${this.description}: ${what}: no such folder for ${path}`, undefined, { cause: err }) : new UnavailableError(`${this.description}: ${what} ${path}: ${err.message}`, undefined, { cause: err }));
    }));
    await step("write", (cb) => sftp.writeFile(tmp, Buffer.from(data), { mode }, cb));
    try {
      await step("chmod", (cb) => sftp.chmod(tmp, mode, cb));
      await step("rename", (cb) => sftp.ext_openssh_rename(tmp, path, cb));
    } catch (e) {
      sftp.unlink(tmp, () => { /* best effort */ });
      throw e;
    }
  }

  async getFile(path: string): Promise<Buffer> {
    const sftp = await this.#sftpSession();
    return new Promise((resolve, reject) => sftp.readFile(path, (err, data) => {
      if (!err) return resolve(data);
      if ((err as { code?: number }).code === 2) reject(new NotFoundError(`no file ${path} (${this.description})`, undefined, { cause: err }));
      else reject(new UnavailableError(`${this.description}: read ${path}: ${err.message}`, undefined, { cause: err }));
    }));
  }

  async env(): Promise<Record<string, string>> {
    return parseEnv0((await this.run(["env", "-0"])).stdout);
  }

  async close(): Promise<void> {
    if (this.#sftp) (await this.#sftp.catch(() => null))?.end();
    // A polite end first; a server that is gone (its network removed) never answers it, and the
    // socket would keep this process alive: after a second it is destroyed.
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => { destroySocket(this.client); resolve(); }, 1000);
      this.client.once("close", () => { clearTimeout(timer); resolve(); });
      this.client.end();
    });
  }
}

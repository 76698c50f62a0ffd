// The executor for this machine: child processes and the local file system.
import { spawn } from "node:child_process";
import { readFile, chmod } from "node:fs/promises";
import { NotFoundError, TimeoutError, toGridError } from "../../core/index.js";
import { writeFileAtomic } from "../../runtime/index.js";
import type { Executor, RunOptions, RunResult } from "./executor.js";

export class LocalExecutor implements Executor {
  readonly description = "local";

  run(command: string | readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = typeof command === "string" ? ["sh", "-c", command] : command;
    return new Promise((resolve, reject) => {
      const p = spawn(file!, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [], err: Buffer[] = [];
      let timedOut = false;
      const timer = opts.timeoutMs ? setTimeout(() => { timedOut = true; p.kill("SIGKILL"); }, opts.timeoutMs) : undefined;
      p.stdout.on("data", (d: Buffer) => { out.push(d); opts.onStdout?.(d); });
      p.stderr.on("data", (d: Buffer) => { err.push(d); opts.onStderr?.(d); });
      p.stdin.on("error", () => { /* the command exited without reading its stdin */ });
      p.on("error", (e) => { clearTimeout(timer); reject(toGridError(e)); });
      p.on("close", (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return reject(new TimeoutError(`${file} did not finish within ${opts.timeoutMs} ms (killed)`));
        resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
      });
      p.stdin.end(opts.stdin ?? "");
    });
  }

  async putFile(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
    const mode = opts.mode ?? 0o644;
    try { await writeFileAtomic(path, data, mode); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no folder for ${path} (local)`, undefined, { cause: e });
      throw toGridError(e);
    }
    await chmod(path, mode); // open()'s mode is masked by the umask
  }

  async getFile(path: string): Promise<Buffer> {
    try { return await readFile(path); } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NotFoundError(`no file ${path} (local)`, undefined, { cause: e });
      throw toGridError(e);
    }
  }

  async env(): Promise<Record<string, string>> {
    return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  }

  async close(): Promise<void> { /* nothing held */ }
}

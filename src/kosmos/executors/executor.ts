// The executor interface: run a command, move a file, read the environment — the same calls whether
// the machine is this one (local.ts) or one reached over SSH (ssh.ts). One conformance suite
// (test/kosmos/toolbox/executor-conformance.ts) runs against every implementation.

export interface RunOptions {
  /** Variables added to the command's environment. */
  env?: Record<string, string>;
  /** Working folder (default: the executor's: the local process's, or the remote user's home). */
  cwd?: string;
  /** Written to the command's stdin, which is then closed (default: closed at once). */
  stdin?: string | Uint8Array;
  /** Output as it comes, before the command ends. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Kill the command after this long: TimeoutError. Default: no limit. */
  timeoutMs?: number;
}

export interface RunResult {
  /** The exit status; null when a signal ended the command. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface Executor {
  /** "local" or "ssh user@host:port": for messages. */
  readonly description: string;
  /**
   * Runs `command`: a string goes through `sh -c` (pipes, globs and `$VARS` work), an array is an
   * argument vector passed as it is (no shell interpretation, on either kind of executor).
   */
  run(command: string | readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Writes a file (replacing it), with `mode` (default 0644). */
  putFile(path: string, data: string | Uint8Array, opts?: { mode?: number }): Promise<void>;
  /** A file's bytes: NotFoundError if there is none. */
  getFile(path: string): Promise<Buffer>;
  /** The environment a command run by this executor starts with. */
  env(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

// The grid's one error model: every error class with its stable code, and the tables from a code
// to its HTTP status and to a process exit code that every server and CLI use. `docs/errors.md`
// lists the same catalogue; test/house/errors-doc.test.ts keeps the two in step (and
// test/core/errors.test.ts the mappings).
//
// Why lower-case snake codes and not GRID_…: the codes are already on the wire (the ledger's and
// the hub's JSON error bodies, `--json` output), and scripts match them; they stay as they are.

/** Every code, with what it means, how servers answer it and how CLIs exit on it. */
export const ERROR_CATALOGUE = {
  invalid: { status: 400, exit: 2, transient: false, meaning: "the input is malformed or breaks a rule (a bad flag, file, field or request)", action: "fix the input the message names and try again" },
  bad_signature: { status: 401, exit: 3, transient: false, meaning: "a signature does not verify, or a key cannot sign (forged, tampered, or the wrong key)", action: "sign with the key the object names; check the identity in use" },
  forbidden: { status: 403, exit: 4, transient: false, meaning: "the signer is not allowed to do this (not the owner, not a requested signer)", action: "act as the owner twin, or ask the owner to" },
  not_found: { status: 404, exit: 5, transient: false, meaning: "the twin, farm, node, contract, name, key or file does not exist", action: "check the id or name (`kosmos ls`, `kosmos nodes`)" },
  conflict: { status: 409, exit: 6, transient: false, meaning: "the request clashes with the current state (already exists, already deleted, wrong version)", action: "read the current state and retry against it" },
  bad_nonce: { status: 409, exit: 7, transient: false, meaning: "the transaction's nonce is not the signer's next one (a replay, or two writers with one key)", action: "let the client pick the nonce (it does by default); do not resend a signed transaction" },
  insufficient_funds: { status: 402, exit: 8, transient: false, meaning: "the account cannot pay for this", action: "fund the twin (`kosmos wallet`) or ask for less" },
  capacity: { status: 409, exit: 9, transient: false, meaning: "the node or farm has not enough free capacity for what is asked", action: "pick another node, or ask for less CPU, memory or disk" },
  deployment_failed: { status: 422, exit: 10, transient: false, meaning: "a workload failed on its node and stays failed until the deployment changes", action: "read the workload's message (`kosmos show`), fix the deployment and update it" },
  unavailable: { status: 503, exit: 11, transient: true, meaning: "a server, node or process could not be reached or is busy; nothing was changed", action: "wait and retry; callers retry this by themselves" },
  timeout: { status: 504, exit: 12, transient: true, meaning: "an operation did not finish in time; it may still complete", action: "look at the state (`kosmos show`) before retrying" },
  exhausted: { status: 507, exit: 13, transient: true, meaning: "a resource ran out (disk space, file descriptors, memory, a connection limit); nothing acknowledged was lost", action: "free the resource (disk, `ulimit -n`, connections); service resumes by itself" },
  damaged: { status: 500, exit: 14, transient: false, meaning: "stored data is corrupt (a checksum or hash link fails where a torn write is impossible)", action: "stop, keep the data folder, restore from a replica or backup; the message names the file and offset" },
  internal: { status: 500, exit: 1, transient: false, meaning: "a bug: something that should not happen did", action: "report it with the log lines around it" },
} as const satisfies Record<string, { status: number; exit: number; transient: boolean; meaning: string; action: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === "string" && Object.hasOwn(ERROR_CATALOGUE, v);
}

export interface ErrorBody { code: ErrorCode; message: string; hint?: string }

export class GridError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
  /** Transient failures (unavailable, timeout, exhausted) are worth retrying as they are. */
  get transient(): boolean { return ERROR_CATALOGUE[this.code].transient; }
  toJSON(): ErrorBody { return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) }; }
}

type Opts = { cause?: unknown };
export class ValidationError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("invalid", message, hint, o); } }
export class SignatureError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("bad_signature", message, hint, o); } }
export class ForbiddenError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("forbidden", message, hint, o); } }
export class NotFoundError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("not_found", message, hint, o); } }
export class ConflictError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("conflict", message, hint, o); } }
export class NonceError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("bad_nonce", message, hint, o); } }
export class InsufficientFundsError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("insufficient_funds", message, hint, o); } }
export class CapacityError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("capacity", message, hint, o); } }
export class DeploymentFailedError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("deployment_failed", message, hint, o); } }
export class UnavailableError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("unavailable", message, hint, o); } }
export class TimeoutError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("timeout", message, hint, o); } }
export class ExhaustedError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("exhausted", message, hint, o); } }
export class DamagedError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("damaged", message, hint, o); } }
export class InternalError extends GridError { constructor(message: string, hint?: string, o?: Opts) { super("internal", message, hint, o); } }

/** code → class: the one table clients use to turn an error body from the wire back into a typed error. */
export const ERROR_CLASSES: Record<ErrorCode, new (message: string, hint?: string, o?: Opts) => GridError> = {
  invalid: ValidationError, bad_signature: SignatureError, forbidden: ForbiddenError, not_found: NotFoundError, conflict: ConflictError,
  bad_nonce: NonceError, insufficient_funds: InsufficientFundsError, capacity: CapacityError, deployment_failed: DeploymentFailedError,
  unavailable: UnavailableError, timeout: TimeoutError, exhausted: ExhaustedError, damaged: DamagedError, internal: InternalError,
};

/** A typed error from a code read off the wire; an unknown code is `internal` (and says which code it was). */
export function errorFromCode(code: unknown, message: string, hint?: string): GridError {
  if (isErrorCode(code)) return new ERROR_CLASSES[code](message, hint);
  return new InternalError(`${message} (unknown error code ${JSON.stringify(code)})`, hint);
}

/** Errno codes that mean "a resource ran out": waited out, never a crash. */
const EXHAUSTED_ERRNO = new Set(["ENOSPC", "EDQUOT", "EMFILE", "ENFILE", "ENOMEM", "EAGAIN", "ENOBUFS"]);
const UNAVAILABLE_ERRNO = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNABORTED"]);

/** Any thrown value as a GridError: GridErrors pass through, system errors map by errno, the rest are `internal`. */
export function toGridError(err: unknown): GridError {
  if (err instanceof GridError) return err;
  const errno = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (typeof errno === "string" && EXHAUSTED_ERRNO.has(errno)) return new ExhaustedError(message, undefined, { cause: err });
  if (typeof errno === "string" && UNAVAILABLE_ERRNO.has(errno)) return new UnavailableError(message, undefined, { cause: err });
  if (typeof errno === "string" && errno === "ENOENT") return new NotFoundError(message, undefined, { cause: err });
  if (err instanceof SyntaxError) return new ValidationError(message, undefined, { cause: err });
  return new InternalError(message, undefined, { cause: err });
}

/** The HTTP status a server answers for an error. */
export function httpStatusOf(err: unknown): number { return ERROR_CATALOGUE[toGridError(err).code].status; }

/** The process exit code a CLI ends with for an error. */
export function exitCodeOf(err: unknown): number { return ERROR_CATALOGUE[toGridError(err).code].exit; }

/** A one-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof GridError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

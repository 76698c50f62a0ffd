// Typed errors shared by every part. `code` is stable for scripts; `hint` tells a person what to do.

export type ErrorCode =
  | "invalid"
  | "bad_signature"
  | "not_found"
  | "conflict"
  | "forbidden"
  | "insufficient_funds"
  | "capacity"
  | "bad_nonce"
  | "unavailable"
  | "internal";

export class GridError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.hint = hint;
  }
  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

export class ValidationError extends GridError {
  constructor(message: string, hint?: string) { super("invalid", message, hint); }
}
export class SignatureError extends GridError {
  constructor(message: string, hint?: string) { super("bad_signature", message, hint); }
}
export class NotFoundError extends GridError {
  constructor(message: string, hint?: string) { super("not_found", message, hint); }
}
export class ConflictError extends GridError {
  constructor(message: string, hint?: string) { super("conflict", message, hint); }
}
export class ForbiddenError extends GridError {
  constructor(message: string, hint?: string) { super("forbidden", message, hint); }
}
export class InsufficientFundsError extends GridError {
  constructor(message: string, hint?: string) { super("insufficient_funds", message, hint); }
}
export class CapacityError extends GridError {
  constructor(message: string, hint?: string) { super("capacity", message, hint); }
}
export class NonceError extends GridError {
  constructor(message: string, hint?: string) { super("bad_nonce", message, hint); }
}
export class UnavailableError extends GridError {
  constructor(message: string, hint?: string) { super("unavailable", message, hint); }
}

/** A one-line description of any thrown value, for logs and CLI output. */
export function describeError(err: unknown): string {
  if (err instanceof GridError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

// Password guessing slows down: after a failed AUTH or SELECT-with-password the error reply (and
// everything after it on that connection) waits AUTH_DELAY_MS × 2^(failures-1), at most
// AUTH_DELAY_MAX_MS. Failures are counted per client address, so new connections do not start
// again from zero; a success from that address, or 10 minutes without failure, resets the count.

export const AUTH_DELAY_MS = 100;
export const AUTH_DELAY_MAX_MS = 5000;
const FORGET_MS = 10 * 60 * 1000;
const MAX_ADDRESSES = 10_000; // the oldest address is forgotten beyond this

export class AuthThrottle {
  private readonly failures = new Map<string, { fails: number; last: number }>();

  /** Counts a failure from `addr`; returns how long its reply must wait (ms). */
  failed(addr: string, now = Date.now()): number {
    let f = this.failures.get(addr);
    if (!f || now - f.last > FORGET_MS) f = { fails: 0, last: now };
    f.fails++; f.last = now;
    this.failures.delete(addr); this.failures.set(addr, f); // most recent last
    if (this.failures.size > MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
    return Math.min(AUTH_DELAY_MAX_MS, AUTH_DELAY_MS * 2 ** Math.min(f.fails - 1, 16));
  }

  succeeded(addr: string): void { this.failures.delete(addr); }
}

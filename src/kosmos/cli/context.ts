// Global options → the kosmos home, the ledger URL and an SDK instance for the stored identity.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ValidationError } from "../../core/index.js";
import { ConfigStore, passphraseSource } from "../config/index.js";
import { Kosmos, KosmosReader } from "../sdk.js";
import { makeOut, type Out } from "./output.js";

export interface GlobalOptions { ledger?: string; home?: string; json?: boolean; hub?: string }

export class Context {
  readonly store: ConfigStore;
  readonly out: Out;
  private sdk?: Kosmos;

  constructor(readonly opts: GlobalOptions, readonly env: NodeJS.ProcessEnv = process.env) {
    const home = opts.home ?? env.KOSMOS_HOME ?? join(homedir(), ".kosmos");
    this.store = new ConfigStore(resolve(home), passphraseSource(env));
    this.out = makeOut(!!opts.json);
  }

  ledgerUrl(): string {
    const url = this.opts.ledger || this.env.KOSMOS_LEDGER || this.store.settings().ledgerUrl;
    if (!url) throw new ValidationError("no ledger to talk to", "pass --ledger URL or set KOSMOS_LEDGER (the local grid prints it)");
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ValidationError(`"${url}" is not an http(s) URL`);
    return url.replace(/\/+$/, "");
  }

  /** The flist hub: --hub, env KOSMOS_HUB, or the one saved in the home (the local grid saves its own). */
  hubUrl(): string {
    const url = this.opts.hub || this.env.KOSMOS_HUB || this.store.settings().hubUrl;
    if (!url) throw new ValidationError("no flist hub to publish to", "pass --hub URL or set KOSMOS_HUB (the local grid prints it)");
    if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ValidationError(`"${url}" is not an http(s) URL`);
    return url.replace(/\/+$/, "");
  }

  async kosmos(): Promise<Kosmos> {
    if (this.sdk) return this.sdk;
    const { keys } = await this.store.identity();
    this.sdk = new Kosmos({ ledgerUrl: this.ledgerUrl(), keys });
    return this.sdk;
  }

  /** For commands that only read: the public key in the plain settings is enough, so no
   *  passphrase is asked (a home without it falls back to opening the identity). */
  async reader(): Promise<KosmosReader> {
    if (this.sdk) return this.sdk;
    const publicKey = this.store.settings().publicKey;
    if (publicKey) return new KosmosReader({ ledgerUrl: this.ledgerUrl(), publicKey });
    return this.kosmos();
  }

  /** After a twin is known, remember it (and the ledger it lives on) in the plain settings. */
  remember(twinId: number | null): void {
    const s = this.store.settings();
    const url = this.ledgerUrl();
    if (s.twinId !== (twinId ?? undefined) || s.ledgerUrl !== url) this.store.updateSettings({ twinId: twinId ?? undefined, ledgerUrl: url });
  }
}

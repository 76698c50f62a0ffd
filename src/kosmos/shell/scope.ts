// What `kosmos shell` and `kosmos run` put in scope: the SDK connected to the ledger (`grid`), the
// config manager (`config`), clients by config name (`ssh`, `zdb`, `ledger`, `hub`), this machine (`local`).
// Clients opened through the scope are closed with it, so a script's process ends by itself.
import type { Redis } from "ioredis";
import { ValidationError, type KeyPair } from "../../core/index.js";
import type { LedgerClient } from "../../ledger/client/index.js";
import type { HubClient } from "../../flist/index.js";
import { Kosmos } from "../sdk.js";
import { ConfigManager, type ConfigInput } from "../configs/index.js";
import { Clients } from "../clients/index.js";
import { LocalExecutor, type SshExecutor } from "../executors/index.js";

export interface ScopeSources {
  home: string;
  /** The identity's keys (the passphrase is asked once, when first needed). */
  keys: () => Promise<KeyPair>;
  /** The ledger URL, or a ValidationError saying how to give one. */
  ledgerUrl: () => string;
}

/** One line per name, for `.help` and the docs. */
export const SCOPE_HELP: ReadonlyArray<readonly [string, string]> = [
  ["grid", "the Kosmos SDK on your identity: await grid.nodes(), grid.deploy(spec), grid.list(), grid.get(name), grid.cancel(name), grid.balance()"],
  ["config", "the config manager: await config.set('zdb', 'logs', {port: 9900}), config.get(type, name), config.list(), config.remove(type, name)"],
  ["ssh(name | {host, …})", "an SSH executor: const box = await ssh('box'); await box.run('uname -a')"],
  ["zdb(name | {host, port, namespace, password})", "ioredis on a 0-db namespace: const z = await zdb('logs'); await z.call('SET', 'k', 'v')"],
  ["ledger(name | {url})", "a ledger client: await (await ledger('main')).nodes()"],
  ["hub(name | {url})", "an flist hub client: await (await hub('local')).list()"],
  ["local", "this machine as an executor: await local.run(['ls', '/'])"],
];

export interface Scope {
  grid: Kosmos;
  config: ConfigManager;
  ssh(nameOrConfig: string | ConfigInput<"ssh">): Promise<SshExecutor>;
  zdb(nameOrConfig: string | ConfigInput<"zdb">): Promise<Redis>;
  ledger(nameOrConfig: string | ConfigInput<"ledger">): Promise<LedgerClient>;
  hub(nameOrConfig: string | ConfigInput<"hub">): Promise<HubClient>;
  local: LocalExecutor;
}

/** The scope, with `grid` ready when the identity and the ledger are (it is asked for first: a
 *  shell with no identity still has `config`… which then says what is missing when used). */
export async function buildScope(src: ScopeSources): Promise<{ scope: Scope; close: () => Promise<void>; gridError?: Error }> {
  const open: Array<() => Promise<void> | void> = [];
  const config = new ConfigManager(src.home, src.keys);
  const clients = new Clients(config);
  let grid: Kosmos | undefined;
  let gridError: Error | undefined;
  try { grid = new Kosmos({ ledgerUrl: src.ledgerUrl(), keys: await src.keys() }); } catch (e) { gridError = e as Error; }
  const scope = {
    get grid(): Kosmos {
      if (!grid) throw gridError ?? new ValidationError("the SDK is not connected");
      return grid;
    },
    config,
    ssh: async (n: string | ConfigInput<"ssh">) => { const x = await clients.ssh(n); open.push(() => x.close()); return x; },
    zdb: async (n: string | ConfigInput<"zdb">) => { const r = await clients.zdb(n); open.push(() => r.disconnect()); return r; },
    ledger: (n: string | ConfigInput<"ledger">) => clients.ledger(n),
    hub: (n: string | ConfigInput<"hub">) => clients.hub(n),
    local: new LocalExecutor(),
  };
  const close = async () => { for (const c of open.splice(0)) await c(); };
  return { scope, close, gridError };
}

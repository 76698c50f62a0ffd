// The SDK's typed clients for what a deployer drives, made from a config manager instance by name
// (or from a config given inline): `ssh` (an executor), `zdb` (ioredis on a namespace), `ledger`, `hub`.
import type { Redis } from "ioredis";
import { LedgerClient } from "../../ledger/client/index.js";
import { HubClient } from "../../flist/index.js";
import { parseConfig, type ConfigInput, type ConfigManager } from "../configs/index.js";
import { SshExecutor } from "../executors/index.js";
import { connectZdb } from "./zdb.js";

export { connectZdb, type ZdbTarget } from "./zdb.js";

export class Clients {
  constructor(readonly configs: ConfigManager) {}

  /** An SSH executor for the `ssh` instance `name` (or the config given). */
  async ssh(nameOrConfig: string | ConfigInput<"ssh">): Promise<SshExecutor> {
    const c = typeof nameOrConfig === "string" ? await this.configs.get("ssh", nameOrConfig) : parseConfig("ssh", nameOrConfig);
    return SshExecutor.connect({ host: c.host, port: c.port, user: c.user, privateKey: c.privateKey, passphrase: c.passphrase, password: c.password, hostKey: c.hostKey });
  }

  /** ioredis connected to the `zdb` instance's namespace, authenticated with its stored password. */
  async zdb(nameOrConfig: string | ConfigInput<"zdb">): Promise<Redis> {
    const c = typeof nameOrConfig === "string" ? await this.configs.get("zdb", nameOrConfig) : parseConfig("zdb", nameOrConfig);
    return connectZdb(c);
  }

  /** A ledger client for the `ledger` instance's URL. */
  async ledger(nameOrConfig: string | ConfigInput<"ledger">): Promise<LedgerClient> {
    const c = typeof nameOrConfig === "string" ? await this.configs.get("ledger", nameOrConfig) : parseConfig("ledger", nameOrConfig);
    return new LedgerClient(c.url);
  }

  /** An flist hub client for the `hub` instance's URL. */
  async hub(nameOrConfig: string | ConfigInput<"hub">): Promise<HubClient> {
    const c = typeof nameOrConfig === "string" ? await this.configs.get("hub", nameOrConfig) : parseConfig("hub", nameOrConfig);
    return new HubClient(c.url);
  }
}

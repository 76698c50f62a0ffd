// Launch step 4: the demo user (a kosmos home in DIR/user, its passphrase 0600 beside it), with a
// twin and money from the faucet.
import { newMnemonic } from "../../core/index.js";
import type { LedgerClient } from "../../ledger/client/index.js";
import { ConfigStore, Kosmos } from "../../kosmos/index.js";
import type { Step } from "./common.js";

export interface DemoUser { store: ConfigStore; user: Kosmos; twinId: number; keys: Awaited<ReturnType<ConfigStore["identity"]>>["keys"] }

export async function upUser({ L, state, note }: Step, ledger: LedgerClient): Promise<DemoUser> {
  const passphrase = L.secretFile(L.passphraseFile);
  const store = new ConfigStore(L.userHome, async () => passphrase);
  if (!store.hasSecrets()) await store.setIdentity(newMnemonic());
  const { keys } = await store.identity();
  const user = new Kosmos({ ledgerUrl: state.ledger.url, keys, client: ledger });
  const twinId = await user.twinId();
  store.updateSettings({ ledgerUrl: state.ledger.url, twinId });
  if ((await user.balance()).balance < 10_000_000) {
    await user.faucet(100_000_000);
    note(`funded the demo user (twin ${twinId}) from the faucet`);
  }
  state.user = { twinId };
  L.save(state);
  return { store, user, twinId, keys };
}

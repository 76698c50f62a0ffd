// Launch step 2: the ledger (bcdb, with a faucet), then the farmer's twin and farm on it.
import { UnavailableError } from "../../core/index.js";
import { LedgerClient } from "../../ledger/client/index.js";
import { runningPid, startDaemon } from "../procs.js";
import { BIN, loadOrMakeKey, waitFor, type Step } from "./common.js";

/** Periods are fixed at the ledger's genesis: they take effect for a new grid only. */
export interface LedgerPeriods { billingPeriod?: number; gracePeriod?: number }

export async function upLedger({ L, state, note, env }: Step, periods: LedgerPeriods = {}): Promise<LedgerClient> {
  if (runningPid(L.run, "bcdb") === null) {
    note(`starting the ledger on ${state.ledger.url}`);
    await startDaemon({
      name: "bcdb", command: process.execPath, env, logDir: L.logs, runDir: L.run,
      args: [BIN("bcdb"), "--data", L.ledgerData, "--host", state.ledger.host, "--port", String(state.ledger.port), "--faucet",
        ...(periods.billingPeriod ? ["--billing-period", String(periods.billingPeriod)] : []),
        ...(periods.gracePeriod ? ["--grace-period", String(periods.gracePeriod)] : [])],
    });
  } else note(`ledger already running on ${state.ledger.url}`);
  const ledger = new LedgerClient(state.ledger.url);
  await waitFor("the ledger", 15_000, () => ledger.status());
  return ledger;
}

/** The farmer (a key kept in DIR/farmer) and its farm, made once. */
export async function upFarm({ L, state }: Step, ledger: LedgerClient): Promise<{ twinId: number; farmId: number }> {
  const farmer = ledger.signer(loadOrMakeKey(L.farmerKey));
  const farmerTwin = await farmer.ensureTwin();
  let farm = (await ledger.farms()).find((f) => f.twinId === farmerTwin);
  if (!farm) {
    await farmer.send("farm.create", { name: `local-${state.net?.tag ?? "grid"}` });
    farm = (await ledger.farms()).find((f) => f.twinId === farmerTwin);
    if (!farm) throw new UnavailableError("farm.create was included but the farm is not listed");
  }
  state.farmer = { twinId: farmerTwin, farmId: farm.id };
  L.save(state);
  return state.farmer;
}

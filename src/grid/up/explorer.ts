// Launch step: the explorer (bin/explorer), a read-only web view of the grid, beside the ledger on
// the same address (reachable from this host in both modes). A restart keeps its port, so a link
// that was shared keeps working.
import { freePort } from "../ports.js";
import { runningPid, startDaemon } from "../procs.js";
import { BIN, type Step } from "./common.js";

export async function upExplorer({ L, state, note, env }: Step): Promise<string> {
  const host = state.ledger.host;
  state.explorer ??= { host, port: await freePort(host), url: "" };
  state.explorer.url = `http://${host}:${state.explorer.port}/`;
  if (runningPid(L.run, "explorer") === null) {
    note(`starting the explorer on ${state.explorer.url}`);
    await startDaemon({
      name: "explorer", command: process.execPath, env, logDir: L.logs, runDir: L.run,
      args: [BIN("explorer"), "--ledger", state.ledger.url, "--host", host, "--port", String(state.explorer.port)],
    });
  } else note(`explorer already running on ${state.explorer.url}`);
  L.save(state);
  return state.explorer.url;
}

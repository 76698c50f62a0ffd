// `grid up`: a whole grid on this machine — the ledger, a farm, N nodes (each in its own network
// namespace as root), a funded demo user, the flist hub — then the example deployed and working.
// Each step (up/*.ts) first looks at what already runs, so `up` repairs, resumes after `down`, or
// just reports. This file only orders the steps and assembles the report.
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { UnavailableError } from "../core/index.js";
import type { DeploymentView } from "../kosmos/index.js";
import { GridLayout, type GridState } from "./state.js";
import { freePort } from "./ports.js";
import { EXAMPLE_FLIST_ENV, isRoot, type Step } from "./up/common.js";
import { upNetwork } from "./up/network.js";
import { upFarm, upLedger } from "./up/ledger.js";
import { upNodes } from "./up/nodes.js";
import { upUser } from "./up/user.js";
import { upExampleFlist, upHub } from "./up/hub.js";
import { upExample, type ContainerList, type OverlayProbe } from "./up/example.js";
import { upRoutes } from "./up/routes.js";
import { upExplorer } from "./up/explorer.js";

export { overlayLine, type OverlayProbe } from "./up/example.js";
export { REPO, BIN, DEFAULT_EXAMPLE, EXAMPLE_PASSWORD_ENV, EXAMPLE_FLIST_ENV, EXAMPLE_FLIST_NAME } from "./up/common.js";

export interface UpOptions {
  dir: string;
  /** How many nodes (default: as many as the grid had, or 3 for a new grid). */
  nodes?: number;
  example: string;
  /** Force plain processes on 127.0.0.1 even as root. */
  noNetns?: boolean;
  note: (line: string) => void;
  timeoutMs?: number;
  /** Ledger-time periods for a demo at human speed (bcdb's --billing-period / --grace-period, seconds). */
  billingPeriod?: number;
  gracePeriod?: number;
}

export interface UpReport {
  ledger: string;
  /** The explorer's URL: the grid in a browser. */
  explorer: string;
  nodes: Array<{ id: number; underlay: string; netns: string | null; pid: number }>;
  user: { twinId: number; home: string };
  hub: string;
  deployment: {
    name: string; contractId: number;
    workloads: Array<{ name: string; type: string; state: string; data: Record<string, unknown> }>;
    /** Its containers: node, IP (and overlay IP), and the URL their page is served at (reachable from this host). */
    containers: ContainerList;
    /** What the probe container fetched from another node over the private network (null: the file has no probe). */
    overlay: OverlayProbe | null;
  };
  mode: "netns" | "local";
  dir: string;
  env: Record<string, string>;
  /** The example's 0-db password (a local demo's secret: kept 0600 in DIR/user). */
  examplePassword: string;
  view: DeploymentView;
}

export async function gridUp(opts: UpOptions): Promise<UpReport> {
  const dir = resolve(opts.dir);
  const L = new GridLayout(dir);
  const note = opts.note;
  mkdirSync(dir, { recursive: true });
  for (const d of [L.logs, L.run]) mkdirSync(d, { recursive: true });
  const prev = L.load();
  const wantNetns = !opts.noNetns && isRoot();
  const mode: "netns" | "local" = prev?.mode ?? (wantNetns ? "netns" : "local");
  if (mode === "local") note("warning: not root (or --no-netns): nodes run as plain processes on 127.0.0.1 with distinct ports, not in their own network namespaces");
  if (mode === "netns" && !isRoot()) throw new UnavailableError(`the grid in ${dir} was made with network namespaces; bring it up as root`);

  const net = mode === "netns" ? upNetwork(dir, prev?.net ?? null, note) : null;
  const host = net ? net.bridgeIp : "127.0.0.1";
  const state: GridState = prev ?? { version: 1, mode, net, ledger: { host, port: await freePort(host), url: "" }, nodes: [] };
  state.net = net;
  state.ledger.url = `http://${state.ledger.host}:${state.ledger.port}`;
  L.save(state);
  const step: Step = { L, state, note, env: { ...process.env, NODE_NO_WARNINGS: "1" } };

  const ledger = await upLedger(step, { billingPeriod: opts.billingPeriod, gracePeriod: opts.gracePeriod });
  await upFarm(step, ledger);
  const explorer = await upExplorer(step);
  const pids = await upNodes(step, ledger, opts.nodes);
  const demo = await upUser(step, ledger);
  const hub = await upHub(step, host);
  demo.store.updateSettings({ hubUrl: hub.url });
  const flist = await upExampleFlist(step, demo.keys);
  L.save(state);
  const example = await upExample(step, { file: opts.example, user: demo.user, store: demo.store, flist: flist.address, timeoutMs: opts.timeoutMs });
  await upRoutes(ledger, state, note);
  L.save(state);

  const view = example.view;
  return {
    ledger: state.ledger.url,
    explorer,
    nodes: state.nodes.map((n, i) => ({ id: n.nodeId!, underlay: n.underlay, netns: n.netns, pid: pids[i] })),
    user: { twinId: demo.twinId, home: L.userHome },
    hub: hub.url,
    deployment: { name: view.name, contractId: view.contractId, workloads: view.workloads.map((w) => ({ name: w.name, type: w.type, state: w.state, data: w.data })), containers: example.containers, overlay: example.overlay },
    mode, dir,
    env: { KOSMOS_HOME: L.userHome, KOSMOS_PASSPHRASE: `$(cat ${L.passphraseFile})`, KOSMOS_LEDGER: state.ledger.url, KOSMOS_HUB: hub.url, [EXAMPLE_FLIST_ENV]: example.flist },
    examplePassword: example.password,
    view,
  };
}

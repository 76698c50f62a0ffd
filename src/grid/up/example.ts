// Launch step 6: the example deployment (examples/hello.yaml by default) deployed as the demo user,
// then waited for until its 0-dbs answer and its containers serve from this host — and, when the
// file has a `probe` container, until the probe has fetched another container's page over the
// file's private network (it serves what it got: /fetched.html, and the answer's headers at /status).
import { resolve } from "node:path";
import { type Kosmos, parseDeploymentFile, logPasswordsOf, type ConfigStore, type DeploymentView } from "../../kosmos/index.js";
import type { GridState } from "../state.js";
import { routeToContainer } from "../netns.js";
import { EXAMPLE_FLIST_ENV, EXAMPLE_PASSWORD_ENV, httpGet, isRoot, tcpOpen, waitFor, type Note, type Step } from "./common.js";

/** The example's containers as this host reaches them; `logs`: its output streams into a 0-db (`kosmos logs` reads it). */
export type ContainerList = Array<{ name: string; node: number; ip: string; overlayIp: string | null; url: string | null; logs: boolean }>;

/** What the probe container fetched over the network: from which container and node, the HTTP status, and whether it is that container's page. */
export interface OverlayProbe { probe: string; probeNode: number; target: string; targetNode: number; url: string; status: number; samePage: boolean }

export interface ExampleResult { view: DeploymentView; containers: ContainerList; overlay: OverlayProbe | null; password: string; flist: string }

/** The container named so fetches a page over the network (see examples/hello.yaml). */
export const PROBE = "probe";

export async function upExample({ L, state, note }: Step, o: { file: string; user: Kosmos; store: ConfigStore; flist: string; timeoutMs?: number }): Promise<ExampleResult> {
  const password = process.env[EXAMPLE_PASSWORD_ENV] || L.secretFile(L.examplePasswordFile, 12);
  const flist = process.env[EXAMPLE_FLIST_ENV] || o.flist;
  const exampleEnv = { ...process.env, [EXAMPLE_PASSWORD_ENV]: password, [EXAMPLE_FLIST_ENV]: flist };
  const spec = parseDeploymentFile(resolve(o.file), exampleEnv);
  if (!isRoot() && spec.containers.length) {
    // runc needs root; a node not run as root would refuse the container and fail the example.
    note(`warning: not root: the example's container(s) ${spec.containers.map((c) => c.name).join(", ")} are left out (containers need root)`);
    spec.containers = [];
  }
  // The example places its probe on node 2: a grid of one node leaves it out rather than fail.
  const nodeIds = new Set(state.nodes.map((n) => n.nodeId));
  const away = spec.containers.filter((c) => c.node !== undefined && !nodeIds.has(c.node));
  if (away.length) {
    note(`warning: this grid has no node ${away.map((c) => c.node).join(", ")}: container(s) ${away.map((c) => c.name).join(", ")} left out (bring it up with --nodes 2 or more)`);
    spec.containers = spec.containers.filter((c) => !away.includes(c));
  }
  const logPasswords = logPasswordsOf(spec);
  if (Object.keys(logPasswords).length) await o.store.rememberLogPasswords(spec.name, logPasswords);
  note(`deploying ${o.file} ("${spec.name}")`);
  const result = await o.user.deploy(spec, {
    timeoutMs: o.timeoutMs ?? 90_000,
    onProgress: (p) => {
      if (p.stage === "planned") note(`  planned on node ${p.plan.node.id}: about ${p.plan.cost.perHour} per hour`);
      else if (p.stage === "unchanged") note(`  already deployed (contract ${p.contractId})`);
      else if (p.stage === "submitted") note(`  submitted: contract ${p.contractId}`);
      else if (p.stage === "approved") note(`  approved`);
      else if (p.stage === "held") note(`  ${p.containers.join(", ")}: added once 0-db(s) ${p.zdbs.join(", ")} on another node are up (they hold their logs)`);
      else if (p.stage === "workload") note(`  ${p.name}: ${p.state === "pending" ? "waiting for the node" : p.state}${p.message ? ` (${p.message})` : ""}`);
    },
  });
  // An `ok` from before a restart says nothing about now: wait until each 0-db answers again.
  for (const w of result.workloads) {
    const d = w.data as { ips?: string[]; port?: number };
    if (w.type === "zdb" && d.ips?.[0] && d.port) await waitFor(`0-db ${w.name} at ${d.ips[0]}:${d.port}`, 30_000, () => tcpOpen(d.ips![0], d.port!));
  }
  const logging = new Set(spec.containers.filter((x) => x.logs).map((x) => x.name));
  const c = await waitForContainers(o.user, state, spec.name, result, Math.max(30_000, o.timeoutMs ?? 90_000), note, logging);
  const overlay = await waitForProbe(c.list, spec.containers.find((x) => x.name === PROBE)?.entrypoint ?? "", 45_000, note);
  state.example = { name: spec.name, file: resolve(o.file) };
  L.save(state);
  return { view: c.view, containers: c.list, overlay, password, flist };
}

/** Each container workload's node: the part (one contract per node) it is in. */
function nodesOf(view: DeploymentView & { parts?: DeploymentView[] }): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of view.parts ?? [view]) for (const w of p.workloads) if (w.type === "container") out.set(w.name, p.nodeId);
  return out;
}

/**
 * The probe's word, read from this host (its node-local address is routed): the page it last
 * fetched over the network and that answer's status line. The target is the container whose
 * overlay address the probe's command names; the page must be the one that container serves.
 */
async function waitForProbe(list: ContainerList, entrypoint: string, ms: number, note: Note): Promise<OverlayProbe | null> {
  const probe = list.find((c) => c.name === PROBE);
  const target = list.find((c) => c !== probe && c.overlayIp && entrypoint.includes(`//${c.overlayIp}/`));
  if (!probe || !target?.overlayIp) return null;
  const url = `http://${target.overlayIp}/`;
  note(`  waiting for ${probe.name} (node ${probe.node}) to fetch ${url} from ${target.name} (node ${target.node}) over the network`);
  const got = await waitFor(`${probe.name} to fetch ${url} over the network`, ms, async () => {
    const page = await httpGet(`http://${probe.ip}/fetched.html`);
    const headers = await httpGet(`http://${probe.ip}/status`);
    const status = Number(/HTTP\/1\.\d (\d{3})/.exec(headers?.body ?? "")?.[1]);
    if (page?.status !== 200 || !status) return undefined;
    // The page the target serves now, as this host gets it: the probe's copy must be the same.
    const expected = target.url ? (await httpGet(target.url))?.body : page.body;
    return expected === undefined ? undefined : { status, samePage: page.body === expected };
  });
  const r: OverlayProbe = { probe: probe.name, probeNode: probe.node, target: target.name, targetNode: target.node, url, status: got.status, samePage: got.samePage };
  note(`  ${overlayLine(r)}`);
  return r;
}

export function overlayLine(r: OverlayProbe): string {
  return `${r.probe} (node ${r.probeNode}) fetched ${r.url} from ${r.target} (node ${r.targetNode}) over the network: ${r.status}${r.samePage ? `, the page ${r.target} serves` : ""}`;
}

/**
 * Every container of the example, reachable from this host: a route to its IP via its node, and,
 * for one that serves HTTP, its page answering. The node's word is re-read while waiting: after a
 * restart it recreates a container (perhaps with another IP) and says so in a new result.
 */
async function waitForContainers(user: Kosmos, state: GridState, name: string, first: DeploymentView, ms: number, note: Note, logging: Set<string>): Promise<{ view: DeploymentView; list: ContainerList }> {
  if (!first.workloads.some((w) => w.type === "container")) return { view: first, list: [] };
  let view = first;
  let said = "";
  const list = await waitFor(`the containers of "${name}" to answer`, ms, async () => {
    view = await user.get(name);
    const nodes = nodesOf(view);
    const out: ContainerList = [];
    for (const w of view.workloads.filter((x) => x.type === "container")) {
      const { ip, overlayIp } = w.data as { ip?: string; overlayIp?: string };
      if (w.state !== "ok" || !ip) return undefined;
      const nodeId = nodes.get(w.name) ?? view.nodeId;
      const node = state.nodes.find((n) => n.nodeId === nodeId);
      if (state.net && node) routeToContainer(state.net, ip, node.underlay);
      if (w.url) {
        const r = await httpGet(w.url);
        if (r?.status !== 200) {
          if (said !== w.url) { said = w.url; note(`  waiting for ${w.url} to answer`); }
          return undefined;
        }
      }
      out.push({ name: w.name, node: nodeId, ip, overlayIp: overlayIp ?? null, url: w.url ?? null, logs: logging.has(w.name) });
    }
    return out;
  });
  for (const c of list) note(`  ${c.name} (node ${c.node}): ${c.url ? `serves ${c.url}` : `runs at ${c.ip}`}${c.overlayIp ? `, ${c.overlayIp} on the network` : ""}`);
  return { view, list };
}

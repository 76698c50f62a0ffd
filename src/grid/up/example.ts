// Launch step 6: the example deployment (examples/hello.yaml by default) deployed as the demo user,
// then waited for until its 0-dbs answer and its containers serve from this host.
import { resolve } from "node:path";
import { Kosmos, parseDeploymentFile, logPasswordsOf, type ConfigStore, type DeploymentView } from "../../kosmos/index.js";
import type { GridState } from "../state.js";
import { routeToContainer } from "../netns.js";
import { EXAMPLE_FLIST_ENV, EXAMPLE_PASSWORD_ENV, httpGet, isRoot, tcpOpen, waitFor, type Note, type Step } from "./common.js";

export type ContainerList = Array<{ name: string; ip: string; url: string | null }>;

export interface ExampleResult { view: DeploymentView; containers: ContainerList; password: string; flist: string }

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
      else if (p.stage === "workload") note(`  ${p.name}: ${p.state === "pending" ? "waiting for the node" : p.state}${p.message ? ` (${p.message})` : ""}`);
    },
  });
  // An `ok` from before a restart says nothing about now: wait until each 0-db answers again.
  for (const w of result.workloads) {
    const d = w.data as { ips?: string[]; port?: number };
    if (w.type === "zdb" && d.ips?.[0] && d.port) await waitFor(`0-db ${w.name} at ${d.ips[0]}:${d.port}`, 30_000, () => tcpOpen(d.ips![0], d.port!));
  }
  const c = await waitForContainers(o.user, state, spec.name, result, Math.max(30_000, o.timeoutMs ?? 90_000), note);
  state.example = { name: spec.name, file: resolve(o.file) };
  L.save(state);
  return { view: c.view, containers: c.list, password, flist };
}

/**
 * Every container of the example, reachable from this host: a route to its IP via its node, and,
 * for one that serves HTTP, its page answering. The node's word is re-read while waiting: after a
 * restart it recreates a container (perhaps with another IP) and says so in a new result.
 */
async function waitForContainers(user: Kosmos, state: GridState, name: string, first: DeploymentView, ms: number, note: Note): Promise<{ view: DeploymentView; list: ContainerList }> {
  if (!first.workloads.some((w) => w.type === "container")) return { view: first, list: [] };
  const node = state.nodes.find((n) => n.nodeId === first.nodeId);
  let view = first;
  let said = "";
  const list = await waitFor(`the containers of "${name}" to answer`, ms, async () => {
    view = await user.get(name);
    const out: ContainerList = [];
    for (const w of view.workloads.filter((x) => x.type === "container")) {
      const ip = (w.data as { ip?: string }).ip;
      if (w.state !== "ok" || !ip) return undefined;
      if (state.net && node) routeToContainer(state.net, ip, node.underlay);
      if (w.url) {
        const r = await httpGet(w.url);
        if (r?.status !== 200) {
          if (said !== w.url) { said = w.url; note(`  waiting for ${w.url} to answer`); }
          return undefined;
        }
      }
      out.push({ name: w.name, ip, url: w.url ?? null });
    }
    return out;
  });
  for (const c of list) note(`  ${c.name}: ${c.url ? `serves ${c.url}` : `runs at ${c.ip}`}`);
  return { view, list };
}

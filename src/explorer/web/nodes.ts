// The nodes table (filtered, sorted and paged by the server, the query kept in the URL so a view
// can be shared) and a node's own page.
import type { LiveUpdate, NodeDetail, NodeRow, Page as ApiPage } from "../api.js";
import { timeline } from "./chart.js";
import { bytes, dl, h, json, link, replace, status, table, time } from "./dom.js";
import { api } from "./fetch.js";
import type { Page } from "./page.js";
import { contractTable } from "./contracts.js";

const GiB = 1024 ** 3;
const SORTS: [string, string][] = [["id", "id"], ["farmId", "farm"], ["status", "status"], ["freeCru", "free CPU"], ["freeMru", "free memory"], ["freeSru", "free SSD"], ["freeHru", "free HDD"], ["lastReportAt", "last report"], ["contracts", "contracts"]];

export function nodeRows(items: NodeRow[]): (Node | string | number)[][] {
  return items.map((n) => [
    link(`#/nodes/${n.id}`, `node ${n.id}`), link(`#/farms/${n.farmId}`, `farm ${n.farmId}`), status(n.status), n.gateway ? "yes" : "no",
    `${n.free.cru} / ${n.capacity.cru}`, `${bytes(n.free.mru)} / ${bytes(n.capacity.mru)}`, `${bytes(n.free.sru)} / ${bytes(n.capacity.sru)}`,
    `${bytes(n.free.hru)} / ${bytes(n.capacity.hru)}`, n.contracts, time(n.lastReportAt)]);
}
export const NODE_HEADERS = ["Node", "Farm", "Status", "Gateway", "Free CPU", "Free memory", "Free SSD", "Free HDD", "Contracts", "Last report"];

export function nodesPage(q: URLSearchParams): Page {
  let data: HTMLElement;
  const load = async () => {
    const p = await api<ApiPage<NodeRow>>(`nodes?${q}`);
    const offset = p.offset, limit = p.limit;
    const go = (o: number) => { const n = new URLSearchParams(q); n.set("offset", String(Math.max(0, o))); return `#/nodes?${n}`; };
    replace(data,
      h("p", { id: "nodes-total" }, `${p.total} node${p.total === 1 ? "" : "s"} match`),
      table(NODE_HEADERS, nodeRows(p.items)),
      h("nav", { class: "pager", "aria-label": "Pages" },
        offset > 0 ? link(go(offset - limit), "Previous") : null,
        h("span", {}, p.total ? `${offset + 1}–${Math.min(p.total, offset + limit)} of ${p.total}` : ""),
        offset + limit < p.total ? link(go(offset + limit), "Next") : null));
  };
  const field = (label: string, el: HTMLElement) => h("label", {}, label, el);
  const num = (name: string, scale = 1) => {
    const v = q.get(name);
    return h("input", { name, type: "number", min: 0, step: "any", value: v ? String(Number(v) / scale) : "", "data-scale": scale, size: 6 });
  };
  const select = (name: string, opts: [string, string][]) =>
    h("select", { name }, opts.map(([v, t]) => h("option", { value: v, selected: (q.get(name) ?? "") === v }, t)));
  return {
    title: "Nodes",
    async render(main) {
      data = h("div", { id: "nodes-data" }, "Loading…");
      const form = h("form", { class: "filters", "aria-label": "Filter nodes" },
        field("Farm id", num("farmId")),
        field("Status", select("status", [["", "any"], ["up", "up"], ["down", "down"]])),
        field("Gateway", select("gateway", [["", "any"], ["yes", "yes"], ["no", "no"]])),
        field("Min free CPU", num("minCru")), field("Min free memory (GiB)", num("minMru", GiB)),
        field("Min free SSD (GiB)", num("minSru", GiB)), field("Min free HDD (GiB)", num("minHru", GiB)),
        field("Sort by", select("sort", SORTS)),
        field("Order", select("desc", [["", "ascending"], ["1", "descending"]])),
        h("button", { type: "submit" }, "Apply"));
      form.addEventListener("submit", (e) => {
        e.preventDefault();
        const n = new URLSearchParams();
        for (const el of Array.from(form.elements) as HTMLInputElement[]) {
          if (!el.name || el.value === "") continue;
          const scale = Number(el.dataset.scale ?? 1);
          n.set(el.name, scale === 1 || el.tagName === "SELECT" ? el.value : String(Math.round(Number(el.value) * scale)));
        }
        location.hash = `#/nodes?${n}`;
      });
      replace(main, h("h1", {}, "Nodes"), form, data);
      await load();
    },
    async onUpdate(u: LiveUpdate) { if (u.changed.all || u.changed.nodes.length || u.changed.contracts.length) await load(); },
  };
}

export function nodePage(id: number): Page {
  const draw = async (main: HTMLElement) => {
    const d = await api<NodeDetail>(`nodes/${id}`);
    const n = d.node;
    const now = Math.max(n.lastReportAt ?? 0, ...d.reports.map((r) => r.time));
    const from = d.reports.length ? d.reports[0].time : now - 60;
    replace(main,
      h("h1", {}, `Node ${n.id} `, h("span", { id: "node-status" }, status(n.status))),
      dl([
        ["Farm", link(`#/farms/${n.farmId}`, `farm ${n.farmId}`)], ["Owner", link(`#/twins/${n.twinId}`, `twin ${n.twinId}`)],
        ["Status", status(n.status)], ["Last report", time(n.lastReportAt)], ["Uptime (reported)", `${n.uptime} s`],
        ["Registered", time(n.registeredAt)], ["Underlay", n.underlay],
        ["Public config", n.publicConfig ? json(n.publicConfig) : "none"], ["Seal key", h("span", { class: "mono" }, n.sealKey)],
        ["Workloads", String(n.workloads)], ["Contracts (active or grace)", String(n.contracts)],
      ]),
      h("h2", {}, "Capacity"),
      table(["Resource", "Total", "Reserved", "Free", "Used (reported)"], [
        ["CPU", n.capacity.cru, n.reserved.cru, n.free.cru, n.used.cru],
        ...(["mru", "sru", "hru"] as const).map((k) => [{ mru: "Memory", sru: "SSD", hru: "HDD" }[k], bytes(n.capacity[k]), bytes(n.reserved[k]), bytes(n.free[k]), bytes(n.used[k])]),
      ]),
      h("h2", {}, "Reports seen"),
      d.reports.length ? timeline(d.reports.map((r) => r.time), from, now, d.reportInterval, `${d.reports.length} reports from ${time(from)} to ${time(now)}`) : h("p", {}, "No report seen since the explorer started."),
      h("h2", {}, "Contracts"),
      contractTable(d.contracts));
  };
  return {
    title: `Node ${id}`,
    render: draw,
    async onUpdate(u, main) { if (u.changed.all || u.changed.nodes.includes(id)) await draw(main); },
  };
}

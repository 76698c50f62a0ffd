// The overview: the grid at a glance, redrawn from each live update without asking the server.
import type { Cap, LiveUpdate, Overview } from "../api.js";
import { bar } from "./chart.js";
import { bytes, card, h, link, replace, table, tokens, status, time } from "./dom.js";
import { api } from "./fetch.js";
import type { Page } from "./page.js";

const UNIT: { k: keyof Cap; name: string; fmt: (n: number) => string }[] = [
  { k: "cru", name: "CPU", fmt: (n) => `${n} cores` }, { k: "mru", name: "Memory", fmt: bytes },
  { k: "sru", name: "SSD", fmt: bytes }, { k: "hru", name: "HDD", fmt: bytes },
];

function draw(main: HTMLElement, o: Overview): void {
  replace(main,
    h("h1", {}, "Overview"),
    h("div", { class: "cards" },
      card("Nodes up", h("span", { id: "nodes-up" }, `${o.nodes.up} / ${o.nodes.total}`)),
      card("Farms", o.farms),
      card("Twins", o.twins),
      card("Active contracts", h("span", { id: "contracts-active" }, o.contracts.active)),
      card("Tokens billed / hour", tokens(o.tokensPerHour)),
      card("Block height", link(`#/blocks/${o.height}`, h("span", { id: "height" }, o.height))),
      card("Transactions / s", o.txPerSecond.toFixed(2))),
    h("h2", {}, "Capacity (reserved of total)"),
    h("div", { class: "bars" }, UNIT.map((u) => {
      const used = o.capacity.reserved[u.k], total = o.capacity.total[u.k];
      return [h("span", {}, u.name), bar(used, total, `${u.name}: ${u.fmt(used)} reserved of ${u.fmt(total)}`), h("span", {}, `${u.fmt(used)} of ${u.fmt(total)}`)];
    })),
    h("h2", {}, "Latest contracts"),
    h("div", { id: "latest-contracts" }, table(["Contract", "Owner", "Node", "State", "Version", "Created"], o.latestContracts.map((c) => [
      link(`#/contracts/${c.id}`, `#${c.id}`), link(`#/twins/${c.twinId}`, `twin ${c.twinId}`), link(`#/nodes/${c.nodeId}`, `node ${c.nodeId}`),
      status(c.state), c.version, time(c.createdAt)]))),
    h("p", { class: "k" }, `Last block ${time(o.time)}`));
}

export function overviewPage(): Page {
  return {
    title: "Overview",
    async render(main) { draw(main, await api<Overview>("overview")); },
    onUpdate(u: LiveUpdate, main) { draw(main, u.overview); },
  };
}

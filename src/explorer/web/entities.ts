// Twins and farms: a twin's balance, contracts and the billing seen; a farm's nodes and earnings.
import type { FarmDetail, FarmRow, Page as ApiPage, TwinDetail } from "../api.js";
import { dl, h, link, replace, table, time, tokens } from "./dom.js";
import { api } from "./fetch.js";
import type { Page } from "./page.js";
import { contractTable } from "./contracts.js";
import { NODE_HEADERS, nodeRows } from "./nodes.js";

export function twinPage(id: number, q: URLSearchParams): Page {
  const draw = async (main: HTMLElement) => {
    const t = await api<TwinDetail>(`twins/${id}?${q}`);
    replace(main, h("h1", {}, `Twin ${t.id}`),
      dl([["Public key", h("span", { class: "mono" }, t.publicKey)], ["Balance", h("span", { id: "twin-balance" }, tokens(t.balance))], ["Nonce", String(t.nonce)], ["Created", time(t.createdAt)],
        ["Farms", t.farms.length ? t.farms.map((f) => [link(`#/farms/${f.id}`, `${f.name} (#${f.id})`), " "]) : "none"]]),
      h("h2", {}, `Contracts (${t.contracts.total})`), contractTable(t.contracts.items),
      h("h2", {}, "Billing seen"),
      table(["Contract", "Amount", "Block", "Time"], t.billing.map((b) => [link(`#/contracts/${b.contractId}`, `#${b.contractId}`), tokens(b.amount), link(`#/blocks/${b.height}`, String(b.height)), time(b.time)])));
  };
  return { title: `Twin ${id}`, render: draw, async onUpdate(u, main) { if (u.changed.all || u.changed.twins.includes(id)) await draw(main); } };
}

export function farmsPage(q: URLSearchParams): Page {
  const draw = async (main: HTMLElement) => {
    const p = await api<ApiPage<FarmRow>>(`farms?${q}`);
    replace(main, h("h1", {}, "Farms"),
      table(["Farm", "Name", "Owner", "Nodes", "Up", "Earning / hour"], p.items.map((f) => [
        link(`#/farms/${f.id}`, `farm ${f.id}`), f.name, link(`#/twins/${f.twinId}`, `twin ${f.twinId}`), f.nodes, f.up, tokens(f.tokensPerHour)])));
  };
  return { title: "Farms", render: draw, async onUpdate(u, main) { if (u.changed.all || u.changed.farms || u.changed.nodes.length) await draw(main); } };
}

export function farmPage(id: number): Page {
  const draw = async (main: HTMLElement) => {
    const f = await api<FarmDetail>(`farms/${id}`);
    replace(main, h("h1", {}, `Farm ${f.id}: ${f.name}`),
      dl([["Owner", link(`#/twins/${f.twinId}`, `twin ${f.twinId}`)], ["Nodes", `${f.up} up of ${f.nodes}`], ["Earning", `${tokens(f.tokensPerHour)} tokens / hour (active contracts)`]]),
      h("h2", {}, "Nodes"), table(NODE_HEADERS, nodeRows(f.nodeList)));
  };
  return { title: `Farm ${id}`, render: draw, async onUpdate(u, main) { if (u.changed.all || u.changed.nodes.length || u.changed.farms) await draw(main); } };
}

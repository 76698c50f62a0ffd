// Contracts: the list (newest first, paged) and a contract's page — versions, owner, node, cost,
// the signatures it asks for and which are there, each workload's latest result.
import type { ContractDetail, ContractRow, Page as ApiPage } from "../api.js";
import { dl, h, json, link, replace, status, table, time, tokens } from "./dom.js";
import { api } from "./fetch.js";
import type { Page } from "./page.js";

export function contractTable(rows: ContractRow[]): HTMLTableElement {
  return table(["Contract", "Owner", "Node", "State", "Version", "Approved", "Workloads", "Cost / period", "Created"], rows.map((c) => [
    link(`#/contracts/${c.id}`, `#${c.id}`), link(`#/twins/${c.twinId}`, `twin ${c.twinId}`), link(`#/nodes/${c.nodeId}`, `node ${c.nodeId}`),
    status(c.state), c.version, c.approved ? "yes" : "no", c.workloads, tokens(c.costPerPeriod), time(c.createdAt)]));
}

export function contractsPage(q: URLSearchParams): Page {
  const draw = async (main: HTMLElement) => {
    const p = await api<ApiPage<ContractRow>>(`contracts?${q}`);
    const go = (o: number) => { const n = new URLSearchParams(q); n.set("offset", String(Math.max(0, o))); return `#/contracts?${n}`; };
    replace(main, h("h1", {}, "Contracts"), h("p", {}, `${p.total} contracts, newest first`), contractTable(p.items),
      h("nav", { class: "pager", "aria-label": "Pages" },
        p.offset > 0 ? link(go(p.offset - p.limit), "Newer") : null,
        p.offset + p.limit < p.total ? link(go(p.offset + p.limit), "Older") : null));
  };
  return { title: "Contracts", render: draw, async onUpdate(u, main) { if (!q.get("offset") && (u.changed.all || u.changed.contracts.length)) await draw(main); } };
}

export function contractPage(id: number): Page {
  const draw = async (main: HTMLElement) => {
    const c = await api<ContractDetail>(`contracts/${id}`);
    const weight = c.signatures.filter((s) => s.present).reduce((s, x) => s + x.weight, 0);
    replace(main,
      h("h1", {}, `Contract ${c.id}`),
      dl([
        ["State", h("span", { id: "contract-state" }, status(c.state), c.deletedReason ? ` (${c.deletedReason})` : "")],
        ["Owner", link(`#/twins/${c.twinId}`, `twin ${c.twinId}`)], ["Node", link(`#/nodes/${c.nodeId}`, `node ${c.nodeId}`)],
        ["Version", String(c.version)], ["Approved", c.approved ? `yes (version ${c.approvedVersion})` : c.approvedVersion === null ? "no" : `no — version ${c.approvedVersion} runs`],
        ["Cost", `${tokens(c.costPerPeriod)} per billing period (${tokens(c.tokensPerHour)} / hour)`],
        ["Created", time(c.createdAt)], ["Updated", time(c.updatedAt)], ["Paid until", time(c.billedUntil)],
        ["Description", c.description || "—"], ["Metadata", c.metadata || "—"],
      ]),
      h("h2", {}, `Signatures: weight ${weight} of ${c.weightRequired} required`),
      table(["Twin", "Weight", "Required", "Signed"], c.signatures.map((s) => [link(`#/twins/${s.twinId}`, `twin ${s.twinId}`), s.weight, s.required ? "yes" : "no", s.present ? "yes" : "no"])),
      h("h2", {}, "Workloads"),
      table(["Name", "Type", "Version", "State", "Message", "Data"], c.workloads.map((w) => [
        w.name, w.type, w.version, w.result ? status(w.result.state) : "no result yet", w.result ? `${w.result.message} (v${w.result.version})` : "", json(w.data)])),
      h("h2", {}, "Timeline"),
      c.versions.length
        ? table(["Event", "Version", "Block", "Time"], c.versions.map((v) => [v.event, v.version, link(`#/blocks/${v.height}`, String(v.height)), time(v.time)]))
        : h("p", {}, "No change seen since the explorer started."));
  };
  return { title: `Contract ${id}`, render: draw, async onUpdate(u, main) { if (u.changed.all || u.changed.contracts.includes(id)) await draw(main); } };
}

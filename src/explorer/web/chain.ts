// The chain: newest blocks first, and a block's page with its transactions (secrets only as
// sealed) and its hash link to its parent — the trail `bcdb verify` checks.
import type { BlockDetail, BlockRow, Page as ApiPage } from "../api.js";
import { dl, h, json, link, replace, short, table, time } from "./dom.js";
import { api } from "./fetch.js";
import type { Page } from "./page.js";

export function blocksPage(q: URLSearchParams): Page {
  const draw = async (main: HTMLElement) => {
    const p = await api<ApiPage<BlockRow>>(`blocks?${q}`);
    const last = p.items[p.items.length - 1];
    replace(main, h("h1", {}, "Chain"),
      table(["Height", "Hash", "Parent", "Time", "Transactions"], p.items.map((b) => [
        link(`#/blocks/${b.height}`, String(b.height)), h("span", { class: "mono" }, short(b.hash, 16)),
        b.height > 0 ? link(`#/blocks/${b.height - 1}`, h("span", { class: "mono" }, short(b.prevHash, 16))) : "genesis", time(b.time), b.txs])),
      h("nav", { class: "pager", "aria-label": "Pages" }, last && last.height > 0 ? link(`#/blocks?before=${last.height}`, "Older blocks") : null));
  };
  return { title: "Chain", render: draw, async onUpdate(_u, main) { if (!q.get("before")) await draw(main); } };
}

export function blockPage(key: string): Page {
  return {
    title: `Block ${key}`,
    async render(main) {
      const b = await api<BlockDetail>(`blocks/${encodeURIComponent(key)}`);
      replace(main, h("h1", {}, `Block ${b.height}`),
        dl([
          ["Hash", h("span", { class: "mono" }, b.hash)],
          ["Parent", b.height > 0 ? link(`#/blocks/${b.height - 1}`, h("span", { class: "mono" }, b.prevHash)) : h("span", { class: "mono" }, `${b.prevHash} (genesis)`)],
          ["Time", time(b.time)], ["Transactions", String(b.txs)],
        ]),
        h("nav", { class: "pager", "aria-label": "Neighbour blocks" }, b.height > 0 ? link(`#/blocks/${b.height - 1}`, "Previous block") : null, link(`#/blocks/${b.height + 1}`, "Next block")),
        b.genesis ? [h("h2", {}, "Genesis"), json(b.genesis)] : null,
        h("h2", {}, "Transactions"),
        table(["#", "Type", "Signer", "Nonce", "Hash", "Payload"], b.transactions.map((t) => [
          t.index, t.type, h("span", { class: "mono" }, short(t.signer, 16)), t.nonce, h("span", { class: "mono" }, t.hash ? short(t.hash, 16) : "?"), json(t.payload)])));
    },
  };
}

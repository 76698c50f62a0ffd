// The explorer in the browser: hash routing (every page its own URL), the search box, and one live
// stream (server-sent events; the browser resumes it by itself with Last-Event-ID).
import type { LiveUpdate, SearchHit } from "../api.js";
import { blockPage, blocksPage } from "./chain.js";
import { contractPage, contractsPage } from "./contracts.js";
import { h, link, replace } from "./dom.js";
import { farmPage, farmsPage, twinPage } from "./entities.js";
import { api } from "./fetch.js";
import { nodePage, nodesPage } from "./nodes.js";
import { overviewPage } from "./overview.js";
import type { Page } from "./page.js";

const main = document.getElementById("main") as HTMLElement;
const liveEl = document.getElementById("live") as HTMLElement;
let current: Page | undefined;
let busy: Promise<void> = Promise.resolve();

function searchPage(q: string): Page {
  return {
    title: `Search ${q}`,
    async render(el) {
      const r = await api<{ hits: SearchHit[] }>(`search?q=${encodeURIComponent(q)}`);
      // One match: go straight there, as a search box is expected to.
      if (r.hits.length === 1) { location.replace(r.hits[0].href); return; }
      replace(el, h("h1", {}, `Search: ${q}`),
        r.hits.length ? h("ul", { id: "search-results" }, r.hits.map((x) => h("li", {}, link(x.href, x.label)))) : h("p", {}, "Nothing matches: try a twin, node, farm or contract id, a block height, a block hash or a public key."));
    },
  };
}

function route(): Page {
  const [path, qs = ""] = location.hash.replace(/^#/, "").split("?");
  const q = new URLSearchParams(qs);
  const p = path.split("/").filter(Boolean);
  const id = Number(p[1]);
  const has = p.length === 2 && /^\d+$/.test(p[1]);
  switch (p[0]) {
    case undefined: return overviewPage();
    case "nodes": return has ? nodePage(id) : nodesPage(q);
    case "contracts": return has ? contractPage(id) : contractsPage(q);
    case "farms": return has ? farmPage(id) : farmsPage(q);
    case "twins": if (has) return twinPage(id, q); break;
    case "blocks": return p[1] ? blockPage(p[1]) : blocksPage(q);
    case "search": return searchPage(q.get("q") ?? "");
  }
  return { title: "Not found", async render(el) { replace(el, h("h1", {}, "Not found"), h("p", {}, "No such page. "), link("#/", "Back to the overview")); } };
}

function show(): void {
  const page = route();
  current = page;
  document.title = `${page.title} · Grid explorer`;
  busy = busy.then(() => page.render(main)).catch((e: Error & { hint?: string }) => {
    replace(main, h("h1", {}, page.title), h("p", { class: "error", role: "alert" }, e.message, e.hint ? ` (${e.hint})` : ""));
  });
  for (const a of Array.from(document.querySelectorAll("nav a"))) {
    const here = (a.getAttribute("href") ?? "") === `#/${location.hash.replace(/^#\/?/, "").split(/[/?]/)[0]}`;
    if (here) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
}

function connect(): void {
  const es = new EventSource("/api/live");
  es.addEventListener("open", () => { liveEl.textContent = "live"; });
  es.addEventListener("error", () => { liveEl.textContent = "reconnecting…"; });
  es.addEventListener("update", (ev) => {
    const u = JSON.parse((ev as MessageEvent<string>).data) as LiveUpdate;
    liveEl.textContent = `live · block ${u.height}`;
    const page = current;
    // Updates wait for the page's last draw, and are dropped for a page no longer shown.
    busy = busy.then(async () => { if (page && page === current && page.onUpdate) await page.onUpdate(u, main); }).catch(() => undefined);
  });
}

document.getElementById("search")!.addEventListener("submit", (e) => {
  e.preventDefault();
  const q = (document.getElementById("q") as HTMLInputElement).value.trim();
  if (q) location.hash = `#/search?q=${encodeURIComponent(q)}`;
});
window.addEventListener("hashchange", show);
show();
connect();

// Building the page: elements made with text nodes only (never innerHTML), so a name, description
// or message written on the ledger by anyone shows as text and cannot become markup.
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.replace(/^on/, ""), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export const link = (href: string, text: Child) => h("a", { href }, text);

export function table(headers: Child[], rows: Child[][]): HTMLTableElement {
  return h("table", {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c)))) : h("tr", {}, h("td", { colspan: headers.length }, "none"))));
}

export function dl(pairs: [string, Child][]): HTMLDListElement {
  return h("dl", {}, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

export function card(k: string, v: Child): HTMLElement {
  return h("div", { class: "card" }, h("div", { class: "k" }, k), h("div", { class: "v" }, v));
}

export function status(s: string): HTMLElement { return h("span", { class: s === "up" ? "up" : s === "down" ? "down" : "" }, s); }

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
export function bytes(n: number): string {
  let i = 0, v = n;
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function time(t: number | null | undefined): string {
  if (t === null || t === undefined) return "never";
  return new Date(t * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function tokens(n: number): string { return n >= 100 ? Math.round(n).toLocaleString("en") : n.toFixed(2); }

export function short(hex: string, n = 12): string { return hex.length > n ? `${hex.slice(0, n)}…` : hex; }

export function json(v: unknown): HTMLElement { return h("pre", { class: "mono" }, JSON.stringify(v, null, 2)); }

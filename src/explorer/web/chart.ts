// Two hand-made SVG charts: a used-vs-total bar, and a node's report timeline (one tick per report,
// gaps longer than three intervals drawn as down). Small enough not to need a chart library.
const NS = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>): SVGElement {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function bar(used: number, total: number, label: string): SVGElement {
  const frac = total > 0 ? Math.min(1, Math.max(0, used / total)) : 0;
  const s = svg("svg", { viewBox: "0 0 300 16", width: "100%", height: 16, role: "img", "aria-label": label });
  s.appendChild(svg("rect", { x: 0, y: 0, width: 300, height: 16, fill: "#d5dde6", rx: 3 }));
  s.appendChild(svg("rect", { x: 0, y: 0, width: Math.round(300 * frac), height: 16, fill: "#0b5cad", rx: 3 }));
  return s;
}

export function timeline(reports: number[], from: number, to: number, interval: number, label: string): SVGElement {
  const W = 600, H = 40, span = Math.max(1, to - from);
  const x = (t: number) => ((t - from) / span) * W;
  const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: H, role: "img", "aria-label": label });
  s.appendChild(svg("rect", { x: 0, y: 18, width: W, height: 6, fill: "#d5dde6" }));
  let prev = from;
  for (const t of [...reports, to]) {
    // A stretch longer than three report intervals without a report is when the node counted as down.
    if (t - prev > 3 * interval) s.appendChild(svg("rect", { x: x(prev), y: 18, width: Math.max(1, x(t) - x(prev)), height: 6, fill: "#a3261b" }));
    prev = t;
  }
  for (const t of reports) s.appendChild(svg("rect", { x: x(t) - 0.5, y: 8, width: 1.5, height: 26, fill: "#17663a" }));
  return s;
}

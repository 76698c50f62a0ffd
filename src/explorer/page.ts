// The page shell and its style sheet: one HTML document for every route (the hash picks the page),
// with the landmarks, labels and skip link a keyboard or screen-reader user needs. Nothing is loaded
// from outside the machine (the Content-Security-Policy in server.ts enforces it).

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grid explorer</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="data:,">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
  <span class="brand">Grid explorer</span>
  <nav aria-label="Main">
    <ul>
      <li><a href="#/">Overview</a></li>
      <li><a href="#/nodes">Nodes</a></li>
      <li><a href="#/farms">Farms</a></li>
      <li><a href="#/contracts">Contracts</a></li>
      <li><a href="#/blocks">Chain</a></li>
    </ul>
  </nav>
  <form id="search" role="search">
    <label for="q">Search</label>
    <input id="q" name="q" type="search" placeholder="twin, node, farm, contract, block or hash" autocomplete="off">
    <button type="submit">Go</button>
  </form>
  <span id="live" class="live" role="status" aria-live="polite">connecting…</span>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<script src="/app.js"></script>
</body>
</html>
`;

export const STYLE_CSS = `
:root { --fg: #1b1f24; --muted: #4a5560; --bg: #ffffff; --panel: #f3f5f7; --accent: #0b5cad; --up: #17663a; --down: #a3261b; --bar: #0b5cad; --bar-bg: #d5dde6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f0a000; outline-offset: 1px; }
.skip { position: absolute; left: -1000px; top: 0; background: #fff; padding: 4px 8px; }
.skip:focus { left: 8px; z-index: 10; }
header { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; padding: 10px 20px; background: #12263a; color: #fff; }
header a { color: #d8e8ff; }
.brand { font-weight: 700; font-size: 17px; }
nav ul { display: flex; gap: 16px; list-style: none; margin: 0; padding: 0; }
#search { display: flex; gap: 6px; align-items: center; margin-left: auto; }
#search label { color: #fff; }
#search input { width: 300px; padding: 4px 6px; }
.live { font-size: 13px; color: #d8e8ff; }
main { padding: 16px 20px 40px; max-width: 1200px; }
h1 { font-size: 22px; margin: 8px 0 14px; }
h2 { font-size: 17px; margin: 22px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
.card { background: var(--panel); padding: 10px 12px; border-radius: 6px; }
.card .k { color: var(--muted); font-size: 13px; }
.card .v { font-size: 22px; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #d0d7de; vertical-align: top; }
th { background: var(--panel); }
th button { all: unset; cursor: pointer; color: var(--accent); text-decoration: underline; }
.up { color: var(--up); font-weight: 600; }
.down { color: var(--down); font-weight: 600; }
.bars { display: grid; grid-template-columns: 70px 1fr 220px; gap: 6px 10px; align-items: center; max-width: 760px; }
.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; margin-bottom: 10px; }
.filters label { display: flex; flex-direction: column; font-size: 13px; color: var(--muted); }
.pager { display: flex; gap: 12px; align-items: center; margin: 10px 0; }
pre { background: var(--panel); padding: 8px; overflow-x: auto; font-size: 13px; max-height: 360px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dt { color: var(--muted); }
dd { margin: 0; word-break: break-all; }
.mono { font-family: ui-monospace, monospace; font-size: 13px; }
.error { color: var(--down); }
`;

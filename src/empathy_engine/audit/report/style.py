"""The report's stylesheet: inline, no web fonts, no CDN; prints cleanly."""

CSS = """
:root { --ink:#1f2933; --muted:#7b8794; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --accent:#3e4c59;
  --high:#2f855a; --mid:#d69e2e; --low:#c53030; --none:#a0aec0; --blue:#4a6fa5; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 "Inter","Segoe UI","Helvetica Neue",Arial,sans-serif; color:var(--ink);
  background:var(--bg); }
header.top { background:#1f2933; color:#fff; padding:28px 40px 22px; }
header.top h1 { margin:0 0 4px; font-size:26px; font-weight:650; letter-spacing:-.01em; }
header.top .sub { color:#cbd2d9; font-size:14px; }
header.top .badge { display:inline-block; margin-left:10px; padding:2px 9px; border-radius:10px;
  background:var(--low); color:#fff; font-size:12px; text-decoration:none; }
nav { background:#fff; border-bottom:1px solid var(--line); padding:8px 40px; position:sticky; top:0; z-index:5;
  font-size:13px; }
nav a { color:var(--accent); margin-right:16px; text-decoration:none; }
nav a:hover { text-decoration:underline; }
main { max-width:1320px; margin:0 auto; padding:22px 40px 60px; }
section { margin:0 0 34px; }
h2 { font-size:19px; margin:0 0 4px; font-weight:650; }
h2 + .lede { margin-top:0; }
h3 { font-size:15px; margin:18px 0 6px; }
.lede { color:var(--muted); margin:0 0 14px; max-width:900px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:12px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:14px 16px; }
.tile .label { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.tile .value { font-size:28px; font-weight:650; margin:2px 0 0; }
.tile .value small { font-size:14px; color:var(--muted); font-weight:500; }
.tile .note { color:var(--muted); font-size:12px; }
.tile.good .value { color:var(--high); } .tile.bad .value { color:var(--low); }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:16px 18px; }
.grid2 { display:grid; grid-template-columns:1fr 1fr; gap:14px; }
.grid3 { display:grid; grid-template-columns:repeat(3,1fr); gap:14px; }
@media (max-width:1000px) { .grid2,.grid3 { grid-template-columns:1fr; } }
svg.chart { max-width:100%; height:auto; display:block; margin:0 auto; }
.actions { background:#fffbea; border:1px solid #f0e1a1; border-radius:10px; padding:12px 18px; }
.actions li { margin:4px 0; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:13px; }
th { text-align:left; color:var(--muted); font-weight:600; font-size:12px; border-bottom:2px solid var(--line);
  padding:7px 8px; white-space:nowrap; }
td { border-bottom:1px solid var(--line); padding:7px 8px; vertical-align:middle; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
tr:hover td { background:#fafbfc; }
.muted { color:var(--muted); }
.chip { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600;
  white-space:nowrap; }
.tier-below { background:#fde8e8; color:var(--low); } .tier-above { background:#e3f4ea; color:var(--high); }
.tier-noise { background:#e8eef7; color:var(--blue); } .tier-few { background:#eef0f2; color:var(--muted); }
.st { display:inline-block; padding:0 7px; border-radius:9px; font-size:12px; color:#fff; white-space:nowrap; }
.st-frustration { background:#c53030; } .st-urgency { background:#b83280; } .st-confusion { background:#2b6cb0; }
.st-cost_anxiety { background:#b7791f; } .st-worry { background:#6b46c1; } .st-dejection { background:#4a5568; }
.st-distrust { background:#9c4221; } .st-satisfaction { background:#2f855a; } .st-neutral { background:#a0aec0; }
.quote { border-left:3px solid var(--low); background:var(--card); padding:10px 14px; margin:8px 0;
  border-radius:0 8px 8px 0; border-top:1px solid var(--line); border-right:1px solid var(--line);
  border-bottom:1px solid var(--line); }
.quote.good { border-left-color:var(--high); }
.quote .meta { color:var(--muted); font-size:12px; margin-bottom:4px; }
.quote .said { font-size:14px; }
.quote .said::before { content:"“"; } .quote .said::after { content:"”"; }
.quote .reply { color:#52606d; margin-top:4px; font-size:13px; }
.quote .reply b { color:var(--ink); font-weight:600; }
.quote .advice { margin-top:6px; font-size:13px; background:#f0f7f3; border-radius:6px; padding:6px 9px; }
.quote .advice .say { font-style:italic; }
.quote .advice .avoid { color:var(--low); }
details.agent { background:var(--card); border:1px solid var(--line); border-radius:10px; margin:10px 0;
  padding:0 18px; }
details.agent > summary { cursor:pointer; padding:12px 0; font-weight:600; font-size:15px; list-style:none; }
details.agent > summary::-webkit-details-marker { display:none; }
details.agent > summary::before { content:"▸ "; color:var(--muted); }
details.agent[open] > summary::before { content:"▾ "; }
details.agent > summary .chip { margin-left:8px; }
details.agent > summary .s { font-weight:400; color:var(--muted); margin-left:10px; font-size:13px; }
details.agent .body { padding:0 0 16px; }
.misslist { margin:6px 0 0; padding-left:18px; } .misslist li { margin:3px 0; }
svg.spark polyline { stroke:var(--accent); stroke-width:1.6; } svg.spark circle { fill:var(--accent); }
svg.spark line.mid { stroke:var(--line); stroke-dasharray:2 2; }
svg.traj { background:#fff; border:1px solid var(--line); border-radius:6px; }
svg.traj rect.pos { fill:#f0f7f3; } svg.traj rect.neg { fill:#fdf2f2; }
svg.traj polyline { stroke:var(--accent); stroke-width:1.8; } svg.traj circle.miss { fill:var(--low); }
svg.ci line.axis { stroke:var(--line); stroke-width:2; } svg.ci rect { fill:#c3cfe2; }
svg.ci circle { fill:var(--accent); } svg.ci line.team { stroke:var(--muted); stroke-dasharray:2 2; }
.roi { display:grid; grid-template-columns:minmax(320px,1fr) minmax(320px,1fr); gap:18px; }
.roi td.given { font-weight:650; }
.big { font-size:30px; font-weight:700; }
.small { font-size:12px; }
footer { color:var(--muted); font-size:12px; border-top:1px solid var(--line); padding-top:14px; }
dl.defs dt { font-weight:600; margin-top:8px; } dl.defs dd { margin:2px 0 0 0; color:#52606d; }
@media print { nav { display:none; } details.agent { break-inside:avoid; } body { background:#fff; } }
"""

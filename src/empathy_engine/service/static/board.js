// The supervisor board: every live call, riskiest first, re-sorted whenever the server says so.
// Filters (state, team) are kept in the address (?state=...&team=...) so a board can be bookmarked.
"use strict";

const filters = new URLSearchParams(location.search);
let latest = { calls: [], total: 0 };

function cueText(card) {
  if (!card) return "";
  return card.say ? `“${card.say}”` : card.do || "";
}

function cell(cls, text, attrs) {
  // One line per cell, cut with an ellipsis: the whole text is in its tooltip.
  return el("td", { class: cls, title: text || null, ...attrs }, text || "");
}

function flag(call) {
  if (call.safety) return el("td", { class: "flag", title: "safety emergency: the agent has not acted on it yet" }, "⚠ SAFETY");
  if (call.safety_handled) return el("td", { class: "flag", "data-handled": "true", title: "safety handled: the agent followed the safety card" }, "✓");
  return el("td", { class: "flag" });
}

function row(call) {
  const [arrow, word] = TREND[call.trend] || TREND.new;
  const state = call.safety ? "safety" : call.primary || "";
  const href = `/agent/${encodeURIComponent(call.call_id)}`;
  const level = call.safety ? stateLabel(call.primary)
    : call.primary && call.primary !== "neutral" ? levelWord(call.intensity) : "";
  return el("tr", { class: `row${call.safety ? " safety" : ""}${call.connected ? "" : " gone"}`, "data-call-id": call.call_id,
                    "data-risk": call.risk, "data-state": state, onclick: () => { location.href = href; } },
    flag(call),
    el("td", { class: "who", title: [call.customer, call.service, call.call_id].filter(Boolean).join(" · ") },
      el("a", { href }, call.customer || call.call_id), " ",
      el("span", { class: "meta" }, call.connected ? call.call_id : `${call.call_id} · disconnected`)),
    cell("agent", call.agent, { "data-label": "agent" }),
    cell("team", call.team, { "data-label": "team" }),
    el("td", { class: "mood", title: [stateLabel(state), level].filter(Boolean).join(" ") || null }, el("span", { class: "pill", "data-state": state }, stateLabel(state) || "—"),
      " ", el("span", { class: "level" }, level)),
    el("td", { class: "trend", "data-trend": call.trend }, arrow ? `${arrow} ${word}` : ""),
    el("td", { class: "when in-state", "data-since": call.state_since, "data-label": "in state" }),
    el("td", { class: "when duration", "data-since": call.started, "data-label": "call" }),
    cell("cue", cueText(call.last_card)),
    cell("said", call.last_text),
    el("td", { class: "turns" }, String(call.turns)));
}

function tick() {
  // Durations move every second between frames (frames come only when something changed).
  const now = serverNow();
  for (const td of document.querySelectorAll("#rows td[data-since]")) {
    td.textContent = elapsed(now - Number(td.dataset.since));
  }
}

function matches(call) {
  const state = filters.get("state"), team = filters.get("team");
  const shown = call.safety ? "safety" : call.primary || "";
  return (!state || state === shown) && (!team || team === call.team);
}

function fillSelect(select, values, labels) {
  const chosen = filters.get(select.name) || "";
  const all = [...new Set([...values, ...(chosen ? [chosen] : [])])].sort();
  select.replaceChildren(el("option", { value: "" }, "all"),
    ...all.map((v) => el("option", { value: v, selected: v === chosen }, labels ? labels(v) : v)));
}

function draw() {
  const shown = latest.calls.filter(matches);
  document.getElementById("rows").replaceChildren(...shown.map(row));
  document.getElementById("total").textContent = latest.total ? `(${latest.total})` : "";
  const empty = document.getElementById("empty");
  empty.hidden = shown.length > 0;
  empty.textContent = latest.calls.length ? "No live call matches these filters." : "No live calls right now.";
  const filtered = filters.get("state") || filters.get("team");
  document.getElementById("shown").textContent = filtered ? `showing ${shown.length} of ${latest.calls.length}` : "";
  fillSelect(document.getElementById("filter-team"), latest.calls.map((c) => c.team).filter(Boolean));
  tick();
}

function setFilter(name, value) {
  if (value) filters.set(name, value); else filters.delete(name);
  const query = filters.toString();
  history.replaceState(null, "", query ? `?${query}` : location.pathname);
  draw();
}

fillSelect(document.getElementById("filter-state"), Object.keys(STATE_LABEL), stateLabel);
for (const select of document.querySelectorAll("#filters select")) {
  select.addEventListener("change", () => setFilter(select.name, select.value));
}
setInterval(tick, 1000);

liveFeed("/v1/board/watch", (frame) => {
  if (frame.type !== "board") return null;
  syncClock(frame.at);
  latest = frame;
  draw();
  return null;
}, (status) => setConn(status, status === "live" ? "live" : status === "refused" ? "not allowed" : "reconnecting…"));

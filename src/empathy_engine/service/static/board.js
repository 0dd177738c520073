// The supervisor board: every live call, riskiest first, re-sorted whenever the server says so.
"use strict";

function cueText(card) {
  if (!card) return "";
  return card.say ? `“${card.say}”` : card.do || "";
}

function row(call) {
  const [arrow, word] = TREND[call.trend] || TREND.new;
  const state = call.safety ? "safety" : call.primary || "";
  return el("tr", { class: `row${call.safety ? " safety" : ""}${call.connected ? "" : " gone"}`, "data-call-id": call.call_id,
                    "data-risk": call.risk, onclick: () => { location.href = `/agent/${encodeURIComponent(call.call_id)}`; } },
    el("td", { class: "flag" }, call.safety ? "⚠" : ""),
    el("td", { class: "who" },
      el("a", { href: `/agent/${encodeURIComponent(call.call_id)}` }, call.customer || call.call_id),
      el("div", { class: "meta" }, [call.service, call.call_id].filter(Boolean).join(" · "))),
    el("td", {}, el("span", { class: "pill", "data-state": state }, stateLabel(state) || "—"),
      " ", el("span", { class: "level" }, call.safety ? stateLabel(call.primary)
        : call.primary && call.primary !== "neutral" ? levelWord(call.intensity) : "")),
    el("td", { class: "trend", "data-trend": call.trend }, arrow ? `${arrow} ${word}` : ""),
    el("td", { class: "cue" }, cueText(call.last_card)),
    el("td", { class: "said" }, call.last_text || ""),
    el("td", { class: "turns" }, String(call.turns), call.connected ? "" : el("div", { class: "meta" }, "disconnected")));
}

liveFeed("/v1/board/watch", (frame) => {
  if (frame.type !== "board") return null;
  document.getElementById("rows").replaceChildren(...frame.calls.map(row));
  document.getElementById("total").textContent = frame.total ? `(${frame.total})` : "";
  document.getElementById("empty").hidden = frame.total > 0;
  return null;
}, (status) => setConn(status, status === "live" ? "live" : status === "refused" ? "not allowed" : "reconnecting…"));

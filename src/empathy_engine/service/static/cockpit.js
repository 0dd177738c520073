// The agent cockpit: one call, live. Everything is drawn from the watch feed's frames.
"use strict";

const callId = document.body.dataset.callId;
const entries = new Map(); // turn index -> {index, speaker, text, t, result}
let mood = null;
let ended = false;

function renderHeader(call) {
  const customer = call.customer || {};
  document.getElementById("customer-name").textContent = customer.name || customer.id || `Call ${call.id}`;
  const meta = [call.service, call.channel, call.agent ? `agent ${call.agent}` : null, call.id].filter(Boolean);
  document.getElementById("call-meta").textContent = meta.join(" · ");
  document.getElementById("notes").replaceChildren(...(customer.notes || []).map((n) => el("li", {}, n)));
  document.getElementById("contacts").replaceChildren(
    ...(customer.prior_contacts || []).map((c) =>
      el("li", {}, el("span", { class: "when" }, (c.at || "").slice(0, 10)), " ", c.issue || "",
        c.outcome ? el("span", { class: "outcome" }, ` → ${c.outcome}`) : null)));
}

function renderState() {
  const box = document.getElementById("state");
  const primary = mood && mood.primary;
  box.dataset.state = primary || "";
  document.getElementById("state-name").textContent = primary ? stateLabel(primary) : "waiting for the customer";
  document.getElementById("state-level").textContent = primary && primary !== "neutral" ? levelWord(mood.intensity) : "";
  const trend = (mood && mood.trend) || "new";
  const [arrow, word] = TREND[trend] || TREND.new;
  const trendEl = document.getElementById("trend");
  trendEl.dataset.trend = trend;
  trendEl.textContent = arrow ? `${arrow} ${word}` : "";
  sparkline(document.getElementById("spark"), mood && mood.history);
}

function followThrough(cardId) {
  // The agent turns after the card was shown say whether its advice was followed.
  let verdict = null;
  for (const entry of [...entries.values()].sort((a, b) => a.index - b.index)) {
    const ft = entry.result && entry.result.follow_through;
    for (const f of Array.isArray(ft) ? ft : ft ? [ft] : []) {
      if (f.card === cardId) verdict = f.followed;
    }
  }
  return verdict;
}

function renderCard() {
  const card = mood && mood.card;
  const box = document.getElementById("card");
  const say = document.getElementById("card-say");
  const todo = document.getElementById("card-do");
  const avoid = document.getElementById("card-avoid");
  const why = document.getElementById("card-why");
  const head = document.getElementById("card-state");
  const follow = document.getElementById("card-follow");
  if (card) {
    box.className = "card";
    box.dataset.cardId = card.id || "";
    box.dataset.state = card.state || "";
    head.textContent = stateLabel(card.state);
    say.textContent = card.say ? `“${card.say}”` : "";
    todo.textContent = card.do || "";
    avoid.replaceChildren(...(card.avoid || []).map((a) => el("li", {}, a)));
    why.textContent = card.why ? `Why: “${card.why}”` : "";
    const followed = followThrough(card.id);
    follow.textContent = followed === true ? "✓ done" : followed === false ? "not yet done" : "";
    follow.dataset.followed = String(followed);
    return;
  }
  // No card: say plainly what the customer feels and why, so the space is never stale.
  box.className = "card empty";
  box.dataset.cardId = "";
  const primary = mood && mood.primary;
  box.dataset.state = primary || "";
  head.textContent = primary ? stateLabel(primary) : "";
  say.textContent = primary && primary !== "neutral" && primary !== "satisfaction"
    ? "No cue card for this turn: respond to how they feel."
    : primary ? "Nothing to respond to: carry on." : "Waiting for the customer to speak…";
  todo.textContent = "";
  avoid.replaceChildren();
  why.textContent = mood && mood.why && mood.why.length ? `Why: ${mood.why.map((e) => `“${e.quote}”`).join(" · ")}` : "";
  follow.textContent = "";
}

function chip(text, cls) { return el("span", { class: `chip ${cls || ""}` }, text); }

function renderTranscript() {
  const list = document.getElementById("transcript");
  const items = [...entries.values()].sort((a, b) => a.index - b.index).map((e) => {
    const r = e.result || {};
    const tags = e.speaker === "customer"
      ? (r.detected || []).filter((s) => s !== "neutral").map((s) => chip(stateLabel(s), `s-${s}`))
      : [r.missed_cue ? chip("missed cue", "missed") : null,
         ...(r.behaviours || []).filter((b) => b !== "none").slice(0, 3).map((b) => chip(b.replace(/_/g, " "), "b"))];
    return el("li", { class: `entry ${e.speaker}`, "data-index": e.index },
      el("span", { class: "who" }, e.speaker === "customer" ? "Customer" : "Agent"), " ",
      el("span", { class: "text" }, e.text), " ", tags);
  });
  list.replaceChildren(...items);
  list.parentElement.scrollTop = list.parentElement.scrollHeight;
}

function renderEscalation() {
  const box = document.getElementById("escalation");
  const esc = mood && mood.escalation;
  box.hidden = !esc && !(mood && mood.safety);
  if (box.hidden) return;
  if (!esc || !esc.reason) { box.textContent = "Safety emergency on this call"; return; }
  // The hand-over packet: whoever picks the call up starts where the customer is.
  const handoff = esc.handoff || {};
  const parts = [el("div", { class: "esc-title" }, `Hand-over from the bot: ${String(esc.reason).replace(/_/g, " ")}`)];
  if (handoff.summary) parts.push(el("div", { class: "esc-summary" }, handoff.summary));
  if (handoff.opening_line) parts.push(el("div", { class: "esc-open" }, `Open with: \u201c${handoff.opening_line}\u201d`));
  if (handoff.tried && handoff.tried.length) {
    parts.push(el("div", { class: "esc-tried" }, `The bot already tried: ${handoff.tried.join(", ").replace(/_/g, " ")}`));
  }
  box.replaceChildren(...parts);
}

function renderSummary(summary) {
  const box = document.getElementById("summary");
  if (!summary) { box.hidden = true; return; }
  box.hidden = false;
  const score = summary.empathy_score === null || summary.empathy_score === undefined
    ? "no emotional turns to judge" : `empathy score ${Math.round(summary.empathy_score * 100)}%`;
  box.textContent = `Call ended · started ${stateLabel(summary.start) || "—"}, ended ${stateLabel(summary.end) || "—"} · ${score} · missed cues ${summary.missed_cues}`;
}

function render() { renderState(); renderCard(); renderTranscript(); renderEscalation(); }

liveFeed(`/v1/calls/${encodeURIComponent(callId)}/watch`, (frame) => {
  if (frame.type === "snapshot") {
    entries.clear();
    for (const e of frame.transcript) entries.set(e.index, e);
    mood = frame.mood;
    renderHeader(frame.call);
    ended = frame.call.status === "ended";
    setConn(ended ? "ended" : "live", ended ? "call ended" : "live");
    renderSummary(frame.summary);
    render();
  } else if (frame.type === "waiting") {
    setConn("waiting", "waiting for the call to start");
  } else if (frame.type === "turn") {
    entries.set(frame.entry.index, frame.entry);
    mood = frame.mood;
    document.getElementById("partial").hidden = true;
    render();
  } else if (frame.type === "provisional") {
    const partial = document.getElementById("partial");
    partial.hidden = false;
    partial.textContent = `${frame.speaker === "customer" ? "Customer" : "Agent"} (speaking): ${frame.text}`;
  } else if (frame.type === "ended") {
    ended = true;
    setConn("ended", "call ended");
    renderSummary(frame.summary);
    return "stop";
  } else if (frame.type === "error") {
    setConn("error", frame.message);
  }
  return null;
}, (status) => { if (!ended) setConn(status, status === "live" ? "live" : status === "refused" ? "not allowed" : "reconnecting…"); });

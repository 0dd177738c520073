// The agent cockpit: one call, live. Everything is drawn from the watch feed's frames.
"use strict";

const callId = document.body.dataset.callId;
const entries = new Map(); // turn index -> {index, speaker, text, t, result}
let mood = null;
let ended = false;
let liveSince = null; // server time the call went live here (null: not live, or not known)
let endedAt = null;
let shownCard = null; // the card id on screen, to tell a new card from the same one again

function renderHeader(call) {
  const customer = call.customer || {};
  document.getElementById("customer-name").textContent = customer.name || customer.id || `Call ${call.id}`;
  const meta = [call.service, call.channel, call.agent ? `agent ${call.agent}` : null, call.id].filter(Boolean);
  document.getElementById("call-meta").textContent = meta.join(" · ");
  liveSince = typeof call.live_since === "number" ? call.live_since : null;
  tickTimer();
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

function newestCustomerTurn() {
  let newest = null;
  for (const entry of entries.values()) {
    if (entry.speaker === "customer" && (!newest || entry.index > newest.index)) newest = entry;
  }
  return newest;
}

function renderCard() {
  const card = mood && mood.card;
  const turn = newestCustomerTurn();
  document.getElementById("card-time").textContent = turn && turn.at ? `turn ${turn.index} · ${clockTime(turn.at)}` : "";
  const box = document.getElementById("card");
  const say = document.getElementById("card-say");
  const todo = document.getElementById("card-do");
  const avoid = document.getElementById("card-avoid");
  const why = document.getElementById("card-why");
  const explain = document.getElementById("card-explain");
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
    explain.textContent = card.explain ? `Means: ${card.explain}` : ""; // the idiom explainer, as text
    const followed = followThrough(card.id);
    follow.textContent = followed === true ? "✓ done" : followed === false ? "not yet done" : "";
    follow.dataset.followed = String(followed);
    showFeedback(turn ? turn.index : null, card.id || "");
    return;
  }
  showFeedback(null, "");
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
  explain.textContent = "";
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
    const when = [clockTime(e.at), typeof e.t === "number" ? `(${elapsed(e.t)} in)` : ""].filter(Boolean).join(" ");
    return el("li", { class: `entry ${e.speaker}`, "data-index": e.index },
      el("span", { class: "who" }, e.speaker === "customer" ? "Customer" : "Agent"), " ",
      when ? el("span", { class: "when" }, when) : null, " ",
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

// --- the call timer -----------------------------------------------------------------------
function tickTimer() {
  const timer = document.getElementById("timer");
  if (liveSince === null) { timer.textContent = "–"; return; }
  timer.textContent = elapsed((endedAt !== null ? endedAt : serverNow()) - liveSince);
}
setInterval(tickTimer, 1000);

// --- the chime: off unless the agent turns it on (remembered in this browser) --------------
const CHIME_KEY = "empathy.chime";
let audio = null;

function chimeOn() { return localStorage.getItem(CHIME_KEY) === "on"; }

function showChime() {
  const button = document.getElementById("chime");
  button.setAttribute("aria-pressed", String(chimeOn()));
  button.textContent = chimeOn() ? "Chime: on" : "Chime: off";
}

function toggleChime() {
  localStorage.setItem(CHIME_KEY, chimeOn() ? "off" : "on");
  showChime();
  if (chimeOn()) chime(); // a click is the gesture browsers want before they play a sound
}

function chime() {
  // Two short soft tones made here (WebAudio): nothing to download.
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
    for (const [i, freq] of [660, 880].entries()) {
      const osc = audio.createOscillator(), gain = audio.createGain();
      const start = audio.currentTime + i * 0.12;
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.15, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.3);
    }
    document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  } catch (e) {
    console.warn("no sound:", e);
  }
}

function noticeNewCard(fromSnapshot) {
  const card = mood && mood.card;
  const id = card ? card.id || "" : null;
  if (id !== null && id !== shownCard && !fromSnapshot && chimeOn()) chime();
  shownCard = id;
}

// --- feedback on the card: "helpful" / "wrong read", to the team's review (a weak signal) --
// What was given is kept for this tab (sessionStorage), so a reconnect or a reload still shows it.
const FEEDBACK_KEY = `empathy.feedback.${callId}`;
const KINDS = ["helpful", "wrong_read"];
let feedbackTurn = null; // the customer turn whose card is on screen (null: no card)
let feedbackCard = "";

function feedbackGiven() {
  try { return JSON.parse(sessionStorage.getItem(FEEDBACK_KEY) || "{}"); } catch (e) { return {}; }
}

function rememberFeedback(turn, kind) {
  const given = feedbackGiven();
  given[`${turn}:${kind}`] = true;
  sessionStorage.setItem(FEEDBACK_KEY, JSON.stringify(given));
}

function showFeedback(turn, cardId) {
  const box = document.getElementById("card-feedback");
  const changed = turn !== feedbackTurn || cardId !== feedbackCard;
  feedbackTurn = turn;
  feedbackCard = cardId;
  box.hidden = turn === null;
  if (turn === null) return;
  const given = feedbackGiven();
  for (const kind of KINDS) {
    const button = document.getElementById(`fb-${kind}`);
    const taken = Boolean(given[`${turn}:${kind}`]);
    button.setAttribute("aria-pressed", String(taken));
    button.disabled = taken;
  }
  if (changed) {
    const status = document.getElementById("fb-status");
    const taken = KINDS.some((kind) => given[`${turn}:${kind}`]);
    status.textContent = taken ? "thanks — noted" : "";
    status.dataset.ok = "true";
  }
}

async function sendFeedback(kind) {
  const turn = feedbackTurn;
  if (turn === null || feedbackGiven()[`${turn}:${kind}`]) return;
  const status = document.getElementById("fb-status");
  const button = document.getElementById(`fb-${kind}`);
  button.disabled = true;
  let answer = null;
  try {
    const response = await fetch(`/v1/calls/${encodeURIComponent(callId)}/turns/${turn}/feedback`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ kind, card_id: feedbackCard || undefined }),
    });
    answer = response.ok ? null : ((await response.json().catch(() => ({}))).detail || `error ${response.status}`);
  } catch (e) {
    answer = "not sent: the server cannot be reached; press it again";
  }
  if (answer === null) {
    rememberFeedback(turn, kind);
    if (turn === feedbackTurn) {
      button.setAttribute("aria-pressed", "true");
      status.textContent = "thanks — noted";
      status.dataset.ok = "true";
    }
    return;
  }
  button.disabled = false;
  status.textContent = typeof answer === "string" ? answer : "not noted";
  status.dataset.ok = "false";
}

// --- keyboard ----------------------------------------------------------------------------
function toggleHelp() {
  const help = document.getElementById("help");
  help.hidden = !help.hidden;
  document.getElementById("help-toggle").setAttribute("aria-expanded", String(!help.hidden));
}

function jumpToCard() {
  const card = document.getElementById("card");
  card.scrollIntoView({ block: "start" });
  card.focus({ preventScroll: true });
}

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const action = {
    n: jumpToCard, c: toggleChime, "?": toggleHelp,
    h: () => sendFeedback("helpful"), w: () => sendFeedback("wrong_read"),
  }[event.key];
  if (action) { event.preventDefault(); action(); }
});
document.getElementById("chime").addEventListener("click", toggleChime);
document.getElementById("help-toggle").addEventListener("click", toggleHelp);
for (const kind of KINDS) document.getElementById(`fb-${kind}`).addEventListener("click", () => sendFeedback(kind));
showChime();

liveFeed(`/v1/calls/${encodeURIComponent(callId)}/watch`, (frame) => {
  if (frame.type === "snapshot") {
    entries.clear();
    for (const e of frame.transcript) entries.set(e.index, e);
    mood = frame.mood;
    syncClock(frame.at);
    renderHeader(frame.call);
    ended = frame.call.status === "ended";
    noticeNewCard(true);
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
    noticeNewCard(false);
  } else if (frame.type === "provisional") {
    const partial = document.getElementById("partial");
    partial.hidden = false;
    partial.textContent = `${frame.speaker === "customer" ? "Customer" : "Agent"} (speaking): ${frame.text}`;
  } else if (frame.type === "ended") {
    ended = true;
    endedAt = serverNow();
    tickTimer();
    setConn("ended", "call ended");
    renderSummary(frame.summary);
    return "stop";
  } else if (frame.type === "error") {
    setConn("error", frame.message);
  }
  return null;
}, (status) => { if (!ended) setConn(status, status === "live" ? "live" : status === "refused" ? "not allowed" : "reconnecting…"); });

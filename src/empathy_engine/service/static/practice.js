// The practice page: start a scenario, show the customer's line and the cue card as the cockpit
// does (none in an exam), send replies, and show the session report at the end.
"use strict";

const OUTCOME = { resolved: "resolved", escalated: "escalated to a supervisor", hung_up: "the customer hung up",
                  unfinished: "not finished" };
const $ = (id) => document.getElementById(id);
let sessionId = null;

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(typeof data.detail === "string" ? data.detail : `error ${response.status}`);
  return data;
}

function problem(message) {
  $("problem").textContent = message || "";
  $("problem").hidden = !message;
}

function say(who, text) {
  const entry = el("li", { class: `entry ${who}` }, el("div", { class: "who" }, who === "customer" ? "Customer" : "You"),
                   el("div", { class: "text" }, text));
  $("transcript").append(entry);
  entry.scrollIntoView({ block: "nearest" });
}

function showCard(card, exam) {
  const box = $("card");
  box.classList.toggle("empty", !card);
  box.dataset.state = card ? (card.source === "safety" ? "safety" : card.state) : "";
  $("card-state").textContent = card ? stateLabel(card.source === "safety" ? "safety" : card.state) : "";
  $("card-say").textContent = card ? card.say : exam ? "Exam: no cue cards" : "No card: the customer needs none";
  $("card-do").textContent = card ? card.do : "";
  $("card-avoid").replaceChildren(...(card ? card.avoid.map((a) => el("li", {}, a)) : []));
}

function showPrompt(prompt, exam) {
  say("customer", prompt.customer);
  const state = prompt.states[0] || "";
  $("state").dataset.state = state;
  $("state-name").textContent = stateLabel(state) || "waiting";
  showCard(prompt.card, exam);
}

function showReport(report) {
  $("play").hidden = true;
  $("report").hidden = false;
  $("report-summary").textContent = `${report.title}: ${OUTCOME[report.outcome]}. Score ${report.score}/100.`;
  const skill = report.skill;
  $("report-skill").textContent = skill
    ? `The one skill to work on: ${skill.do}${skill.say ? ` (for example: “${skill.say}”)` : ""}`
    : "Every reply landed. Try it as an exam next.";
  $("report-rows").replaceChildren(...report.replies.map((r, i) => el("tr", { "data-grade": r.grade },
    el("td", {}, String(i + 1)), el("td", {}, r.reply), el("td", {}, r.did),
    el("td", {}, r.playbook ? `${r.playbook.do}: “${r.playbook.say}”` : "No card: the customer needed none"))));
  $("report").scrollIntoView();
}

$("start").addEventListener("submit", async (event) => {
  event.preventDefault();
  problem("");
  try {
    const exam = $("exam").checked;
    const started = await post("/v1/practice/sessions", { scenario: $("scenario").value, exam });
    sessionId = started.id;
    $("transcript").replaceChildren();
    $("customer-name").textContent = started.scenario.name || started.scenario.title;
    $("call-meta").textContent = [started.scenario.title, started.scenario.service, ...started.scenario.notes]
      .filter(Boolean).join(" · ");
    $("report").hidden = true;
    $("play").hidden = false;
    $("play").dataset.exam = exam ? "true" : "false";
    showPrompt(started.prompt, exam);
    $("reply").focus();
  } catch (e) { problem(e.message); }
});

$("reply-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("reply").value.trim();
  if (!text || !sessionId) return;
  $("send").disabled = true;
  try {
    const answer = await post(`/v1/practice/sessions/${encodeURIComponent(sessionId)}/replies`, { text });
    say("agent", text);
    $("reply").value = "";
    showPrompt(answer.prompt, $("play").dataset.exam === "true");
    if (answer.report) showReport(answer.report);
  } catch (e) { problem(e.message); } finally { $("send").disabled = false; $("reply").focus(); }
});

$("again").addEventListener("click", () => { $("report").hidden = true; window.scrollTo(0, 0); $("scenario").focus(); });

// Shared by the cockpit and the board: DOM helpers, state names and colours, live feeds.
"use strict";

const STATE_LABEL = {
  frustration: "Frustrated", urgency: "Urgent", confusion: "Confused", cost_anxiety: "Worried about cost",
  worry: "Worried", dejection: "Dejected", distrust: "Distrustful", satisfaction: "Satisfied",
  neutral: "Calm", safety: "SAFETY",
};
const TREND = {
  worsening: ["▼", "worsening"], improving: ["▲", "improving"], steady: ["→", "steady"], new: ["", ""],
};

function el(tag, attrs, ...children) {
  // Text goes in as text nodes: nothing a caller says is ever parsed as HTML.
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function levelWord(intensity) {
  if (!intensity) return "";
  return intensity >= 0.85 ? "strong" : intensity >= 0.5 ? "clear" : "mild";
}

function stateLabel(state) {
  return STATE_LABEL[state] || (state ? state.replace(/_/g, " ") : "");
}

function sparkline(svg, history) {
  svg.replaceChildren();
  if (!history || history.length < 2) return;
  const step = 100 / (history.length - 1);
  const points = history.map((v, i) => `${(i * step).toFixed(1)},${(28 - v * 26).toFixed(1)}`).join(" ");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points);
  svg.append(line);
}

// Refusals (closed with 1008) that a new login fixes.
const LOGIN_AGAIN = ["unauthorized", "session_expired", "credential_revoked"];

function liveFeed(path, onFrame, onStatus) {
  // A WebSocket that comes back by itself: pages stay open for a whole shift.
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
  let stopped = false;
  let delay = 500;
  let refusal = null;
  function open() {
    const ws = new WebSocket(url);
    ws.onopen = () => { delay = 500; onStatus("live"); };
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "error") refusal = frame.code;
      if (onFrame(frame) === "stop") { stopped = true; ws.close(); }
    };
    ws.onclose = (event) => {
      if (stopped) return;
      if (event.code === 1008 && LOGIN_AGAIN.includes(refusal)) {
        // The session is gone (expired, logged out): reconnecting cannot help; logging in can.
        location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
        return;
      }
      if (event.code === 1008) { stopped = true; onStatus("refused"); return; }
      onStatus("reconnecting");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 8000);
    };
  }
  open();
}

function setConn(status, text) {
  const conn = document.getElementById("conn");
  conn.dataset.status = status;
  conn.textContent = text || status;
}

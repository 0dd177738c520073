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

function svgNode(tag, attrs, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

// The trend chart: how negative the customer sounds (0 calm .. 1 strongly upset), one point per
// customer turn, with its scale written on it so nobody has to guess what "up" means.
const SPARK = { left: 40, right: 196, top: 6, bottom: 46 };

function sparkline(svg, history) {
  const { left, right, top, bottom } = SPARK;
  const y = (v) => (bottom - v * (bottom - top)).toFixed(1);
  const parts = [
    svgNode("line", { x1: left, x2: right, y1: y(1), y2: y(1) }),
    svgNode("line", { x1: left, x2: right, y1: y(0), y2: y(0) }),
    svgNode("text", { x: 0, y: Number(y(1)) + 4 }, "upset"),
    svgNode("text", { x: 0, y: Number(y(0)) + 4 }, "calm"),
  ];
  const values = history || [];
  const step = values.length > 1 ? (right - left) / (values.length - 1) : 0;
  const points = values.map((v, i) => `${(left + i * step).toFixed(1)},${y(v)}`);
  if (values.length > 1) parts.push(svgNode("polyline", { points: points.join(" ") }));
  if (values.length) {
    const [x, last] = points[points.length - 1].split(",");
    parts.push(svgNode("circle", { cx: x, cy: last, r: 3 }));
  }
  const span = values.length ? `last ${values.length} customer turn${values.length === 1 ? "" : "s"}` : "no customer turn yet";
  parts.push(svgNode("text", { x: left, y: 58 }, span));
  svg.replaceChildren(...parts);
}

// Times: the server's clock (frames carry `at`) against this page's, so a wrong PC clock does
// not make a call look an hour long.
let clockOffset = 0;

function syncClock(serverAt) {
  if (typeof serverAt === "number") clockOffset = Date.now() / 1000 - serverAt;
}

function serverNow() { return Date.now() / 1000 - clockOffset; }

function elapsed(seconds) {
  // 0:07, 12:34, 1:02:03
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${sec}` : `${m}:${sec}`;
}

function clockTime(epoch) {
  // The wall-clock time of a server timestamp, in this browser's time zone: 14:03:21.
  if (typeof epoch !== "number") return "";
  return new Date((epoch + clockOffset) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
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

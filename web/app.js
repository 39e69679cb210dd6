/*
 * dag-cli's web UI: plain JavaScript, no build step, no framework.  Three
 * pages behind the URL's hash:
 *   #/                        the DAGs with their latest partition's states
 *   #/dag/NAME                progress of running backfills, the graph, the grid
 *   #/dag/NAME/TASK/PART      one instance: attempts and its log, tailed live
 * The grid comes from /api/dags/NAME/grid as runs (partitions as runs of
 * consecutive ids, each task's column as runs of equal state), is expanded
 * into one byte per cell, and only the rows in view are in the DOM, so ten
 * years of daily partitions scroll like ten.
 */
"use strict";

const STATES = {
  done: "\u2713", failed: "\u2717", missing: "\u25cb", waiting: "\u2026",
  running: "\u25b6", upstream_failed: "\u21e1", stale: "\u2248",
};
const ROW_H = 20;
const OVERSCAN = 15;
const main = document.getElementById("main");
let timers = [];
let page = 0;	/* bumped on every navigation: late answers are dropped */

function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k instanceof Node ? k : String(k));
  return e;
}

function chip(state, text) {
  return el("span", { class: "chip s-" + state, title: state },
    (STATES[state] || "") + " " + (text === undefined ? state : text));
}

async function getJSON(url) {
  const r = await fetch(url, { cache: "no-store" });
  const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.statusText);
  return j;
}

function every(ms, fn) {
  const id = setInterval(fn, ms);
  timers.push(id);
}

function stamp() {
  document.getElementById("updated").textContent =
    "updated " + new Date().toLocaleTimeString();
}

function crumbs(...parts) {
  const nav = document.getElementById("crumbs");
  nav.replaceChildren();
  for (const [text, href] of parts) {
    nav.append(" / ", href ? el("a", { href }, text) : text);
  }
}

function fmtDuration(s) {
  if (s === null || s === undefined) return "";
  if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + " s";
  const m = Math.floor(s / 60);
  if (m < 60) return m + " min " + Math.round(s % 60) + " s";
  return Math.floor(m / 60) + " h " + (m % 60) + " min";
}

function fmtTime(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
}

/* ---- the DAG list ---- */

async function dagList(my) {
  crumbs();
  const j = await getJSON("/api/dags");
  if (my !== page) return;
  const rows = j.dags.map((d) => el("tr", { "data-dag": d.name },
    el("td", {}, el("a", { href: "#/dag/" + encodeURIComponent(d.name) }, d.name)),
    el("td", {}, d.error ? el("span", { class: "err" }, d.error) : d.schedule),
    el("td", { class: "num" }, d.tasks === undefined ? "" : d.tasks),
    el("td", {}, d.latest || el("span", { class: "muted" }, "no runs yet")),
    el("td", {}, ...Object.entries(d.latest_states || {}).map(([s, n]) => chip(s, n))),
    el("td", {}, d.description || "")));
  main.replaceChildren(el("h1", {}, "DAGs"),
    rows.length ? el("table", { class: "list", id: "dags" },
      el("tr", {}, ...["DAG", "schedule", "tasks", "latest partition",
        "its states", "description"].map((h) => el("th", {}, h))), ...rows)
      : el("p", { class: "muted" }, "No DAG files in --dags."));
  stamp();
}

/* ---- the grid ---- */

function pad(n, w) { return String(n).padStart(w, "0"); }

/* The partition ids of a run: the first and its successors, day by day or hour by hour. */
function expandIds(runs) {
  const ids = [];
  for (const [first, n] of runs) {
    const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}))?$/.exec(first);
    if (!m || n === 1) { ids.push(first); continue; }
    const hourly = m[4] !== undefined;
    const t0 = Date.UTC(+m[1], +m[2] - 1, +m[3], hourly ? +m[4] : 0);
    for (let i = 0; i < n; i++) {
      const d = new Date(t0 + i * (hourly ? 3600e3 : 86400e3));
      let id = d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1, 2) + "-" +
        pad(d.getUTCDate(), 2);
      if (hourly) id += "T" + pad(d.getUTCHours(), 2);
      ids.push(id);
    }
  }
  return ids;
}

/* One byte per cell: column t, row i; 255 where the task has no instance. */
function expandCells(grid) {
  return grid.cells.map((runs) => {
    const col = new Uint8Array(grid.count);
    let at = 0;
    for (let k = 0; k < runs.length; k += 2) {
      col.fill(runs[k + 1] < 0 ? 255 : runs[k + 1], at, at + runs[k]);
      at += runs[k];
    }
    return col;
  });
}

class Grid {
  constructor(dag, host) {
    this.dag = dag;
    this.host = host;
    this.ids = [];
    this.cols = [];
    this.scroll = el("div", { id: "grid-scroll" });
    this.body = el("div", { id: "grid-body" });
    this.head = el("div", { class: "grid-head" });
    this.scroll.append(this.head, this.body);
    this.scroll.addEventListener("scroll", () => this.render(), { passive: true });
    host.replaceChildren(this.scroll);
    this.drawn = [-1, -1];
  }

  set(grid) {
    this.grid = grid;
    this.ids = expandIds(grid.partitions);
    this.cols = expandCells(grid);
    this.head.replaceChildren(el("span", { class: "label" }, "partition"),
      ...grid.tasks.map((t) => el("span", { class: "task", title: t }, t)));
    this.body.style.height = this.ids.length * ROW_H + "px";
    this.drawn = [-1, -1];
    this.render();
  }

  /* Row r shows the newest partition first. */
  partitionAt(r) { return this.ids.length - 1 - r; }

  render() {
    const n = this.ids.length;
    const top = Math.max(0, this.scroll.scrollTop - 96);
    const first = Math.max(0, Math.floor(top / ROW_H) - OVERSCAN);
    const last = Math.min(n, Math.ceil((top + this.scroll.clientHeight) / ROW_H) + OVERSCAN);
    if (first === this.drawn[0] && last === this.drawn[1]) return;
    this.drawn = [first, last];
    const names = this.grid.states;
    const frag = document.createDocumentFragment();
    for (let r = first; r < last; r++) {
      const p = this.partitionAt(r);
      const row = el("div", { class: "grid-row", "data-row": r });
      row.style.top = r * ROW_H + "px";
      row.append(el("span", { class: "label" }, this.ids[p]));
      for (let t = 0; t < this.cols.length; t++) {
        const s = this.cols[t][p];
        const name = s === 255 ? "none" : names[s];
        row.append(el("span", {
          class: "cell s-" + name, "data-task": this.grid.tasks[t],
          "data-partition": this.ids[p], "data-state": name,
          title: this.grid.tasks[t] + " " + this.ids[p] + ": " + name,
        }, s === 255 ? "" : STATES[name] || "?"));
      }
      frag.append(row);
    }
    this.body.replaceChildren(frag);
  }
}

function legend() {
  return el("div", { class: "legend" },
    ...Object.keys(STATES).map((s) => chip(s)));
}

/* ---- progress of running backfills ---- */

function progressView(runs) {
  if (!runs.length) return el("p", { class: "muted" }, "No run yet.");
  return el("div", {}, ...runs.map((r) => {
    const total = r.done + r.running + r.failed + r.upstream_failed + r.left || 1;
    const bar = el("div", { class: "bar" }, ...["done", "running", "failed",
      "upstream_failed"].map((s) => {
      const b = el("span", { class: "s-" + s });
      b.style.width = (100 * r[s] / total) + "%";
      return b;
    }));
    const eta = r.eta_s === null ? "" : " \u00b7 ETA " + fmtDuration(r.eta_s);
    return el("div", { class: "run", "data-run": r.run, "data-running": r.running ? "1" : "0" },
      el("div", {}, el("strong", {}, r.running ? "running" : "finished" +
        (r.status !== undefined ? " (exit " + r.status + ")" : "")), " ",
        el("code", {}, r.args)),
      bar,
      el("div", { class: "counts" },
        el("span", { "data-k": "done" }, "done " + r.done), " \u00b7 ",
        el("span", { "data-k": "running" }, "running " + r.running), " \u00b7 ",
        el("span", { "data-k": "failed" }, "failed " + (r.failed + r.upstream_failed)), " \u00b7 ",
        el("span", { "data-k": "left" }, "left " + r.left), " \u00b7 ",
        (r.rate_per_s || 0).toFixed(1) + "/s" + eta));
  }));
}

/* ---- a DAG's page ---- */

async function dagPage(my, name) {
  crumbs([name]);
  const base = "/api/dags/" + encodeURIComponent(name);
  const progress = el("div", { id: "progress" });
  const graph = el("div", { id: "graph" });
  const gridHost = el("div", { id: "grid" });
  const summary = el("div", { id: "summary" });
  main.replaceChildren(el("h1", {}, name),
    el("div", { class: "panels" },
      el("div", { class: "panel" }, el("h2", {}, "Runs"), progress),
      el("div", { class: "panel" }, el("h2", {}, "Graph (latest partition)"), graph)),
    el("h2", {}, "Task \u00d7 partition"), legend(), summary, gridHost);
  const grid = new Grid(name, gridHost);
  gridHost.addEventListener("click", (ev) => {
    const c = ev.target.closest(".cell");
    if (c && c.dataset.state !== "none")
      location.hash = "#/dag/" + encodeURIComponent(name) + "/" +
        encodeURIComponent(c.dataset.task) + "/" + encodeURIComponent(c.dataset.partition);
  });
  let active = false;
  let lastSvg = "";
  async function refreshGrid() {
    const g = await getJSON(base + "/grid");
    if (my !== page) return;
    grid.set(g);
    summary.replaceChildren(...Object.entries(g.counts).map(([s, n]) => chip(s, n)),
      el("span", { class: "muted" }, " " + g.total + " partitions, " + g.from + " \u2013 " + g.to));
    const r = await fetch(base + "/graph.svg", { cache: "no-store" });
    const svg = await r.text();
    if (my !== page) return;
    if (svg !== lastSvg) { graph.innerHTML = svg; lastSvg = svg; }
    stamp();
  }
  async function refreshProgress() {
    const p = await getJSON(base + "/progress");
    if (my !== page) return;
    progress.replaceChildren(progressView(p.runs));
    const now = p.runs.some((r) => r.running);
    /* Refresh the grid while a run goes on, and once more when it ends. */
    if (now || active) refreshGrid().catch(() => {});
    active = now;
  }
  await refreshGrid();
  await refreshProgress();
  every(1000, () => refreshProgress().catch(() => {}));
}

/* ---- an instance ---- */

async function instancePage(my, name, task, part) {
  const base = "/api/dags/" + encodeURIComponent(name);
  const q = "task=" + encodeURIComponent(task) + "&partition=" + encodeURIComponent(part);
  crumbs([name, "#/dag/" + encodeURIComponent(name)], [task + " " + part]);
  const info = el("div", { id: "instance" });
  const attempts = el("div", { id: "attempts" });
  const log = el("pre", { id: "log" });
  const which = el("span", { id: "log-which", class: "muted" });
  main.replaceChildren(el("h1", {}, task + " \u00b7 " + part), info,
    el("h2", {}, "Attempts"), attempts, el("h2", {}, "Log ", which), log);
  let shown = 0, offset = 0, busy = false, dec = new TextDecoder();

  function attemptsTable(list) {
    if (!list.length) return el("p", { class: "muted" }, "No attempt recorded.");
    const cols = ["#", "state", "started", "duration", "exit", "peak RSS",
      "records in", "out", "rejected", "error"];
    return el("table", { class: "list" }, el("tr", {}, ...cols.map((c) => el("th", {}, c))),
      ...list.map((a) => el("tr", { "data-attempt": a.attempt, onclick: () => {
        shown = a.attempt; offset = 0; log.textContent = ""; dec = new TextDecoder();
      } },
        el("td", { class: "num" }, a.attempt),
        el("td", {}, chip(a.state === "timeout" || a.state === "interrupted" ? "failed" : a.state, a.state)),
        el("td", {}, fmtTime(a.started_ms)),
        el("td", { class: "num" }, fmtDuration(a.duration_s)),
        el("td", {}, a.signal ? "signal " + a.signal : a.exit_code === undefined || a.exit_code === null ? "" : "exit " + a.exit_code),
        el("td", { class: "num" }, a.max_rss_kb > 0 ? (a.max_rss_kb / 1024).toFixed(1) + " MiB" : ""),
        el("td", { class: "num" }, a.records_in ?? ""),
        el("td", { class: "num" }, a.records_out ?? ""),
        el("td", { class: "num" }, a.records_rejected ?? ""),
        el("td", { class: "err" }, a.error || ""))));
  }

  async function refresh() {
    const j = await getJSON(base + "/instance?" + q);
    if (my !== page) return;
    info.replaceChildren(
      el("p", {}, chip(j.state || "missing"), " ", j.kind,
        j.target ? el("span", {}, " \u2192 ", el("code", {}, j.target)) : ""),
      j.rejects ? el("p", {}, "Rejects: ", el("a", { href: base + "/rejects?" + q, id: "rejects" },
        j.rejects)) : "");
    attempts.replaceChildren(attemptsTable(j.attempts));
    if (!shown && j.attempts.length) shown = j.attempts[j.attempts.length - 1].attempt;
    stamp();
  }

  /* Tail the log: ask for the bytes after what we have, 64 KiB at a time. */
  async function tail() {
    if (!shown || busy) return;
    busy = true;
    try {
      for (;;) {
        const r = await fetch(base + "/log?" + q + "&attempt=" + shown + "&offset=" + offset,
          { cache: "no-store" });
        if (my !== page || !r.ok) break;
        const buf = await r.arrayBuffer();
        const size = +r.headers.get("X-Log-Size");
        const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
        log.append(dec.decode(buf, { stream: true }));
        offset += buf.byteLength;
        which.textContent = "attempt " + shown + ", " + size + " bytes";
        if (stick) log.scrollTop = log.scrollHeight;
        if (!buf.byteLength || offset >= size) break;
      }
    } finally { busy = false; }
  }
  await refresh();
  await tail();
  every(1000, () => { refresh().then(tail).catch(() => {}); });
}

/* ---- routing ---- */

async function route() {
  for (const t of timers) clearInterval(t);
  timers = [];
  const my = ++page;
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean)
    .map(decodeURIComponent);
  try {
    if (parts[0] === "dag" && parts.length === 4) await instancePage(my, parts[1], parts[2], parts[3]);
    else if (parts[0] === "dag" && parts.length === 2) await dagPage(my, parts[1]);
    else await dagList(my);
  } catch (err) {
    if (my === page) main.replaceChildren(el("p", { class: "err" }, String(err.message || err)));
  }
  document.body.dataset.ready = "1";
}

window.addEventListener("hashchange", route);
route();

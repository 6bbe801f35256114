// The viewer's page: three views (traces, logs, metrics) over the JSON API, routed by the
// URL's hash, refreshed when /api/stats reports a new version. Every value from the network
// is set as text, never as HTML.
"use strict";

const view = document.getElementById("view");
const state = { version: -1, filters: { service: "", name: "", error: false, severity: "", text: "" } };

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "style") el.setAttribute("style", v);
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

async function get(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function duration(nanos) {
  const ms = nanos / 1e6;
  if (ms < 1) return (nanos / 1e3).toFixed(0) + " µs";
  if (ms < 1000) return ms.toFixed(ms < 10 ? 2 : 1) + " ms";
  return (ms / 1000).toFixed(2) + " s";
}

function clock(nanos) {
  if (!nanos) return "";
  const d = new Date(nanos / 1e6);
  return d.toLocaleTimeString([], { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
}

function value(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function kvTable(rows) {
  if (!rows || rows.length === 0) return h("p", { class: "muted" }, "none");
  return h("table", { class: "kv" }, rows.map((a) => h("tr", {}, h("td", {}, a.key), h("td", {}, value(a.value)))));
}

function route() {
  const [name, ...rest] = (location.hash.slice(1) || "traces").split("/").map(decodeURIComponent);
  for (const n of ["traces", "logs", "metrics"]) {
    document.getElementById("nav-" + n).classList.toggle("active", name === n || (n === "traces" && name === "trace"));
  }
  return { name, rest };
}

async function render() {
  const { name, rest } = route();
  try {
    if (name === "trace") await renderTrace(rest[0], rest[1]);
    else if (name === "logs") await renderLogs();
    else if (name === "metrics") await renderMetrics(rest[0]);
    else await renderTraces();
  } catch (error) {
    view.replaceChildren(h("div", { class: "empty" }, "Could not load: " + error.message));
  }
}

// ---- traces ---------------------------------------------------------------------------------

async function renderTraces() {
  const f = state.filters;
  const query = new URLSearchParams();
  if (f.service) query.set("service", f.service);
  if (f.name) query.set("name", f.name);
  if (f.error) query.set("error", "true");
  const data = await get("/api/traces?" + query);
  const services = h("select", { id: "filter-service", onchange: (e) => { f.service = e.target.value; render(); } },
    h("option", { value: "" }, "all services"),
    data.services.map((s) => { const o = h("option", { value: s }, s); if (s === f.service) o.selected = true; return o; }));
  const nameInput = h("input", { type: "text", id: "filter-name", placeholder: "span name contains…", value: f.name,
    onchange: (e) => { f.name = e.target.value; render(); } });
  const errors = h("input", { type: "checkbox", id: "filter-error", onchange: (e) => { f.error = e.target.checked; render(); } });
  errors.checked = f.error;
  const rows = data.traces.map((t) => h("tr", { class: "clickable trace-row", "data-trace": t.trace_id,
      onclick: () => { location.hash = "trace/" + t.trace_id; } },
    h("td", {}, t.error ? h("span", { class: "error-flag", title: "a span failed" }, "● ") : "", t.root_name),
    h("td", {}, t.services.join(", ")),
    h("td", {}, t.span_count),
    h("td", {}, duration(t.duration_nano)),
    h("td", { class: "muted" }, clock(t.start_unix_nano))));
  view.replaceChildren(
    h("div", { class: "filters" }, services, nameInput, h("label", {}, errors, " errors only")),
    rows.length === 0
      ? h("div", { class: "empty" }, "No traces yet. Send OTLP to the receiver and they appear here.")
      : h("table", { id: "trace-list" },
          h("tr", {}, ["root operation", "services", "spans", "duration", "started"].map((c) => h("th", {}, c))),
          rows));
}

function depths(spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]));
  const children = new Map();
  const roots = [];
  for (const s of spans) {
    if (s.parent_span_id && byId.has(s.parent_span_id)) {
      if (!children.has(s.parent_span_id)) children.set(s.parent_span_id, []);
      children.get(s.parent_span_id).push(s);
    } else roots.push(s);
  }
  // Depth-first, children by start time: a parent is always above what it called.
  const ordered = [];
  const walk = (s, depth) => {
    ordered.push({ span: s, depth });
    for (const c of (children.get(s.span_id) || []).sort((a, b) => a.start_unix_nano - b.start_unix_nano)) walk(c, depth + 1);
  };
  roots.sort((a, b) => a.start_unix_nano - b.start_unix_nano).forEach((r) => walk(r, 0));
  return ordered;
}

async function renderTrace(traceId, selected) {
  const data = await get("/api/traces/" + encodeURIComponent(traceId));
  const spans = data.spans;
  const critical = new Set(data.critical_path);
  const start = Math.min(...spans.map((s) => s.start_unix_nano));
  const end = Math.max(...spans.map((s) => s.end_unix_nano));
  const total = Math.max(end - start, 1);
  const chosen = spans.find((s) => s.span_id === selected) || null;
  const rows = depths(spans).map(({ span, depth }) => {
    const left = ((span.start_unix_nano - start) / total) * 100;
    const width = ((span.end_unix_nano - span.start_unix_nano) / total) * 100;
    const bar = h("div", {
      class: "wf-bar" + (span.status_code === "error" ? " error" : critical.has(span.span_id) ? " critical" : ""),
      style: `left:${left}%;width:${width}%`,
    });
    const label = h("span", { class: "wf-dur", style: left + width > 80 ? `right:${100 - left}%;margin-right:4px` : `left:calc(${left + width}% + 4px)` },
      duration(span.end_unix_nano - span.start_unix_nano));
    return h("div", { class: "wf-row" + (chosen && chosen.span_id === span.span_id ? " selected" : ""),
        "data-span": span.span_id, title: span.name,
        onclick: () => { location.hash = "trace/" + traceId + "/" + span.span_id; } },
      h("div", { class: "wf-label", style: `padding-left:${8 + depth * 16}px` },
        h("span", { class: "svc" }, span.service), span.name,
        span.status_code === "error" ? h("span", { class: "error-flag" }, " ✕") : ""),
      h("div", { class: "wf-track" }, bar, label));
  });
  const root = depths(spans)[0].span;
  view.replaceChildren(
    h("p", {}, h("a", { class: "link", href: "#traces" }, "← all traces")),
    h("h2", {}, root.name, h("span", { class: "muted" }, "  " + duration(total) + " · " + spans.length + " spans · trace " + traceId)),
    h("p", { class: "help" },
      "Each bar is one operation (a span): where it starts is when it began, its length is how long it took. " +
      "An indented row was called by the row above it. Orange bars are the critical path: the chain of calls " +
      "the request waited for, so making them faster makes the whole request faster. Red bars failed. Click a row for its details and logs."),
    h("p", { class: "legend" }, h("span", { style: "background:var(--bar)" }), "operation",
      h("span", { style: "background:var(--critical)" }), "critical path", h("span", { style: "background:var(--error)" }), "error"),
    h("div", { class: "layout" },
      h("div", { class: "waterfall", id: "waterfall" }, rows),
      h("div", { class: "panel", id: "span-panel" }, chosen ? await spanPanel(chosen) : h("p", { class: "muted" }, "Click a span to see its attributes, events, links and logs."))));
}

async function spanPanel(span) {
  const logs = await get("/api/logs?" + new URLSearchParams({ trace_id: span.trace_id, span_id: span.span_id }));
  return [
    h("h2", { id: "span-name" }, span.name),
    kvTable([
      { key: "service", value: span.service },
      { key: "kind", value: span.kind },
      { key: "duration", value: duration(span.end_unix_nano - span.start_unix_nano) },
      { key: "status", value: span.status_code + (span.status_message ? ": " + span.status_message : "") },
      { key: "span id", value: span.span_id },
      { key: "parent", value: span.parent_span_id || "none (root)" },
      { key: "scope", value: span.scope },
    ]),
    h("h3", {}, "Attributes"), h("div", { id: "span-attributes" }, kvTable(span.attributes)),
    h("h3", {}, "Events"),
    span.events.length === 0 ? h("p", { class: "muted" }, "none")
      : h("table", { class: "kv" }, span.events.map((e) => h("tr", {}, h("td", {}, clock(e.time_unix_nano) + " " + e.name),
          h("td", {}, e.attributes.map((a) => a.key + "=" + value(a.value)).join(", "))))),
    h("h3", {}, "Links"),
    span.links.length === 0 ? h("p", { class: "muted" }, "none")
      : h("table", { class: "kv" }, span.links.map((l) => h("tr", {}, h("td", {}, h("a", { class: "link", href: "#trace/" + l.trace_id + "/" + l.span_id }, l.trace_id)), h("td", {}, l.span_id)))),
    h("h3", {}, "Logs (" + logs.logs.length + ")"),
    h("div", { id: "span-logs" }, logs.logs.length === 0 ? h("p", { class: "muted" }, "none")
      : h("table", { class: "kv" }, logs.logs.map((r) => h("tr", { class: "span-log" }, h("td", {}, h("span", { class: "sev sev-" + r.severity }, r.severity), " " + clock(r.time_unix_nano)), h("td", {}, r.body))))),
    h("h3", {}, "Resource"), kvTable(span.resource),
  ];
}

// ---- logs -----------------------------------------------------------------------------------

async function renderLogs() {
  const f = state.filters;
  const query = new URLSearchParams();
  if (f.severity) query.set("severity", f.severity);
  if (f.text) query.set("text", f.text);
  const data = await get("/api/logs?" + query);
  const severity = h("select", { id: "filter-severity", onchange: (e) => { f.severity = e.target.value; render(); } },
    ["", "DEBUG", "INFO", "WARN", "ERROR"].map((s) => { const o = h("option", { value: s }, s ? s + " and above" : "every severity"); if (s === f.severity) o.selected = true; return o; }));
  const text = h("input", { type: "text", id: "filter-text", placeholder: "body or attribute contains…", value: f.text,
    onchange: (e) => { f.text = e.target.value; render(); } });
  const rows = data.logs.map((r) => h("tr", { class: "log-row" },
    h("td", { class: "muted" }, clock(r.time_unix_nano)),
    h("td", {}, h("span", { class: "sev sev-" + r.severity }, r.severity)),
    h("td", {}, r.service),
    h("td", {}, r.body),
    h("td", { class: "muted" }, r.attributes.map((a) => a.key + "=" + value(a.value)).join(", ")),
    h("td", {}, r.trace_id ? h("a", { class: "link trace-link", href: "#trace/" + r.trace_id + "/" + (r.span_id || "") }, "span") : "")));
  view.replaceChildren(
    h("div", { class: "filters" }, severity, text),
    rows.length === 0 ? h("div", { class: "empty" }, "No log records match.")
      : h("table", { id: "log-list" }, h("tr", {}, ["time", "severity", "service", "body", "attributes", "trace"].map((c) => h("th", {}, c))), rows));
}

// ---- metrics --------------------------------------------------------------------------------

const COLOURS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7"];

async function renderMetrics(name) {
  const data = await get("/api/metrics");
  const list = h("table", { id: "metric-list" },
    h("tr", {}, ["metric", "kind", "unit", "series", "points"].map((c) => h("th", {}, c))),
    data.metrics.map((m) => h("tr", { class: "clickable metric-row" + (m.name === name ? " selected" : ""),
        onclick: () => { location.hash = "metrics/" + encodeURIComponent(m.name); } },
      h("td", {}, m.name, m.description ? h("div", { class: "muted" }, m.description) : ""), h("td", {}, m.kind), h("td", {}, m.unit), h("td", {}, m.series), h("td", {}, m.points))));
  const detail = name ? await metricChart(name) : h("p", { class: "muted" }, "Click a metric to chart it.");
  view.replaceChildren(data.metrics.length === 0 ? h("div", { class: "empty" }, "No metrics yet.") : h("div", { class: "layout" }, list, h("div", {}, detail)));
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children.flat()) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function lineChart(series, pick) {
  const W = 600, H = 240, P = 40;
  const all = series.flatMap((s) => s.points.map((p) => [p.time_unix_nano, pick(p)])).filter(([, v]) => v !== null && v !== undefined);
  if (all.length === 0) return h("p", { class: "muted" }, "no points");
  const t0 = Math.min(...all.map((p) => p[0])), t1 = Math.max(...all.map((p) => p[0]));
  const v0 = Math.min(0, ...all.map((p) => p[1])), v1 = Math.max(...all.map((p) => p[1]), v0 + 1e-9);
  const x = (t) => P + ((t - t0) / Math.max(t1 - t0, 1)) * (W - 2 * P);
  const y = (v) => H - P + 10 - ((v - v0) / (v1 - v0)) * (H - 2 * P);
  const lines = series.map((s, i) => {
    const pts = s.points.map((p) => [p.time_unix_nano, pick(p)]).filter(([, v]) => v !== null && v !== undefined);
    return svg("g", {}, svg("polyline", { fill: "none", stroke: COLOURS[i % COLOURS.length], "stroke-width": 2, points: pts.map(([t, v]) => x(t) + "," + y(v)).join(" ") }),
      pts.map(([t, v]) => svg("circle", { class: "point", cx: x(t), cy: y(v), r: 2.5, fill: COLOURS[i % COLOURS.length] })));
  });
  return svg("svg", { viewBox: `0 0 ${W} ${H}` },
    svg("line", { x1: P, y1: H - P + 10, x2: W - P, y2: H - P + 10, stroke: "#999" }),
    svg("text", { x: 2, y: y(v1) + 4, "font-size": 11, fill: "#667085" }, +v1.toPrecision(4)),
    svg("text", { x: 2, y: y(v0), "font-size": 11, fill: "#667085" }, +v0.toPrecision(4)),
    svg("text", { x: P, y: H - 4, "font-size": 11, fill: "#667085" }, clock(t0)),
    svg("text", { x: W - P - 60, y: H - 4, "font-size": 11, fill: "#667085" }, clock(t1)),
    lines);
}

function bucketBars(point) {
  const W = 600, H = 200, P = 30;
  const counts = point.bucket_counts, max = Math.max(...counts, 1);
  const bw = (W - 2 * P) / counts.length;
  const label = (i) => (i < point.bounds.length ? "≤" + point.bounds[i] : ">" + (point.bounds[point.bounds.length - 1] ?? 0));
  return svg("svg", { viewBox: `0 0 ${W} ${H + 20}` }, counts.map((c, i) => svg("g", {},
    svg("rect", { class: "bucket", x: P + i * bw + 1, y: H - (c / max) * (H - P), width: Math.max(bw - 2, 1), height: (c / max) * (H - P), fill: "#4e79a7" }),
    svg("text", { x: P + i * bw + 2, y: H + 14, "font-size": 9, fill: "#667085" }, label(i)),
    c ? svg("text", { x: P + i * bw + 2, y: H - (c / max) * (H - P) - 3, "font-size": 9, fill: "#1d2330" }, c) : "")));
}

async function metricChart(name) {
  const m = await get("/api/metrics/" + encodeURIComponent(name));
  const series = Object.values(m.series);
  const legend = h("div", { class: "series-legend" }, series.map((s, i) => h("span", {}, h("span", { class: "swatch", style: "background:" + COLOURS[i % COLOURS.length] }),
    s.attributes.length ? s.attributes.map((a) => a.key + "=" + value(a.value)).join(", ") : "(no attributes)")));
  const head = h("h2", {}, m.name, h("span", { class: "muted" }, "  " + m.kind + (m.unit ? " · " + m.unit : "") + " · from " + m.service));
  if (m.kind === "histogram") {
    const latest = series.map((s) => s.points[s.points.length - 1]).filter(Boolean);
    return h("div", { class: "chart", id: "metric-chart" }, head,
      h("h3", {}, "p50 / p95 / p99 over time"), lineChart(series.flatMap((s) => [
        { points: s.points.map((p) => ({ time_unix_nano: p.time_unix_nano, v: p.p50 })) },
        { points: s.points.map((p) => ({ time_unix_nano: p.time_unix_nano, v: p.p95 })) },
        { points: s.points.map((p) => ({ time_unix_nano: p.time_unix_nano, v: p.p99 })) },
      ]), (p) => p.v),
      h("p", { class: "series-legend" }, h("span", {}, h("span", { class: "swatch", style: "background:" + COLOURS[0] }), "p50"),
        h("span", {}, h("span", { class: "swatch", style: "background:" + COLOURS[1] }), "p95"), h("span", {}, h("span", { class: "swatch", style: "background:" + COLOURS[2] }), "p99")),
      latest.flatMap((p, i) => [h("h3", {}, "Buckets of the latest point" + (series.length > 1 ? " · series " + (i + 1) : "") + ` · count ${p.count}, p50 ${fmt(p.p50)}, p95 ${fmt(p.p95)}, p99 ${fmt(p.p99)}`), bucketBars(p)]));
  }
  const pick = (p) => (p.type === "number" ? p.value : p.type === "summary" ? p.count : null);
  return h("div", { class: "chart", id: "metric-chart" }, head, lineChart(series, pick), legend);
}

function fmt(v) {
  return v === null || v === undefined ? "–" : (+v.toPrecision(4)).toString();
}

// ---- live updates ---------------------------------------------------------------------------

async function poll() {
  try {
    const stats = await get("/api/stats");
    const e = stats.evicted;
    document.getElementById("totals").textContent =
      `${stats.traces} traces · ${stats.spans} spans · ${stats.log_records} logs · ${stats.metrics} metrics` +
      (e.spans || e.log_records || e.points ? ` · evicted by retention: ${e.spans} spans, ${e.log_records} logs, ${e.points} points` : "");
    if (stats.version !== state.version) {
      const first = state.version === -1;
      state.version = stats.version;
      // A trace view is refreshed too: late spans of the trace may have arrived.
      if (!first) await render();
    }
  } catch (error) {
    document.getElementById("totals").textContent = "viewer unreachable: " + error.message;
  }
}

window.addEventListener("hashchange", render);
render().then(poll);
setInterval(poll, 1500);

// The mozaggregator dashboard: a probe picker, and three views (distribution, evolution,
// compare) over the HTTP API. Every number shown comes from the API; the page only lays it out.
import "./style.css";
import {
  ApiError,
  apiUrl,
  getJson,
  getToken,
  setToken,
  useServer,
  type CompareAnswer,
  type DateEntry,
  type EvolutionAnswer,
  type FilterOptions,
  type LabelsAnswer,
  type MetricAnswer,
  type MetricEntry,
  type Params,
} from "./api";
import { barChart, destroyCharts, escapeHtml, fmt, lineChart, prettyDate, type LineSeries } from "./charts";
import {
  GROUP_DIMS,
  MULTI_FILTERS,
  PCTS,
  TABLE_STATS,
  parseState,
  serializeState,
  type MultiFilter,
  type State,
} from "./state";

const server = new URLSearchParams(location.search).get("server") ?? "";
useServer(server);
let state: State = parseState(location.search);
let metricSearch = "";
let renderSeq = 0;
let needToken = false;
/** What the current view shows, for the downloads. */
let shown: { name: string; json: unknown; csv: string } | null = null;

const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document) => root.querySelector<T>(sel);
const picker = $("#picker")!;
const view = $("#view")!;
const statusEl = $("#status")!;

const FILTER_TITLES: Record<MultiFilter, string> = {
  application: "Application",
  architecture: "Architecture",
  os: "OS",
  osVersion: "OS version",
  child: "Process",
};
const STAT_TITLES: Record<string, string> = {
  mean: "mean",
  p5: "5th percentile",
  p25: "25th percentile",
  p50: "median",
  p75: "75th percentile",
  p95: "95th percentile",
  p99: "99th percentile",
};
const LABELLED_KINDS = new Set(["categorical", "boolean", "flag", "enumerated", "count"]);
const DISTANCE_TITLES: Record<string, string> = {
  bhattacharyya: "Bhattacharyya distance",
  ks: "Kolmogorov–Smirnov (largest CDF gap)",
  cdf_squared: "squared CDF differences (signed: > 0 when B is larger)",
};
/** Kinds without percentiles: their evolution shows the share of each value. */
const SHARE_KINDS = new Set(["categorical", "boolean", "flag"]);

// ---------------------------------------------------------------------------------------------
// State changes and history

function commit(patch: Partial<State>, push = true): void {
  state = { ...state, ...patch };
  const qs = `?${serializeState(state, server)}`;
  if (qs !== location.search) {
    if (push) history.pushState(null, "", qs);
    else history.replaceState(null, "", qs);
  }
  void render();
}

window.addEventListener("popstate", () => {
  state = parseState(location.search);
  void render();
});

// ---------------------------------------------------------------------------------------------
// API calls

const base = (prefix: string) => `/aggregates_by/${prefix}/channels/`;

function filterParams(s: State): Params {
  const p: Params = [];
  for (const f of MULTI_FILTERS) for (const v of s.filters[f]) p.push([f, v]);
  return p;
}

const rangeOf = (from: string, to: string) => (from === to ? from : `${from}..${to}`);

function selectionParams(s: State): Params {
  return [
    ["version", s.version],
    ["metric", s.metric],
    ["dates", rangeOf(s.from, s.to)],
    ...filterParams(s),
  ];
}

// ---------------------------------------------------------------------------------------------
// Rendering

function setStatus(html: string, kind: "info" | "error" | "" = "info"): void {
  statusEl.innerHTML = html;
  statusEl.className = kind;
}

function explain(e: unknown, what: string): string {
  if (e instanceof ApiError) {
    if (e.status === 403) {
      needToken = true;
      return `<p><strong>Authorization required.</strong> ${escapeHtml(what)} needs a token on this server (${escapeHtml(e.description)}). Enter it in the <a href="#token">token field</a>; it is kept for this browser tab only.</p>`;
    }
    if (e.status === 404 && e.description === "No such route") {
      return `<p><strong>This server does not answer this view.</strong> ${escapeHtml(e.url)} is not a route there: it may be a version without the Analysis API.</p>`;
    }
    if (e.status === 404) {
      return `<p><strong>No data.</strong> The server has nothing for ${escapeHtml(what)}: ${escapeHtml(e.description)}. Try other dates, fewer filters, another version or channel.</p>`;
    }
    if (e.status === 0) {
      return `<p><strong>The server did not answer.</strong> ${escapeHtml(e.url)}: ${escapeHtml(e.description)}</p>`;
    }
    return `<p><strong>The server refused the request (${e.status}${e.code ? ` ${escapeHtml(e.code)}` : ""}).</strong> ${escapeHtml(e.description)}</p>`;
  }
  return `<p><strong>Something went wrong.</strong> ${escapeHtml(String(e))}</p>`;
}

async function render(): Promise<void> {
  const seq = ++renderSeq;
  const stale = () => seq !== renderSeq;
  const focused = document.activeElement as HTMLInputElement | null;
  const focusId = focused?.id ?? "";
  const caret = focused && "selectionStart" in focused ? focused.selectionStart : null;
  needToken = false;
  shown = null;
  document.querySelectorAll<HTMLButtonElement>("#tabs [role=tab]").forEach((b) => {
    const on = b.dataset.view === state.view;
    b.setAttribute("aria-selected", String(on));
    b.tabIndex = on ? 0 : -1;
  });
  $("#server-note")!.textContent = server ? `data from ${server}` : "";
  setStatus("Loading…");
  try {
    const ok = await resolveSelection(stale);
    if (stale()) return;
    if (!ok || !state.metric) {
      renderPicker();
      if (ok) {
        destroyCharts();
        view.innerHTML = `<p class="hint">Pick a metric in the list to see its distribution, its evolution over dates, or to compare two selections.</p>`;
        setStatus("");
      }
      return;
    }
    // The view's first requests go out before the picker is laid out (a long metric list takes
    // a while): the network and the layout overlap.
    const viewDone = state.view === "dist" ? renderDistribution(stale) : state.view === "evo" ? renderEvolution(stale) : renderCompare(stale);
    renderPicker();
    await viewDone;
  } catch (e) {
    if (stale()) return;
    destroyCharts();
    view.innerHTML = "";
    setStatus(explain(e, `${state.metric || "this selection"} on ${state.channel} ${state.version}`), "error");
    renderPicker();
  } finally {
    if (!stale()) {
      restoreFocus(focusId, caret);
      document.body.dataset.ready = String(seq);
    }
  }
}

function restoreFocus(id: string, caret: number | null): void {
  if (!id) return;
  const el = document.getElementById(id) as HTMLInputElement | null;
  if (el && document.activeElement !== el) {
    el.focus();
    if (caret !== null && "setSelectionRange" in el && el.type !== "checkbox" && el.type !== "select-one") {
      try {
        el.setSelectionRange(caret, caret);
      } catch {
        /* not a text field */
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Selection: channels, versions, dates, filter options (defaults filled in, written to the URL)

let channels: string[] = [];
let dates: DateEntry[] = [];
let options: FilterOptions = {};

async function resolveSelection(stale: () => boolean): Promise<boolean> {
  channels = [];
  dates = [];
  options = {};
  [channels] = await Promise.all([getJson<string[]>(apiUrl(server, base(state.prefix))), definitionsLoaded]);
  if (stale()) return false;
  const patch: Partial<State> = {};
  let channel = state.channel;
  if (!channel) channel = channels.includes("nightly") ? "nightly" : (channels[0] ?? "");
  if (!channel) {
    setStatus(`<p><strong>No data.</strong> The server has no channels by ${state.prefix === "build_id" ? "build id" : "submission date"} yet.</p>`, "error");
    return false;
  }
  patch.channel = channel;
  try {
    dates = await getJson<DateEntry[]>(apiUrl(server, `${base(state.prefix)}${encodeURIComponent(channel)}/dates/`));
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      state = { ...state, ...patch };
      setStatus(explain(e, `the ${channel} channel`), "error");
      destroyCharts();
      view.innerHTML = "";
      return false;
    }
    throw e;
  }
  if (stale()) return false;
  const versions = versionsOf(dates);
  let version = state.version;
  if (!versions.includes(version)) version = versions[0] ?? "";
  patch.version = version;
  const vdates = datesOf(version);
  let { from, to } = state;
  if (!vdates.includes(to)) to = vdates[vdates.length - 1] ?? "";
  if (!vdates.includes(from) || from > to) from = vdates[Math.max(0, vdates.indexOf(to) - 29)] ?? to;
  patch.from = from;
  patch.to = to;
  if (state.date && !vdates.includes(state.date)) patch.date = "";
  if (version) {
    try {
      options = await getJson<FilterOptions>(apiUrl(server, "/filters/", [["channel", channel], ["version", version]]));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }
  if (stale()) return false;
  const changed = Object.entries(patch).some(([k, v]) => state[k as keyof State] !== v);
  if (changed) {
    state = { ...state, ...patch };
    history.replaceState(null, "", `?${serializeState(state, server)}`);
  }
  if (!version) {
    setStatus(`<p><strong>No data.</strong> The ${escapeHtml(channel)} channel has no dates yet.</p>`, "error");
    return false;
  }
  return true;
}

function versionsOf(ds: DateEntry[]): string[] {
  return [...new Set(ds.map((d) => d.version))].sort((a, b) => Number(b) - Number(a) || b.localeCompare(a));
}

/** The dates of a version, ascending. */
function datesOf(version: string, ds: DateEntry[] = dates): string[] {
  return [...new Set(ds.filter((d) => d.version === version).map((d) => d.date))].sort();
}

/** The dates of the selected range, ascending. */
function rangeDates(from = state.from, to = state.to, version = state.version): string[] {
  return datesOf(version).filter((d) => d >= from && d <= to);
}

const opt = (value: string, label: string, selected: boolean) =>
  `<option value="${escapeHtml(value)}"${selected ? " selected" : ""}>${escapeHtml(label)}</option>`;

function osPairs(): { os: string; version: string }[] {
  return (options.os ?? []).map((pair) => {
    const i = pair.indexOf(",");
    return i < 0 ? { os: pair, version: "" } : { os: pair.slice(0, i), version: pair.slice(i + 1) };
  });
}

function filterValues(f: MultiFilter): { value: string; label: string }[] {
  if (f === "os") return [...new Set(osPairs().map((p) => p.os))].map((v) => ({ value: v, label: v }));
  if (f === "osVersion") {
    const by = new Map<string, Set<string>>();
    for (const p of osPairs()) if (p.version) by.set(p.version, (by.get(p.version) ?? new Set()).add(p.os));
    return [...by.entries()].sort().map(([v, oses]) => ({ value: v, label: `${v} (${[...oses].join(", ")})` }));
  }
  const values = (options[f as keyof FilterOptions] ?? []) as string[];
  // Selected values stay visible even when this version does not list them.
  return [...new Set([...values, ...state.filters[f]])].map((v) => ({ value: v, label: v }));
}

function metricMatches(): string[] {
  const all = options.metric ?? [];
  const q = metricSearch.trim().toLowerCase();
  const words = q.split(/\s+/).filter(Boolean);
  return all.filter((m) => {
    const hay = `${m} ${descriptionOf(m)}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Descriptions of the metrics the server described so far (from its definitions). */
const descriptions = new Map<string, string>();

/** The server's definitions (`/dashboard/definitions.json`; empty for a server without them). */
let definitions: Record<string, { kind: string; description: string; keyed: boolean }> = {};
const definitionsLoaded = getJson<typeof definitions>(apiUrl(server, "/dashboard/definitions.json")).then(
  (d) => (definitions = d),
  () => (definitions = {}),
);

/** A stored metric's definition, with the server's name fallbacks. */
function definitionOf(metric: string): (typeof definitions)[string] | undefined {
  const base = metric.split("/")[0];
  return definitions[metric] ?? definitions[base] ?? definitions[base.replace(/^STARTUP_/, "")];
}

/** A stored metric's description: its definition's (or what the server answered with it). */
function descriptionOf(metric: string): string {
  return descriptions.get(metric) ?? definitionOf(metric)?.description ?? "";
}

function metricOptions(metrics: string[]): string {
  return metrics
    .map((m) => {
      const d = descriptionOf(m);
      return `<option value="${escapeHtml(m)}"${m === state.metric ? " selected" : ""}${d ? ` title="${escapeHtml(d)}"` : ""}>${escapeHtml(m)}</option>`;
    })
    .join("");
}

function renderPicker(): void {
  const versions = versionsOf(dates);
  const vdates = datesOf(state.version);
  const matches = metricMatches();
  const shownMatches = matches.slice(0, 500);
  if (state.metric && !shownMatches.includes(state.metric)) shownMatches.unshift(state.metric);
  const filters = MULTI_FILTERS.map((f) => {
    const values = filterValues(f);
    if (!values.length) return "";
    return `<fieldset class="filter"><legend>${FILTER_TITLES[f]} <span class="muted">(any of)</span></legend>${values
      .map(
        (v, i) =>
          `<label><input type="checkbox" id="f-${f}-${i}" data-filter="${f}" value="${escapeHtml(v.value)}"${state.filters[f].includes(v.value) ? " checked" : ""}> ${escapeHtml(v.label)}</label>`,
      )
      .join("")}</fieldset>`;
  }).join("");
  const token = getToken();
  picker.innerHTML = `
    <h2 class="visually-hidden">Probe picker</h2>
    <div class="row">
      <label>Dates by<select id="prefix">${opt("build_id", "build id", state.prefix === "build_id")}${opt("submission_date", "submission date", state.prefix === "submission_date")}</select></label>
      <label>Channel<select id="channel">${[...new Set([...channels, state.channel])].filter(Boolean).map((c) => opt(c, c, c === state.channel)).join("")}</select></label>
      <label>Version<select id="version">${versions.map((v) => opt(v, v, v === state.version)).join("")}</select></label>
    </div>
    <div class="row">
      <label>From<select id="from">${vdates.map((d) => opt(d, prettyDate(d), d === state.from)).join("")}</select></label>
      <label>To<select id="to">${vdates.map((d) => opt(d, prettyDate(d), d === state.to)).join("")}</select></label>
    </div>
    <label for="metric-search">Metric <span class="muted">(search names${Object.keys(definitions).length ? " and descriptions" : ""})</span></label>
    <input type="search" id="metric-search" placeholder="e.g. GC_MS" value="${escapeHtml(metricSearch)}" autocomplete="off" aria-controls="metric">
    <select id="metric" size="8" aria-label="Metrics (${matches.length} match)">${metricOptions(shownMatches)}</select>
    <p class="muted small" id="metric-description">${escapeHtml(state.metric ? descriptionOf(state.metric) : "")}</p>
    <p class="muted small" id="metric-count">${matches.length} of ${(options.metric ?? []).length} metrics${matches.length > 500 ? " (first 500 shown)" : ""}</p>
    ${filters}
    <label>Percentiles by<select id="method">${opt("interp", "interpolation within the bucket", state.method === "interp")}${opt("nearest", "nearest bucket bound", state.method === "nearest")}${opt("tmo", "telemetry.js (TMO)", state.method === "tmo")}</select></label>
    <details id="token-box"${needToken || token ? " open" : ""}>
      <summary>Authorization token</summary>
      <form id="token-form">
        <label for="token">Bearer token <span class="muted">(kept in this tab's sessionStorage)</span></label>
        <input type="password" id="token" autocomplete="off" value="${escapeHtml(token)}">
        <button type="submit" id="token-save">Use token</button>
        <button type="button" id="token-forget"${token ? "" : " disabled"}>Forget</button>
      </form>
    </details>`;
  if (needToken) $<HTMLInputElement>("#token")?.focus();
}

// Picker events (delegated: the picker is re-rendered on every state change).
picker.addEventListener("pointerdown", () => (metricListArrowed = false));

picker.addEventListener("change", (ev) => {
  const t = ev.target as HTMLInputElement | HTMLSelectElement;
  if (t instanceof HTMLInputElement && t.dataset.filter) {
    const f = t.dataset.filter as MultiFilter;
    const values = new Set(state.filters[f]);
    if (t.checked) values.add(t.value);
    else values.delete(t.value);
    commit({ filters: { ...state.filters, [f]: [...values] } });
    return;
  }
  switch (t.id) {
    case "prefix":
      commit({ prefix: t.value as State["prefix"], from: "", to: "", date: "" });
      break;
    case "channel":
      commit({ channel: t.value, version: "", from: "", to: "", date: "" });
      break;
    case "version":
      commit({ version: t.value, from: "", to: "", date: "" });
      break;
    case "from":
      commit({ from: t.value, to: t.value > state.to ? t.value : state.to });
      break;
    case "to":
      commit({ to: t.value, from: t.value < state.from ? t.value : state.from });
      break;
    case "metric":
      // Arrow keys walk the list without loading every metric on the way; Enter picks.
      if (!metricListArrowed) commit({ metric: t.value, label: "", date: "" });
      break;
    case "method":
      commit({ method: t.value as State["method"] });
      break;
  }
});

picker.addEventListener("input", (ev) => {
  const t = ev.target as HTMLInputElement;
  if (t.id !== "metric-search") return;
  metricSearch = t.value;
  const matches = metricMatches();
  const select = $<HTMLSelectElement>("#metric")!;
  select.innerHTML = metricOptions(matches.slice(0, 500));
  select.setAttribute("aria-label", `Metrics (${matches.length} match)`);
  $("#metric-count")!.textContent = `${matches.length} of ${(options.metric ?? []).length} metrics${matches.length > 500 ? " (first 500 shown)" : ""}`;
});

let metricListArrowed = false;

picker.addEventListener("keydown", (ev) => {
  const t = ev.target as HTMLElement;
  metricListArrowed = t.id === "metric" && ["ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"].includes(ev.key);
  // From the search field, arrow down moves into the list; Enter picks the first match.
  if (t.id === "metric-search" && (ev.key === "ArrowDown" || ev.key === "Enter")) {
    const select = $<HTMLSelectElement>("#metric")!;
    ev.preventDefault();
    if (ev.key === "Enter" && select.options.length) commit({ metric: select.options[0].value, label: "", date: "" });
    else {
      select.focus();
      if (select.selectedIndex < 0 && select.options.length) select.selectedIndex = 0;
    }
  }
  if (t.id === "metric" && ev.key === "Enter") {
    const select = t as HTMLSelectElement;
    if (select.value && select.value !== state.metric) commit({ metric: select.value, label: "", date: "" });
  }
});

picker.addEventListener("submit", (ev) => {
  ev.preventDefault();
  setToken($<HTMLInputElement>("#token")!.value.trim());
  void render();
});

picker.addEventListener("click", (ev) => {
  if ((ev.target as HTMLElement).id === "token-forget") {
    setToken("");
    void render();
  }
});

$("#tabs")!.addEventListener("click", (ev) => {
  const b = (ev.target as HTMLElement).closest<HTMLButtonElement>("[role=tab]");
  if (b?.dataset.view) commit({ view: b.dataset.view as State["view"] });
});

$("#tabs")!.addEventListener("keydown", (ev) => {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>("#tabs [role=tab]")];
  const i = tabs.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0 || (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft")) return;
  const next = tabs[(i + (ev.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
  next.focus();
  commit({ view: next.dataset.view as State["view"] });
});

// ---------------------------------------------------------------------------------------------
// Shared pieces of the views

function axisTitles(kind: string, description: string): { x: string; unit: string } {
  const unit = /(_MS|_MILLISECONDS?)$/i.test(state.metric) || /\bmillisecond/i.test(description) ? "ms" : /_KB$/i.test(state.metric) ? "KB" : /_BYTES?$/i.test(state.metric) ? "bytes" : /_US$/i.test(state.metric) ? "µs" : "";
  const scale = kind === "exponential" ? "log scale" : kind === "linear" ? "linear scale" : "";
  const what = LABELLED_KINDS.has(kind) || kind === "categorical" ? "value" : "bucket lower bound";
  return { x: `${what}${unit ? ` (${unit})` : ""}${scale ? `, ${scale}` : ""}`, unit };
}

function exportButtons(): string {
  return `<div class="exports"><button type="button" id="dl-csv">Download CSV</button><button type="button" id="dl-json">Download JSON</button> <button type="button" id="copy-link">Copy link</button></div>`;
}

view.addEventListener("click", (ev) => {
  const t = ev.target as HTMLElement;
  if (t.id === "dl-csv" || t.id === "dl-json") {
    if (!shown) return;
    const csv = t.id === "dl-csv";
    const blob = new Blob([csv ? shown.csv : JSON.stringify(shown.json, null, 2)], { type: csv ? "text/csv" : "application/json" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = `${shown.name}.${csv ? "csv" : "json"}`;
    document.body.append(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  } else if (t.id === "copy-link") {
    void navigator.clipboard?.writeText(location.href).then(
      () => (t.textContent = "Link copied"),
      () => (t.textContent = "Copy failed: use the address bar"),
    );
  } else if (t.dataset.label !== undefined) {
    commit({ label: t.dataset.label });
  }
});

view.addEventListener("change", (ev) => {
  const t = ev.target as HTMLInputElement;
  switch (t.id) {
    case "cdf":
      commit({ cdf: t.checked });
      return;
    case "dist-date":
      commit({ date: t.value });
      return;
    case "label-input":
      commit({ label: t.value });
      return;
    case "show-mean":
      commit({ mean: t.checked });
      return;
    case "by":
      commit({ by: t.value });
      return;
    case "stat":
      commit({ stat: t.value });
      return;
    case "b-version":
      commit({ b: { ...state.b, version: t.value } });
      return;
    case "b-channel":
      commit({ b: { ...state.b, channel: t.value, version: "" } });
      return;
    case "b-from":
      commit({ b: { ...state.b, from: t.value } });
      return;
    case "b-to":
      commit({ b: { ...state.b, to: t.value } });
      return;
  }
  if (t.dataset.pct) {
    const pcts = PCTS.filter((p) => (p === t.dataset.pct ? t.checked : state.pcts.includes(p)));
    commit({ pcts });
  } else if (t.dataset.bos !== undefined) {
    const os = new Set(state.b.os);
    if (t.checked) os.add(t.value);
    else os.delete(t.value);
    commit({ b: { ...state.b, os: [...os] } });
  }
});

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: unknown[][]) => rows.map((r) => r.map(csvCell).join(",")).join("\n") + "\n";

function chartFigure(id: string, caption: string): string {
  return `<figure class="chart" id="${id}" aria-label="${escapeHtml(caption)}"><figcaption class="visually-hidden">${escapeHtml(caption)}</figcaption></figure>`;
}

let firstChartMarked = false;
function markFirstChart(): void {
  if (firstChartMarked) return;
  firstChartMarked = true;
  performance.mark("first-chart");
}

function describe(answer: { description?: string; kind: string }): string {
  if (answer.description) descriptions.set(state.metric, answer.description);
  return `<p class="description"><strong>${escapeHtml(state.metric)}</strong> <span class="badge">${escapeHtml(answer.kind)}</span> ${escapeHtml(answer.description ?? "")}</p>`;
}

function filterSummary(): string {
  const parts = MULTI_FILTERS.filter((f) => state.filters[f].length).map((f) => `${FILTER_TITLES[f]}: ${state.filters[f].join(" or ")}`);
  return parts.length ? parts.join("; ") : "all OS, architectures, applications and processes";
}

// ---------------------------------------------------------------------------------------------
// Distribution

async function keyedLabels(stale: () => boolean, datesParam: string): Promise<LabelsAnswer | null> {
  try {
    const answer = await getJson<LabelsAnswer>(
      apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/labels/`, [
        ["version", state.version],
        ["metric", state.metric],
        ["dates", datesParam],
        ...filterParams(state),
        ["per_page", "10"],
      ]),
    );
    return stale() ? null : answer;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
    throw e;
  }
}

async function renderDistribution(stale: () => boolean): Promise<void> {
  const range = rangeDates();
  const date = state.date && range.includes(state.date) ? state.date : (range[range.length - 1] ?? state.to);
  const params: Params = [
    ["version", state.version],
    ["metric", state.metric],
    ["dates", date],
    ...filterParams(state),
    ["stats", TABLE_STATS.join(",")],
    ["pct_method", state.method],
  ];
  let url = apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/`, params);
  let answer: MetricAnswer;
  let noStats = false;
  try {
    answer = await getJson<MetricAnswer>(url);
  } catch (e) {
    // A server without the Analysis API refuses `stats` (405): show its histogram without them.
    if (!(e instanceof ApiError && e.status === 405)) throw e;
    url = apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/`, params.slice(0, -2));
    answer = await getJson<MetricAnswer>(url);
    noStats = true;
  }
  if (stale()) return;
  const keyed = answer.data.some((e) => e.label !== "");
  let labelsHtml = "";
  let entry: MetricEntry | undefined;
  if (keyed) {
    const top = await keyedLabels(stale, date);
    if (stale()) return;
    const topLabels = top?.labels ?? [...answer.data].sort((a, b) => b.count - a.count || a.label.localeCompare(b.label)).slice(0, 10).map((e) => ({ label: e.label, pings: e.count, samples: e.stats?.samples ?? null }));
    const label = state.label || topLabels[0]?.label || answer.data[0].label;
    entry = answer.data.find((e) => e.label === label);
    labelsHtml = `<section class="labels" aria-labelledby="labels-h"><h3 id="labels-h">Top labels on ${prettyDate(date)} <span class="muted">(${top?.total ?? answer.data.length} labels)</span></h3>
      <table class="numbers" id="top-labels"><thead><tr><th scope="col">label</th><th scope="col">pings</th><th scope="col">samples</th></tr></thead><tbody>${topLabels
        .map((l) => `<tr${l.label === label ? ' class="current"' : ""}><td><button type="button" class="link" data-label="${escapeHtml(l.label)}">${escapeHtml(l.label)}</button></td><td>${fmt(l.pings)}</td><td>${fmt(l.samples)}</td></tr>`)
        .join("")}</tbody></table>
      <label>Any label <input list="all-labels" id="label-input" value="${escapeHtml(label)}"></label>
      <datalist id="all-labels">${answer.data.map((e) => `<option value="${escapeHtml(e.label)}">`).join("")}</datalist></section>`;
    if (!entry) {
      destroyCharts();
      view.innerHTML = `${describe(answer)}${labelsHtml}<p class="error">No data for the label “${escapeHtml(label)}” on ${prettyDate(date)}.</p>`;
      setStatus("");
      return;
    }
  } else {
    entry = answer.data[0];
  }
  if (!entry) throw new ApiError(404, "no_data", "no data on that date", url);
  const n = answer.buckets.length;
  const counts = entry.histogram.slice(0, n);
  const total = counts.reduce((a, b) => a + b, 0);
  const proportions = counts.map((c) => (total > 0 ? c / total : 0));
  let acc = 0;
  const cdf = proportions.map((p) => (acc += p));
  const stats = entry.stats ?? {};
  const titles = axisTitles(answer.kind, answer.description);
  const labelled = LABELLED_KINDS.has(answer.kind) || typeof answer.buckets[0] === "string";
  const statRows = [
    ["samples", stats.samples ?? null],
    ["pings", entry.count],
    ...TABLE_STATS.map((s) => [s, stats[s] ?? null]),
    ...(stats.tmo_mean !== undefined ? [["tmo_mean", stats.tmo_mean]] : []),
  ] as [string, number | null][];
  destroyCharts();
  view.innerHTML = `${describe(answer)}
    <div class="controls">
      <label>Date<select id="dist-date">${range.map((d) => opt(d, prettyDate(d), d === date)).join("")}</select></label>
      <label class="check"><input type="checkbox" id="cdf"${state.cdf ? " checked" : ""}> show the CDF</label>
    </div>
    ${labelsHtml}
    ${chartFigure("dist-chart", `Distribution of ${state.metric}: proportion of samples per bucket`)}
    <div class="tables">
    <table class="numbers" id="stats-table"><caption>${escapeHtml(state.metric)}${entry.label ? ` [${escapeHtml(entry.label)}]` : ""}, ${escapeHtml(state.channel)} ${escapeHtml(state.version)}, ${prettyDate(date)}; ${escapeHtml(filterSummary())}; percentiles by ${state.method}${titles.unit ? `, in ${titles.unit}` : ""}${SHARE_KINDS.has(answer.kind) ? `; the mean and percentiles of ${escapeHtml(answer.kind)} metrics are not defined (–)` : ""}</caption>
      <tbody>${noStats ? `<tr><td colspan="2" class="muted">This server does not compute statistics (no Analysis API).</td></tr>` : ""}${statRows.map(([k, v]) => `<tr data-stat="${k}"><th scope="row">${escapeHtml(STAT_TITLES[k] && STAT_TITLES[k] !== k ? `${k} (${STAT_TITLES[k]})` : k)}</th><td data-value="${v ?? ""}">${fmt(v)}</td></tr>`).join("")}</tbody></table>
    ${
      labelled
        ? `<table class="numbers proportions" id="proportions"><caption>Proportions</caption><thead><tr><th scope="col">${answer.kind === "categorical" ? "label" : "value"}</th><th scope="col">count</th><th scope="col">proportion</th></tr></thead><tbody>${answer.buckets
            .map((b, i) => `<tr><th scope="row">${escapeHtml(String(b))}</th><td>${fmt(counts[i] ?? 0)}</td><td><span class="pbar" data-w="${proportions[i]}"></span>${fmt((proportions[i] ?? 0) * 100, 1)}%</td></tr>`)
            .join("")}</tbody></table>`
        : ""
    }
    </div>
    ${exportButtons()}`;
  view.querySelectorAll<HTMLSpanElement>(".pbar").forEach((s) => (s.style.width = `${Math.round(Number(s.dataset.w) * 100)}px`));
  const el = $("#dist-chart")!;
  el.dataset.bars = String(n);
  barChart(el, {
    title: `${state.metric}${entry.label ? ` [${entry.label}]` : ""} on ${prettyDate(date)}`,
    buckets: answer.buckets,
    series: [{ label: "proportion of samples", values: proportions }],
    cdf: state.cdf ? [cdf] : undefined,
    xTitle: titles.x,
    yTitle: "proportion of samples",
  });
  markFirstChart();
  shown = {
    name: `${state.metric}-${state.channel}-${state.version}-${date}`,
    json: { request: url, answer, shown: { label: entry.label, date, buckets: answer.buckets, counts, proportions, stats, pings: entry.count } },
    csv: csv([["bucket", "count", "proportion", "cumulative"], ...answer.buckets.map((b, i) => [b, counts[i] ?? 0, proportions[i], cdf[i]]), [], ["statistic", "value"], ...statRows]),
  };
  setStatus("");
}

// ---------------------------------------------------------------------------------------------
// Evolution

async function renderEvolution(stale: () => boolean): Promise<void> {
  const wanted = [...new Set([...(state.mean ? ["mean"] : []), ...state.pcts, ...(state.by ? [state.stat] : [])])];
  const params: Params = [...selectionParams(state), ["stats", (wanted.length ? wanted : ["mean"]).join(",")], ["pct_method", state.method]];
  let keyedLabel = "";
  if (state.by === "label") params.push(["top", "8"]);
  else if (state.by && state.by !== "version") params.push(["group_by", state.by]);
  const evolutionUrl = (p: Params) => apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/evolution/`, p);
  // A keyed metric without a split shows the chosen label (else the one with the most pings).
  // Whether the metric is keyed: from the definitions when they know it, else from the labels
  // route, asked at the same time as the (unlabelled) evolution.
  let guess: Promise<EvolutionAnswer> | null = null;
  const known = definitionOf(state.metric);
  if (state.by !== "label" && known?.keyed !== false) {
    if (state.by !== "version" && !known) {
      guess = getJson<EvolutionAnswer>(evolutionUrl(params));
      guess.catch(() => undefined);
    }
    const labels = await keyedLabels(stale, rangeOf(state.from, state.to));
    if (stale()) return;
    const named = labels?.labels.filter((l) => l.label !== "") ?? [];
    if (named.length) {
      keyedLabel = state.label || named[0].label;
      params.push(["label", keyedLabel]);
      guess = null;
    }
  }
  let url = evolutionUrl(params);
  let answer: EvolutionAnswer;
  if (guess) {
    answer = await guess;
  } else if (state.by === "version") {
    // One request per version with dates in the range (the newest 6), one line each.
    const versions = versionsOf(dates).filter((v) => datesOf(v).some((d) => d >= state.from && d <= state.to)).slice(0, 6);
    const urls = versions.map((v) => evolutionUrl(params.map(([k, x]) => [k, k === "version" ? v : x] as [string, string])));
    const answers = await Promise.all(urls.map((u) => getJson<EvolutionAnswer>(u).catch((e) => (e instanceof ApiError && e.status === 404 ? null : Promise.reject(e)))));
    const first = answers.find((a) => a !== null);
    if (!first) throw new ApiError(404, "no_data", "no version has data in this range", urls[0] ?? "");
    answer = { ...first, series: answers.flatMap((a, i) => (a?.series[0] ? [{ ...a.series[0], group: versions[i] }] : [])) };
    url = urls.join(" ");
  } else {
    answer = await getJson<EvolutionAnswer>(url);
  }
  if (stale()) return;
  const allDates = [...new Set(answer.series.flatMap((s) => s.data.map((p) => p.date)))].sort();
  // Metrics whose values are labels have no percentiles: their evolution is the share of each
  // value per date, from the metric route's histograms.
  let shares: { label: string; byDate: Map<string, number> }[] | null = null;
  let sharesAnswer: MetricAnswer | null = null;
  if (SHARE_KINDS.has(answer.kind) && state.by === "") {
    const p: Params = [...selectionParams(state), ...(keyedLabel ? [["label", keyedLabel] as [string, string]] : [])];
    sharesAnswer = await getJson<MetricAnswer>(apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/`, p));
    if (stale()) return;
    const n = sharesAnswer.buckets.length;
    const totals = sharesAnswer.buckets.map((_, i) => sharesAnswer!.data.reduce((a, e) => a + (e.histogram[i] ?? 0), 0));
    const keep = totals.map((t, i) => [t, i]).filter(([t]) => t > 0).sort((x, y) => y[0] - x[0]).slice(0, 8).map(([, i]) => i).sort((x, y) => x - y);
    shares = keep.map((i) => ({
      label: String(sharesAnswer!.buckets[i]),
      byDate: new Map(
        sharesAnswer!.data.map((e) => {
          const total = e.histogram.slice(0, n).reduce((a, b) => a + b, 0);
          return [e.date, total > 0 ? (e.histogram[i] ?? 0) / total : 0];
        }),
      ),
    }));
  }
  const at = (s: EvolutionAnswer["series"][number]) => new Map(s.data.map((p) => [p.date, p]));
  const titles = axisTitles(answer.kind, answer.description);
  const grouped = state.by !== "";
  const lines: LineSeries[] = [];
  const volume: LineSeries[] = [];
  const name = (s: EvolutionAnswer["series"][number]) => (state.by === "label" ? s.label : (s.group ?? s.label)) || "(none)";
  if (grouped) {
    for (const s of answer.series) {
      const m = at(s);
      lines.push({ label: name(s), values: allDates.map((d) => m.get(d)?.stats[state.stat] ?? null) });
      volume.push({ label: `${name(s)} pings`, values: allDates.map((d) => m.get(d)?.pings ?? null) });
    }
  } else if (shares) {
    // Categorical, boolean, flag: no percentiles; one line per value, its share of the samples.
    const s = answer.series[0];
    const m = s ? at(s) : new Map();
    for (const line of shares) lines.push({ label: line.label, values: allDates.map((d) => line.byDate.get(d) ?? null) });
    volume.push({ label: "pings", values: allDates.map((d) => m.get(d)?.pings ?? null) });
    volume.push({ label: "samples", values: allDates.map((d) => m.get(d)?.samples ?? null), scale: "y2" });
  } else {
    const s = answer.series[0];
    const m = s ? at(s) : new Map();
    for (const stat of [...state.pcts, ...(state.mean ? ["mean"] : [])]) {
      lines.push({ label: STAT_TITLES[stat] ?? stat, values: allDates.map((d) => m.get(d)?.stats[stat] ?? null), dash: stat === "mean" ? [8, 4] : undefined });
    }
    volume.push({ label: "pings", values: allDates.map((d) => m.get(d)?.pings ?? null) });
    volume.push({ label: "samples", values: allDates.map((d) => m.get(d)?.samples ?? null), scale: "y2" });
  }
  const dateAxis = state.prefix === "build_id" ? "build id date" : "submission date";
  const groupDims = GROUP_DIMS.map((g) => opt(g, g === "child" ? "process" : g === "osVersion" ? "OS version" : g === "os" ? "OS" : g === "version" ? "version" : g, g === state.by)).join("");
  destroyCharts();
  view.innerHTML = `${describe(answer)}
    <div class="controls">
      <fieldset class="inline"${grouped || shares ? " hidden" : ""}><legend>Lines</legend>${PCTS.map((p) => `<label class="check"><input type="checkbox" id="pct-${p}" data-pct="${p}"${state.pcts.includes(p) ? " checked" : ""}> ${p}</label>`).join("")}
        <label class="check"><input type="checkbox" id="show-mean"${state.mean ? " checked" : ""}> mean</label></fieldset>
      <label>Compare by<select id="by">${opt("", "— nothing —", state.by === "")}${groupDims}</select></label>
      ${grouped ? `<label>Statistic<select id="stat">${["mean", ...PCTS].map((s) => opt(s, STAT_TITLES[s] ?? s, s === state.stat)).join("")}</select></label>` : ""}
    </div>
    ${keyedLabel ? `<p class="muted">Label <strong>${escapeHtml(keyedLabel)}</strong> (pick another in the distribution view, or compare by label).</p>` : ""}
    ${chartFigure("evo-chart", `Evolution of ${state.metric} over ${dateAxis}s`)}
    ${chartFigure("volume-chart", "Pings and samples per date")}
    <details><summary>Data table</summary><table class="numbers" id="evo-table"><thead><tr><th scope="col">date</th>${[...lines, ...volume].map((l) => `<th scope="col">${escapeHtml(l.label)}</th>`).join("")}</tr></thead><tbody>${allDates
      .map((d, i) => `<tr><th scope="row">${prettyDate(d)}</th>${[...lines, ...volume].map((l) => `<td>${fmt(l.values[i])}</td>`).join("")}</tr>`)
      .join("")}</tbody></table></details>
    ${exportButtons()}`;
  if (!allDates.length) throw new ApiError(404, "no_data", "no dates with data in this range", url);
  const evoEl = $("#evo-chart")!;
  evoEl.dataset.points = String(allDates.length);
  evoEl.dataset.series = String(lines.length);
  lineChart(evoEl, {
    title: grouped ? `${STAT_TITLES[state.stat] ?? state.stat} of ${state.metric} by ${state.by}` : `${state.metric}${keyedLabel ? ` [${keyedLabel}]` : ""}`,
    dates: allDates,
    series: lines,
    xTitle: dateAxis,
    yTitle: shares ? "share of samples" : `value${titles.unit ? ` (${titles.unit})` : ""}`,
    percent: shares !== null,
  });
  markFirstChart();
  lineChart($("#volume-chart")!, {
    title: grouped ? "Pings per date" : "Pings and samples per date",
    dates: allDates,
    series: volume,
    xTitle: dateAxis,
    yTitle: "pings",
    y2Title: "samples",
  });
  shown = {
    name: `${state.metric}-${state.channel}-${state.version}-evolution`,
    json: { request: url, answer, ...(sharesAnswer ? { histograms: sharesAnswer } : {}) },
    csv: shares
      ? csv([["date", ...shares.map((l) => `share ${l.label}`)], ...allDates.map((d) => [d, ...shares!.map((l) => l.byDate.get(d) ?? null)])])
      : csv([
      ["series", "date", "pings", "samples", "sum", ...wanted],
      ...answer.series.flatMap((s) => s.data.map((p) => [name(s), p.date, p.pings, p.samples, p.sum, ...wanted.map((w) => p.stats[w] ?? null)])),
    ]),
  };
  setStatus("");
}

// ---------------------------------------------------------------------------------------------
// Compare

async function renderCompare(stale: () => boolean): Promise<void> {
  const bChannel = state.b.channel || state.channel;
  let bDates = dates;
  if (bChannel !== state.channel) {
    bDates = await getJson<DateEntry[]>(apiUrl(server, `${base(state.prefix)}${encodeURIComponent(bChannel)}/dates/`));
    if (stale()) return;
  }
  const bVersions = versionsOf(bDates);
  // Side B defaults: the previous version of the same channel, same range shape.
  const bVersion = state.b.version && bVersions.includes(state.b.version) ? state.b.version : (bVersions.find((v) => v !== state.version || bChannel !== state.channel) ?? state.version);
  const bvDates = datesOf(bVersion, bDates);
  const bTo = state.b.to && bvDates.includes(state.b.to) ? state.b.to : (bvDates[bvDates.length - 1] ?? "");
  const bFrom = state.b.from && bvDates.includes(state.b.from) && state.b.from <= bTo ? state.b.from : (bvDates[Math.max(0, bvDates.indexOf(bTo) - (rangeDates().length - 1))] ?? bTo);
  const params: Params = [
    ...selectionParams(state),
    ["stats", "mean,p5,p25,p50,p75,p95,p99"],
    ["pct_method", state.method],
    ["b.version", bVersion],
    ["b.dates", rangeOf(bFrom, bTo)],
  ];
  if (bChannel !== state.channel) params.push(["b.channel", bChannel]);
  for (const os of state.b.os) params.push(["b.os", os]);
  if (state.label) params.push(["label", state.label]);
  const osValues = [...new Set([...osPairs().map((p) => p.os), ...state.b.os])];
  const describeSide = (side: "a" | "b") =>
    side === "a"
      ? `${state.channel} ${state.version}, ${prettyDate(state.from)} – ${prettyDate(state.to)}${state.filters.os.length ? `, ${state.filters.os.join(" or ")}` : ""}`
      : `${bChannel} ${bVersion}, ${prettyDate(bFrom)} – ${prettyDate(bTo)}${state.b.os.length ? `, ${state.b.os.join(" or ")}` : state.filters.os.length ? `, ${state.filters.os.join(" or ")}` : ""}`;
  const controls = `<fieldset class="side-b"><legend>Selection B <span class="muted">(A is the picker's selection)</span></legend>
      <div class="row">
      <label>Channel<select id="b-channel">${channels.map((c) => opt(c, c, c === bChannel)).join("")}</select></label>
      <label>Version<select id="b-version">${bVersions.map((v) => opt(v, v, v === bVersion)).join("")}</select></label>
      <label>From<select id="b-from">${bvDates.map((d) => opt(d, prettyDate(d), d === bFrom)).join("")}</select></label>
      <label>To<select id="b-to">${bvDates.map((d) => opt(d, prettyDate(d), d === bTo)).join("")}</select></label>
      </div>
      ${osValues.length ? `<fieldset class="inline"><legend>OS of B <span class="muted">(none checked: as A)</span></legend>${osValues.map((o, i) => `<label class="check"><input type="checkbox" id="b-os-${i}" data-bos="" value="${escapeHtml(o)}"${state.b.os.includes(o) ? " checked" : ""}> ${escapeHtml(o)}</label>`).join("")}</fieldset>` : ""}
      <label class="check"><input type="checkbox" id="cdf"${state.cdf ? " checked" : ""}> show the CDFs</label>
    </fieldset>`;
  const url = apiUrl(server, `${base(state.prefix)}${encodeURIComponent(state.channel)}/compare/`, params);
  let answer: CompareAnswer;
  try {
    answer = await getJson<CompareAnswer>(url);
  } catch (e) {
    if (stale()) return;
    destroyCharts();
    view.innerHTML = controls;
    throw e;
  }
  if (stale()) return;
  const titles = axisTitles(answer.kind, "");
  const cum = (ps: number[]) => {
    let acc = 0;
    return ps.map((p) => (acc += p));
  };
  const stats = ["samples", "pings", "mean", ...Object.keys(answer.a.percentiles)];
  const sideValue = (s: CompareAnswer["a"], k: string) => (k === "samples" ? s.samples : k === "pings" ? s.pings : k === "mean" ? s.mean : (s.percentiles[k] ?? null));
  const rows = stats.map((k) => [k, sideValue(answer.a, k), sideValue(answer.b, k), answer.deltas[k]?.absolute ?? null, answer.deltas[k]?.relative ?? null] as const);
  destroyCharts();
  view.innerHTML = `<p class="description"><strong>${escapeHtml(state.metric)}</strong> <span class="badge">${escapeHtml(answer.kind)}</span></p>
    ${controls}
    <p class="legend-ab"><span class="sw a"></span> A: ${escapeHtml(describeSide("a"))} &nbsp; <span class="sw b"></span> B: ${escapeHtml(describeSide("b"))}</p>
    ${chartFigure("compare-chart", "Proportions of samples per bucket, A and B")}
    <div class="tables">
    <table class="numbers" id="compare-table"><caption>A and B${titles.unit ? ` (${titles.unit})` : ""}; deltas are B − A</caption>
      <thead><tr><th scope="col">statistic</th><th scope="col">A</th><th scope="col">B</th><th scope="col">B − A</th><th scope="col">relative</th></tr></thead>
      <tbody>${rows.map(([k, a, b, d, r]) => `<tr data-stat="${k}"><th scope="row">${escapeHtml(k)}</th><td data-value="${a ?? ""}">${fmt(a)}</td><td data-value="${b ?? ""}">${fmt(b)}</td><td data-value="${d ?? ""}">${fmt(d)}</td><td>${r === null ? "–" : `${fmt(r * 100, 3)}%`}</td></tr>`).join("")}</tbody></table>
    <table class="numbers" id="distances"><caption>Distances between A and B</caption><tbody>${Object.entries(answer.distances)
      .map(([k, v]) => `<tr data-distance="${escapeHtml(k)}"><th scope="row">${escapeHtml(DISTANCE_TITLES[k] ?? k.replace(/_/g, " "))}</th><td data-value="${v ?? ""}">${fmt(v)}</td></tr>`)
      .join("")}</tbody></table>
    </div>
    ${exportButtons()}`;
  const el = $("#compare-chart")!;
  el.dataset.series = "2";
  el.dataset.bars = String(answer.buckets.length);
  barChart(el, {
    title: `${state.metric}: A vs B`,
    buckets: answer.buckets,
    series: [
      { label: "A", values: answer.a.proportions },
      { label: "B", values: answer.b.proportions },
    ],
    cdf: state.cdf ? [cum(answer.a.proportions), cum(answer.b.proportions)] : undefined,
    xTitle: titles.x,
    yTitle: "proportion of samples",
  });
  markFirstChart();
  shown = {
    name: `${state.metric}-compare`,
    json: { request: url, answer },
    csv: csv([
      ["bucket", "proportion A", "proportion B"],
      ...answer.buckets.map((b, i) => [b, answer.a.proportions[i], answer.b.proportions[i]]),
      [],
      ["statistic", "A", "B", "B - A", "relative"],
      ...rows.map((r) => [...r]),
      [],
      ["distance", "value"],
      ...Object.entries(answer.distances),
    ]),
  };
  setStatus("");
}

void render();

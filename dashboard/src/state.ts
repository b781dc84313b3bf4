// The whole dashboard state, kept in the page's URL query string: a link reproduces the view,
// and back/forward walk through the states (pushState on every change).

export type View = "dist" | "evo" | "compare";
export type Prefix = "build_id" | "submission_date";
export type Method = "interp" | "nearest" | "tmo";

/** Filters that take several values (OR on the server). */
export const MULTI_FILTERS = ["application", "architecture", "os", "osVersion", "child"] as const;
export type MultiFilter = (typeof MULTI_FILTERS)[number];

/**
 * Dimensions the evolution can be split by: the API's `group_by` dimensions, `label` (the API's
 * `top`), and `version` (one evolution request per version).
 */
export const GROUP_DIMS = ["os", "osVersion", "architecture", "application", "child", "label", "version"] as const;

/** Percentile lines the evolution can draw. */
export const PCTS = ["p5", "p25", "p50", "p75", "p95", "p99"] as const;

/** The statistics the distribution table shows (and asks the server for). */
export const TABLE_STATS = ["mean", "p5", "p25", "p50", "p75", "p95", "p99"] as const;

export interface SideB {
  version: string;
  channel: string;
  os: string[];
  from: string;
  to: string;
}

export interface State {
  view: View;
  prefix: Prefix;
  channel: string;
  version: string;
  metric: string;
  /** Date range (inclusive, YYYYMMDD) of the evolution and the compare's side A. */
  from: string;
  to: string;
  /** Date of the distribution ("" = the range's last date). */
  date: string;
  filters: Record<MultiFilter, string[]>;
  /** Label of a keyed metric ("" = the one with the most pings). */
  label: string;
  method: Method;
  /** Evolution lines. */
  pcts: string[];
  mean: boolean;
  cdf: boolean;
  /** Evolution split ("" = none). */
  by: string;
  /** Statistic drawn per group when the evolution is split. */
  stat: string;
  b: SideB;
}

export function emptyState(): State {
  return {
    view: "dist",
    prefix: "build_id",
    channel: "",
    version: "",
    metric: "",
    from: "",
    to: "",
    date: "",
    filters: { application: [], architecture: [], os: [], osVersion: [], child: [] },
    label: "",
    method: "interp",
    pcts: ["p5", "p25", "p50", "p75", "p95"],
    mean: true,
    cdf: false,
    by: "",
    stat: "p50",
    b: { version: "", channel: "", os: [], from: "", to: "" },
  };
}

const oneOf = <T extends string>(v: string | null, allowed: readonly T[], fallback: T): T =>
  v !== null && (allowed as readonly string[]).includes(v) ? (v as T) : fallback;

/** The state a query string describes (unknown or missing values take their defaults). */
export function parseState(search: string): State {
  const q = new URLSearchParams(search);
  const s = emptyState();
  s.view = oneOf(q.get("view"), ["dist", "evo", "compare"] as const, "dist");
  s.prefix = oneOf(q.get("prefix"), ["build_id", "submission_date"] as const, "build_id");
  s.channel = q.get("channel") ?? "";
  s.version = q.get("version") ?? "";
  s.metric = q.get("metric") ?? "";
  s.from = q.get("from") ?? "";
  s.to = q.get("to") ?? "";
  s.date = q.get("date") ?? "";
  for (const f of MULTI_FILTERS) s.filters[f] = q.getAll(f).filter((v) => v !== "");
  s.label = q.get("label") ?? "";
  s.method = oneOf(q.get("method"), ["interp", "nearest", "tmo"] as const, "interp");
  if (q.has("pcts")) s.pcts = (q.get("pcts") ?? "").split(",").filter((p) => (PCTS as readonly string[]).includes(p));
  if (q.has("mean")) s.mean = q.get("mean") !== "0";
  s.cdf = q.get("cdf") === "1";
  s.by = oneOf(q.get("by"), ["", ...GROUP_DIMS] as const, "");
  s.stat = oneOf(q.get("stat"), ["mean", ...PCTS] as const, "p50");
  s.b = {
    version: q.get("b.version") ?? "",
    channel: q.get("b.channel") ?? "",
    os: q.getAll("b.os").filter((v) => v !== ""),
    from: q.get("b.from") ?? "",
    to: q.get("b.to") ?? "",
  };
  return s;
}

/** The query string of a state; defaults are left out so links stay short. `server` is kept. */
export function serializeState(s: State, server: string): string {
  const d = emptyState();
  const q = new URLSearchParams();
  if (server) q.set("server", server);
  const put = (k: string, v: string, def = "") => {
    if (v !== def) q.set(k, v);
  };
  put("view", s.view, d.view);
  put("prefix", s.prefix, d.prefix);
  put("channel", s.channel);
  put("version", s.version);
  put("metric", s.metric);
  put("from", s.from);
  put("to", s.to);
  put("date", s.date);
  for (const f of MULTI_FILTERS) for (const v of s.filters[f]) q.append(f, v);
  put("label", s.label);
  put("method", s.method, d.method);
  put("pcts", s.pcts.join(","), d.pcts.join(","));
  put("mean", s.mean ? "1" : "0", "1");
  put("cdf", s.cdf ? "1" : "0", "0");
  put("by", s.by);
  put("stat", s.stat, d.stat);
  put("b.version", s.b.version);
  put("b.channel", s.b.channel);
  for (const v of s.b.os) q.append("b.os", v);
  put("b.from", s.b.from);
  put("b.to", s.b.to);
  return q.toString();
}

// The HTTP API client: the server that serves the page, or another one given by `?server=`.
// A token (kept in sessionStorage) goes out as `Authorization: Bearer`.

// The token is kept per API server: a link with another `?server=` never receives the token
// entered for this one.
let tokenKey = "mozaggregator.token";
let memoryToken = "";

/** Names the API server the page reads ("" = its own origin). */
export function useServer(server: string): void {
  tokenKey = server ? `mozaggregator.token@${apiBase(server)}` : "mozaggregator.token";
  memoryToken = "";
}

/** An answer other than 2xx, with the server's `{code, description}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly url: string,
  ) {
    super(`${status} ${code}: ${description}`);
  }
}

export function getToken(): string {
  try {
    return sessionStorage.getItem(tokenKey) ?? "";
  } catch {
    return "";
  }
}

export function setToken(token: string): void {
  try {
    if (token) sessionStorage.setItem(tokenKey, token);
    else sessionStorage.removeItem(tokenKey);
  } catch {
    /* storage unavailable: the token lives for this page only */
  }
  memoryToken = token;
}


/** Base URL of the API, without a trailing slash ("" = this page's origin). */
export function apiBase(server: string): string {
  return server.replace(/\/+$/, "");
}

export type Params = [string, string][];

/** Joins a path and parameters (repeated names stay repeated: OR filters). */
export function apiUrl(server: string, path: string, params: Params = []): string {
  const q = new URLSearchParams();
  for (const [k, v] of params) q.append(k, v);
  const qs = q.toString();
  return `${apiBase(server)}${path}${qs ? `?${qs}` : ""}`;
}

const cache = new Map<string, Promise<unknown>>();

/** GETs JSON; identical requests share one answer while the token is the same. */
export function getJson<T>(url: string): Promise<T> {
  const token = getToken() || memoryToken;
  const key = `${token}\n${url}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = fetchJson(url, token);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit as Promise<T>;
}

async function fetchJson(url: string, token: string): Promise<unknown> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (e) {
    throw new ApiError(0, "network", `the server did not answer (${String(e)})`, url);
  }
  if (!response.ok) {
    let code = "";
    let description = response.statusText;
    try {
      const body = (await response.json()) as { code?: string; description?: string };
      code = body.code ?? "";
      description = body.description ?? description;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, code, description, url);
  }
  return response.json();
}

// ---- answer shapes (docs/api.md and the Analysis API) ----

export interface DateEntry {
  date: string;
  version: string;
}

export interface FilterOptions {
  metric?: string[];
  application?: string[];
  architecture?: string[];
  os?: string[];
  child?: string[];
}

export type Stats = Record<string, number | null>;

export interface MetricEntry {
  date: string;
  label: string;
  count: number;
  sum: number;
  histogram: number[];
  group?: string;
  stats?: Stats;
}

export interface MetricAnswer {
  buckets: (number | string)[];
  kind: string;
  description: string;
  data: MetricEntry[];
}

export interface EvolutionPoint {
  date: string;
  pings: number;
  samples: number;
  sum: number;
  stats: Stats;
}

export interface EvolutionAnswer {
  kind: string;
  description: string;
  metric: string;
  series: { label: string; group: string | null; data: EvolutionPoint[] }[];
}

export interface CompareSide {
  samples: number;
  pings: number;
  mean: number | null;
  percentiles: Stats;
  proportions: number[];
  tmo_mean?: number | null;
}

export interface CompareAnswer {
  kind: string;
  buckets: (number | string)[];
  a: CompareSide;
  b: CompareSide;
  deltas: Record<string, { absolute: number | null; relative: number | null }>;
  distances: Record<string, number | null>;
}

export interface LabelsAnswer {
  total: number;
  page: number;
  per_page: number;
  labels: { label: string; pings: number; samples: number }[];
}

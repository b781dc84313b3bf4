//! The OpenAPI 3 description served at `/openapi.json`, written by hand to match the routes of
//! [`crate::app`]. A test requests every documented path with its example parameters and checks
//! that the answer's status is one the document lists.

use serde_json::{json, Value};

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
}

fn query(name: &str, required: bool, description: &str, example: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description,
           "schema": {"type": "string"}, "example": example})
}

/// A query parameter whose values are constrained by `schema` (what the server accepts; a
/// value outside it answers 400).
fn query_with(name: &str, description: &str, example: Value, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": false, "description": description,
           "schema": schema, "example": example})
}

/// A statistic: `samples`, `mean` or `pN` with 0 ≤ N ≤ 100 (decimals allowed).
const STAT_PATTERN: &str = r"(samples|mean|p(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?))";

fn stats_schema() -> Value {
    json!({"type": "string", "pattern": format!("^{STAT_PATTERN}(,{STAT_PATTERN})*$")})
}

fn path_param(name: &str, description: &str, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}, "example": example})
}

/// The dimensions `group_by` accepts.
const GROUP_BY: [&str; 6] = [
    "application",
    "architecture",
    "os",
    "osVersion",
    "child",
    "label",
];

/// The metric routes' common query parameters (side A on `compare/`).
fn metric_params(prefix: &Value, channel: &Value) -> Vec<Value> {
    vec![
        prefix.clone(),
        channel.clone(),
        query("version", true, "Major version", "41"),
        query("dates", true, "Comma-separated `YYYYMMDD` dates and inclusive ranges `YYYYMMDD..YYYYMMDD` (a range counts as the dates it spans; at most the configured maximum of distinct dates)", "20150601,20150602"),
        query("metric", true, "Metric name (count histograms without `[[COUNT]]_`)", "GC_MS"),
        query("application", false, "Filter: application. Every filter may be repeated: its values are ORed (summed into one answer)", "Firefox"),
        query("architecture", false, "Filter: architecture", "x86"),
        query_with("child", "Filter: process (`parent`, `content`, `gpu`; legacy `true` = content, `false` = parent); anything else is 400", json!("parent"),
            json!({"type": "string", "enum": ["parent", "content", "gpu", "true", "false"]})),
        query("label", false, "Filter: key of a keyed metric", ""),
        query("os", false, "Filter: OS name", "Linux"),
        query("osVersion", false, "Filter: OS version", "3.1"),
    ]
}

/// The confidence levels `ci` accepts.
const CI_LEVELS: [&str; 3] = ["0.9", "0.95", "0.99"];

fn stats_params() -> Vec<Value> {
    vec![
        query_with("stats", "Comma-separated statistics: `mean`, `samples`, `pN` for 0 ≤ N ≤ 100 (`p99.9`); a bad token is 400", json!("mean,p50,p95"), stats_schema()),
        query_with("pct_method", "Percentile method: `interp` (default), `nearest` (GLAM), `tmo` (telemetry.js v2); anything else is 400", json!("interp"),
            json!({"type": "string", "enum": ["interp", "nearest", "tmo"]})),
        query_with("ci", "Confidence level of a jackknife interval for every statistic (mean, percentiles; proportions on `compare/`), over the store's replicate groups of clients (`aggregate --replicates R`): `0.9`, `0.95` or `0.99`, anything else is 400. Without `stats`, the default statistics. Data without complete replicate groups answers 409 `no_replicates`", json!("0.95"),
            json!({"type": "string", "enum": CI_LEVELS})),
    ]
}

/// An interval: the estimate from all replicate groups, its bounds and standard error.
fn interval_schema(excludes_zero: bool) -> Value {
    let mut properties = json!({
        "estimate": {"type": "number", "nullable": true, "description": "θ̂, from all replicate groups (pings without a client id are in none, so it may differ slightly from the plain statistic)"},
        "lower": {"type": "number", "nullable": true}, "upper": {"type": "number", "nullable": true},
        "se": {"type": "number", "nullable": true, "description": "Jackknife standard error"}});
    if excludes_zero {
        properties["excludes_zero"] =
            json!({"type": "boolean", "description": "`lower > 0` or `upper < 0`"});
    }
    json!({"type": "object", "nullable": true, "description": "`null` when it cannot be computed (no samples in the groups, or none left without one)", "properties": properties})
}

fn shape_params() -> Vec<Value> {
    vec![
        query_with("group_by", "Split the answer by `application`, `architecture`, `os`, `osVersion`, `child` or `label`; each entry carries `group`", json!("os"),
            json!({"type": "string", "enum": GROUP_BY})),
        query_with("top", "Keyed metrics: keep the K labels with the most pings, sum the rest into `__other__` per date (400 on an unkeyed metric)", json!(5),
            json!({"type": "integer", "minimum": 1, "maximum": 1_000_000})),
    ]
}

fn analysis_responses(what: &str, schema: &str) -> Value {
    json!({
        "200": {"description": what, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
        "304": {"description": "Not modified (`If-None-Match` matched, by submission_date only)"},
        "400": error_response("A bad parameter value (stat, method, group_by, top, range, page), too many dates, an answer over the size limit, or (compare) two layouts"),
        "403": error_response("Needs authorization (release channel, auth-only metric)"),
        "404": error_response("Missing version/dates/metric, malformed date, deny-listed metric, or no data"),
        "405": error_response("Unknown query parameter; see the `Allow` header"),
        "409": error_response("`ci` on data without complete replicate groups (code `no_replicates`): aggregated without `--replicates`, or with different counts on the dates or sides asked")})
}

/// The schemas of what `ci` adds to answers.
fn ci_schemas() -> [(&'static str, Value); 6] {
    let level = json!({"type": "number", "enum": [0.9, 0.95, 0.99]});
    [
        ("Interval", interval_schema(false)),
        ("DeltaInterval", interval_schema(true)),
        (
            "EntryCi",
            json!({"type": "object", "description": "With `ci`: each statistic's interval over the replicate groups", "properties": {
            "level": level,
            "replicates": {"type": "integer", "description": "R, the number of replicate groups"},
            "pings": {"type": "integer", "description": "Pings in the groups (pings without a client id are in none)"},
            "stats": {"type": "object", "description": "Each statistic of `stats` but `samples`, by name", "additionalProperties": {"$ref": "#/components/schemas/Interval"}}}}),
        ),
        (
            "DeltaCi",
            json!({"type": "object", "properties": {
            "absolute": {"$ref": "#/components/schemas/DeltaInterval"},
            "relative": {"$ref": "#/components/schemas/DeltaInterval"}}}),
        ),
        (
            "SideCi",
            json!({"type": "object", "description": "With `ci`: the intervals of the side's statistics", "properties": {
            "pings": {"type": "integer", "description": "Pings in the side's replicate groups"},
            "mean": {"$ref": "#/components/schemas/Interval"},
            "percentiles": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Interval"}},
            "proportions": {"type": "array", "items": {"$ref": "#/components/schemas/Interval"}}}}),
        ),
        (
            "ComparisonCi",
            json!({"type": "object", "description": "With `ci`: the verdict and the per-bucket deltas' intervals (groups of the two sides paired by index)", "properties": {
            "level": level,
            "replicates": {"type": "integer"},
            "threshold": {"type": "number"},
            "verdict": {"type": "string", "enum": ["same", "differs"], "nullable": true, "description": "`differs` when the interval of the median's or the mean's relative change excludes 0 and that change is at least `threshold` in magnitude (each interval read at level 1 − (1 − ci)/2, so that the verdict as a whole errs at most 1 − ci of the time); `null` when neither has an interval"},
            "triggered_by": {"type": "array", "items": {"type": "string", "enum": ["p50", "mean"]}},
            "checked": {"type": "object", "description": "The intervals of the relative changes the verdict read (the median's even when `stats` does not ask for it), each at level 1 − (1 − ci)/2", "properties": {
                "p50": {"$ref": "#/components/schemas/DeltaInterval"}, "mean": {"$ref": "#/components/schemas/DeltaInterval"}}},
            "proportions": {"type": "array", "description": "Each bucket's proportion delta (they do not drive the verdict)", "items": {"$ref": "#/components/schemas/DeltaCi"}}}}),
        ),
    ]
}

/// The document.
pub fn document() -> Value {
    let prefix = path_param(
        "prefix",
        "Aggregate family: `build_id` or `submission_date`; anything else is 404.",
        "submission_date",
    );
    let channel = path_param(
        "channel",
        "`nightly`, `aurora`, `beta` or `release`.",
        "nightly",
    );
    let auth_note = "Send `Authorization: Bearer TOKEN` for `release` and auth-only metrics.";
    let full_params = [
        metric_params(&prefix, &channel),
        stats_params(),
        shape_params(),
    ]
    .concat();
    let compare_params = [
        metric_params(&prefix, &channel),
        stats_params(),
        vec![
            query("b.version", false, "Side B: major version", "40"),
            query("b.dates", false, "Side B: dates", "20150601"),
            query("b.channel", false, "Side B: channel", "beta"),
            query(
                "b.os",
                false,
                "Side B: OS filter (repeatable; `*` removes it)",
                "Windows_NT",
            ),
            query_with(
                "threshold",
                "With `ci`: the smallest relative change of the median or the mean that the verdict calls `differs` (default 0.01, i.e. 1 %); a number from 0 (anything else is 400); unused without `ci`",
                json!("0.01"),
                json!({"type": "number", "minimum": 0}),
            ),
        ],
    ]
    .concat();
    let labels_params = [
        metric_params(&prefix, &channel),
        vec![
            query_with(
                "page",
                "Page, from 1",
                json!(1),
                json!({"type": "integer", "minimum": 1, "maximum": 1_000_000}),
            ),
            query_with(
                "per_page",
                "Labels per page (default 50, at most 1000)",
                json!(50),
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
        ],
    ]
    .concat();
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "mozaggregator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Firefox Telemetry histogram aggregates, wire-compatible with Mozilla's aggregates service (telemetry.js v2). Every path is also accepted without its trailing slash. Every response carries open CORS headers, `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'; default-src 'self'`. Any path answers OPTIONS (CORS preflight, 204) and HEAD; other methods answer 405. Any request may also answer 408 (timeout) or 414 (URL too long)."
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT or static token"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"code": {"type": "string"}, "description": {"type": "string"}}},
                "DateVersion": {"type": "object", "properties": {"date": {"type": "string", "example": "20150630"}, "version": {"type": "string", "example": "42"}}},
                "FilterOptions": {"type": "object", "properties": {
                    "metric": {"type": "array", "items": {"type": "string"}},
                    "application": {"type": "array", "items": {"type": "string"}},
                    "architecture": {"type": "array", "items": {"type": "string"}},
                    "os": {"type": "array", "items": {"type": "string"}, "description": "`os,osVersion` pairs"},
                    "child": {"type": "array", "items": {"type": "string", "enum": ["parent", "content", "gpu"]}}}},
                "MetricResponse": {"type": "object", "properties": {
                    "buckets": {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
                    "kind": {"type": "string", "enum": ["exponential", "linear", "boolean", "flag", "count", "enumerated", "categorical"]},
                    "description": {"type": "string"},
                    "data": {"type": "array", "items": {"type": "object", "properties": {
                        "date": {"type": "string"}, "label": {"type": "string"},
                        "count": {"type": "integer"}, "sum": {"type": "integer"},
                        "histogram": {"type": "array", "items": {"type": "integer"}},
                        "group": {"type": "string", "description": "With `group_by`: the group's value"},
                        "stats": {"$ref": "#/components/schemas/Stats"},
                        "stats_buckets": {"type": "object", "description": "With `stats`: each percentile's bucket `[lower, upper]` (upper null for the overflow bucket)", "additionalProperties": {"nullable": true, "type": "array", "items": {"type": "integer", "nullable": true}}},
                        "ci": {"$ref": "#/components/schemas/EntryCi"}}}}}},
                "Stats": {"type": "object", "description": "`samples` and each requested statistic by name (`mean`, `p50`, …; null when undefined); `tmo_mean` under `pct_method=tmo`", "properties": {"samples": {"type": "integer"}}, "additionalProperties": {"type": "number", "nullable": true}},
                "Evolution": {"type": "object", "properties": {
                    "kind": {"type": "string"}, "description": {"type": "string"}, "metric": {"type": "string"},
                    "series": {"type": "array", "items": {"type": "object", "properties": {
                        "label": {"type": "string"}, "group": {"type": "string", "nullable": true},
                        "data": {"type": "array", "items": {"type": "object", "properties": {
                            "date": {"type": "string"}, "pings": {"type": "integer"}, "samples": {"type": "integer"},
                            "sum": {"type": "integer"}, "stats": {"$ref": "#/components/schemas/Stats"},
                            "ci": {"$ref": "#/components/schemas/EntryCi"}}}}}}}}},
                "Side": {"type": "object", "properties": {
                    "samples": {"type": "integer"}, "pings": {"type": "integer"}, "mean": {"type": "number", "nullable": true},
                    "percentiles": {"type": "object", "additionalProperties": {"type": "number", "nullable": true}},
                    "proportions": {"type": "array", "items": {"type": "number"}},
                    "tmo_mean": {"type": "number", "nullable": true},
                    "ci": {"$ref": "#/components/schemas/SideCi"}}},
                "Comparison": {"type": "object", "properties": {
                    "kind": {"type": "string"},
                    "buckets": {"type": "array", "items": {"oneOf": [{"type": "integer"}, {"type": "string"}]}},
                    "a": {"$ref": "#/components/schemas/Side"}, "b": {"$ref": "#/components/schemas/Side"},
                    "deltas": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                        "absolute": {"type": "number", "nullable": true}, "relative": {"type": "number", "nullable": true},
                        "ci": {"$ref": "#/components/schemas/DeltaCi"}}}},
                    "distances": {"type": "object", "properties": {
                        "bhattacharyya": {"type": "number"}, "ks": {"type": "number"}, "cdf_squared": {"type": "number"}}},
                    "ci": {"$ref": "#/components/schemas/ComparisonCi"}}},
                "LabelPage": {"type": "object", "properties": {
                    "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                    "labels": {"type": "array", "items": {"type": "object", "properties": {
                        "label": {"type": "string"}, "pings": {"type": "integer"}, "samples": {"type": "integer"}}}}}},
                "MetricBody": {"type": "object", "additionalProperties": false, "properties": {
                    "version": {"type": "string"}, "metric": {"type": "string"},
                    "dates": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    "filters": {"type": "object", "additionalProperties": false, "properties": {
                        "application": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                        "architecture": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                        "child": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["parent", "content", "gpu", "true", "false"]}},
                        "label": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                        "os": {"type": "array", "minItems": 1, "items": {"type": "string"}},
                        "osVersion": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
                    "group_by": {"type": "string", "enum": GROUP_BY},
                    "stats": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": format!("^{STAT_PATTERN}$")}},
                    "pct_method": {"type": "string", "enum": ["interp", "nearest", "tmo"]},
                    "top": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                    "ci": {"oneOf": [{"type": "number", "enum": [0.9, 0.95, 0.99]}, {"type": "string", "enum": CI_LEVELS}]}}}
            }
        },
        "paths": {
            "/status": {"get": {"summary": "Liveness", "responses": {
                "200": {"description": "`OK`", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/__lbheartbeat__": {"get": {"summary": "Load-balancer heartbeat (empty body)", "responses": {
                "200": {"description": "Alive"}}}},
            "/__heartbeat__": {"get": {"summary": "Checks that the store answers", "responses": {
                "200": {"description": "`{\"status\":\"ok\",…}`"},
                "500": {"description": "The store failed"}}}},
            "/__version__": {"get": {"summary": "Build information (Dockerflow)", "responses": {
                "200": {"description": "`{\"source\",\"version\",\"commit\",\"build\"}`"}}}},
            "/openapi.json": {"get": {"summary": "This document", "responses": {
                "200": {"description": "OpenAPI 3 JSON"}}}},
            "/authed": {"get": {"summary": "Checks a bearer token", "security": [{"bearer": []}], "responses": {
                "200": {"description": "`Authenticated`"},
                "403": error_response("Missing, malformed or invalid token")}}},
            "/clear-cache": {"get": {"summary": "Empties the server's response cache", "security": [{"bearer": []}], "responses": {
                "200": {"description": "`Cache Cleared`"},
                "403": error_response("Missing, malformed or invalid token")}}},
            "/aggregates_by/{prefix}/channels/": {"get": {
                "summary": "Channels with data. `release` is listed only to authorized callers.",
                "parameters": [prefix],
                "responses": {
                    "200": {"description": "Channel names, sorted", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}},
                    "404": error_response("Unknown prefix")}}},
            "/aggregates_by/{prefix}/channels/{channel}/dates/": {"get": {
                "summary": "Dates and versions with data, newest first.",
                "description": auth_note,
                "parameters": [prefix, channel],
                "responses": {
                    "200": {"description": "`[{\"date\",\"version\"}]`", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/DateVersion"}}}}},
                    "403": error_response("`release` without authorization"),
                    "404": error_response("Unknown prefix")}}},
            "/filters/": {"get": {
                "summary": "Filter values known for a channel and version.",
                "description": "Metric names appear without `[[COUNT]]_`; deny-listed metrics never appear; auth-only metrics only to authorized callers. Empty dimensions are left out.",
                "parameters": [
                    query("channel", true, "Channel", "nightly"),
                    query("version", true, "Major version", "41")],
                "responses": {
                    "200": {"description": "Filter options", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FilterOptions"}}}},
                    "403": error_response("`release` without authorization"),
                    "404": error_response("Missing parameter, or nothing known")}}},
            "/aggregates_by/{prefix}/channels/{channel}/": {"get": {
                "summary": "One metric over some dates, merged over every series matching the filters.",
                "description": format!("{auth_note} Any parameter not listed here answers 405 with an `Allow` header holding the same URL without the unknown parameters. By `submission_date`, answers carry `Cache-Control: max-age=<cache timeout>` and an `ETag` that changes when new data lands; a matching `If-None-Match` answers 304. By `build_id`: `max-age` = time left in the server cache + 3600, no ETag. Without `stats`, `group_by`, `top` and `ci` the answer is exactly the original service's."),
                "parameters": full_params,
                "responses": analysis_responses("The metric", "MetricResponse")},
              "post": {
                "summary": "The same query with its parameters in a JSON body (no URL length limit).",
                "description": auth_note,
                "parameters": [prefix, channel],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MetricBody"}}}},
                "responses": {
                    "200": {"description": "The metric, as the GET answers it", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MetricResponse"}}}},
                    "400": error_response("Malformed body or a bad parameter value"),
                    "403": error_response("Needs authorization (release channel, auth-only metric)"),
                    "404": error_response("Missing version/dates/metric, malformed date, deny-listed metric, or no data"),
                    "409": error_response("`ci` on data without complete replicate groups (code `no_replicates`)"),
                    "413": error_response("Body over the size limit")}}},
            "/aggregates_by/{prefix}/channels/{channel}/evolution/": {"get": {
                "summary": "Per-date pings, samples, sum and statistics (default mean,p5,p25,p50,p75,p95), one series per label or group, without buckets.",
                "description": auth_note,
                "parameters": full_params,
                "responses": analysis_responses("The evolution", "Evolution")}},
            "/aggregates_by/{prefix}/channels/{channel}/compare/": {"get": {
                "summary": "Two selections of one metric and layout, each pooled over its dates and labels: statistics, deltas (B − A) and distances.",
                "description": format!("{auth_note} Side A is given by the usual parameters; side B by the same parameters with any of them overridden by a `b.`-prefixed one (`b.version`, `b.dates`, `b.channel`, `b.metric`, `b.os`, …); `b.FILTER=*` removes that filter on side B."),
                "parameters": compare_params,
                "responses": analysis_responses("The comparison", "Comparison")}},
            "/aggregates_by/{prefix}/channels/{channel}/labels/": {"get": {
                "summary": "The labels of a keyed metric with their pings and samples, most pings first, paged.",
                "description": auth_note,
                "parameters": labels_params,
                "responses": analysis_responses("The labels", "LabelPage")}}
        }
    });
    for (name, schema) in ci_schemas() {
        doc["components"]["schemas"][name] = schema;
    }
    doc
}

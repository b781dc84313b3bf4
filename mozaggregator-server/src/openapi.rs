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

fn path_param(name: &str, description: &str, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}, "example": example})
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
    json!({
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
                        "histogram": {"type": "array", "items": {"type": "integer"}}}}}}}
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
                "description": format!("{auth_note} Any parameter not listed here answers 405 with an `Allow` header holding the same URL without the unknown parameters. By `submission_date`, answers carry `Cache-Control: max-age=<cache timeout>` and an `ETag` that changes when new data lands; a matching `If-None-Match` answers 304. By `build_id`: `max-age` = time left in the server cache + 3600, no ETag."),
                "parameters": [prefix, channel,
                    query("version", true, "Major version", "41"),
                    query("dates", true, "Comma-separated `YYYYMMDD` dates (at most the configured maximum)", "20150601,20150602"),
                    query("metric", true, "Metric name (count histograms without `[[COUNT]]_`)", "GC_MS"),
                    query("application", false, "Filter: application", "Firefox"),
                    query("architecture", false, "Filter: architecture", "x86"),
                    query("child", false, "Filter: process (`parent`, `content`, `gpu`; legacy `true` = content, `false` = parent)", "parent"),
                    query("label", false, "Filter: key of a keyed metric", ""),
                    query("os", false, "Filter: OS name", "Linux"),
                    query("osVersion", false, "Filter: OS version", "3.1")],
                "responses": {
                    "200": {"description": "The metric", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MetricResponse"}}}},
                    "304": {"description": "Not modified (`If-None-Match` matched, by submission_date only)"},
                    "400": error_response("Too many dates, or an answer over the size limit"),
                    "403": error_response("Needs authorization (release channel, auth-only metric)"),
                    "404": error_response("Missing version/dates/metric, malformed date, deny-listed metric, or no data"),
                    "405": error_response("Unknown query parameter; see the `Allow` header")}}}
        }
    })
}

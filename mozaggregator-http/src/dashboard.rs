//! The web dashboard (`dashboard/` in the repository): its built files (`dashboard/dist/`) are
//! embedded in the binary, so serving it needs no Node and no files next to the binary.
//!
//! - `/`, `/index.html`, `/dashboard` and `/dashboard/` answer the page (`no-cache`, with an
//!   ETag: a new binary with a new page is picked up at once);
//! - `/dashboard/assets/NAME` answers a built asset; their names carry a content hash, so they
//!   are `immutable` for a year;
//! - `/dashboard/definitions.json` answers the server's definitions (`{"NAME": {"kind",
//!   "description", "keyed"}}`, `{}` without definition files), for the metric search over
//!   descriptions;
//! - `If-None-Match` matching the file's ETag answers 304; `HEAD` answers the headers.
//!
//! Only `GET` and `HEAD` of those paths are answered here (anything else falls through to the
//! API, which answers 404, 405 or a CORS preflight as for any path). The page may fetch from
//! another server (`?server=`), so these responses, and only these, carry a Content-Security-Policy
//! whose `connect-src` allows other origins ([`headers::DASHBOARD_CSP`]).

use std::time::Instant;

use mozaggregator_core::definitions::Definitions;
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::{Request, Response};
use rust_embed::Embed;

use crate::headers;

#[derive(Embed)]
#[folder = "../dashboard/dist/"]
struct Assets;

/// URL prefix of the built assets (Vite's `base` in `dashboard/vite.config.ts`).
const ASSETS: &str = "/dashboard/assets/";

/// Path of the definitions the page searches.
const DEFINITIONS: &str = "/dashboard/definitions.json";

/// The embedded file a path names, if it is one of the dashboard's paths.
fn file_for(path: &str) -> Option<(String, bool)> {
    match path {
        "/" | "/index.html" | "/dashboard" | "/dashboard/" => Some(("index.html".into(), false)),
        _ => {
            let name = path.strip_prefix(ASSETS)?;
            (!name.is_empty() && !name.contains("..")).then(|| (format!("assets/{name}"), true))
        }
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "map" => "application/json",
        _ => "application/octet-stream",
    }
}

/// True when the embedded dashboard has its page (a build without `dashboard/dist/index.html`
/// serves the API only).
pub fn available() -> bool {
    Assets::get("index.html").is_some()
}

/// The answer to a dashboard request, or `None` when the request is not one (the API handles
/// it). The common headers are set, with the dashboard's Content-Security-Policy.
pub fn respond(req: &Request, definitions: &Definitions) -> Option<Response> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    let start = Instant::now();
    let path = req.uri().path();
    let (name, body, hash, immutable) = if path == DEFINITIONS {
        let body = definitions_json(definitions);
        let hash = fnv1a(&body);
        ("definitions.json".to_string(), body, hash, false)
    } else {
        let (name, immutable) = file_for(path)?;
        let file = Assets::get(&name)?;
        let hash = file.metadata.sha256_hash()[..12].to_vec();
        (name, file.data.into_owned(), hash, immutable)
    };
    let etag = format!(
        "\"{}\"",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let cache_control = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let not_modified = req
        .header(header::IF_NONE_MATCH)
        .is_some_and(|inm| headers::etag_matches(inm, &etag));
    let builder = Response::builder()
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::ETAG, etag);
    let mut response = if not_modified {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder
            .status(StatusCode::OK)
            .content_type(content_type(&name))
            .body(body)
    };
    headers::add_common(&mut response);
    let csp = HeaderValue::from_static(headers::DASHBOARD_CSP);
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert("x-content-security-policy", csp);
    let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
    tracing::info!(method = %req.method(), target = %req.uri(), status = response.status().as_u16(), micros, "request");
    Some(response)
}

/// The definitions as `{"NAME": {"kind", "description", "keyed"}}`, sorted by name.
fn definitions_json(definitions: &Definitions) -> Vec<u8> {
    let map: serde_json::Map<String, serde_json::Value> = definitions
        .sorted()
        .into_iter()
        .map(|d| {
            let value = serde_json::json!({
                "kind": d.kind.to_string(),
                "description": d.description,
                "keyed": d.keyed,
            });
            (d.name.clone(), value)
        })
        .collect();
    serde_json::to_vec(&map).unwrap_or_default()
}

/// A 64-bit FNV-1a hash (an ETag for generated bodies).
fn fnv1a(bytes: &[u8]) -> Vec<u8> {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash.to_be_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_files() {
        assert_eq!(file_for("/"), Some(("index.html".into(), false)));
        assert_eq!(file_for("/dashboard/"), Some(("index.html".into(), false)));
        assert_eq!(
            file_for("/dashboard/assets/index-abc.js"),
            Some(("assets/index-abc.js".into(), true))
        );
        assert_eq!(file_for("/dashboard/assets/"), None);
        assert_eq!(file_for("/dashboard/assets/../index.html"), None);
        assert_eq!(file_for("/status"), None);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type("a.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("a.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
    }
}

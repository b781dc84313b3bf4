//! Headers every response carries (CORS, framing, CSP), CORS preflight answers, and
//! `If-None-Match` matching.

use poem::http::header::{self, HeaderName, HeaderValue};
use poem::http::StatusCode;
use poem::Response;

/// `Content-Security-Policy` of every API response.
pub const CSP: &str = "frame-ancestors 'none'; default-src 'self'";

/// `Content-Security-Policy` of the dashboard's own responses (page and assets): its scripts and
/// styles come from this server only, and it may fetch from another server given by `?server=`.
pub const DASHBOARD_CSP: &str =
    "frame-ancestors 'none'; default-src 'self'; connect-src 'self' http: https:; img-src 'self' data: blob:";

/// Methods the API answers on every path.
pub const METHODS: &str = "GET, HEAD, OPTIONS";

/// Methods a cross-origin caller may use (`POST` for metric queries with a JSON body).
pub const CORS_METHODS: &str = "GET, HEAD, OPTIONS, POST";

/// Request headers a cross-origin caller may send.
pub const ALLOWED_HEADERS: &str = "Authorization, Content-Type";

/// Adds the headers every response carries, errors included: open CORS, `X-Frame-Options`,
/// `Content-Security-Policy` (and its legacy `X-` twin).
pub fn add_common(response: &mut Response) {
    let h = response.headers_mut();
    let set = |h: &mut poem::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(
        h,
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        "ETag, Allow, X-Request-Id",
    );
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, HeaderName::from_static("x-content-security-policy"), CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
}

/// The answer to a CORS preflight (`OPTIONS`): 204 with the allowed methods and headers.
pub fn preflight(allow: &'static str) -> Response {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, CORS_METHODS)
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS)
        .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
        .header(header::ALLOW, allow)
        .finish()
}

/// True when an `If-None-Match` value matches `etag` (given quoted, e.g. `"v1"`). Accepts
/// quoted, unquoted and weak (`W/`) forms, comma-separated lists and `*`.
///
/// ```
/// use mozaggregator_http::headers::etag_matches;
/// assert!(etag_matches("\"v1\"", "\"v1\""));
/// assert!(etag_matches("v1", "\"v1\""));
/// assert!(etag_matches("W/\"v0\", W/\"v1\"", "\"v1\""));
/// assert!(etag_matches("*", "\"v1\""));
/// assert!(!etag_matches("v1_", "\"v1\""));
/// ```
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let wanted = bare(etag);
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || (!candidate.is_empty() && bare(candidate) == wanted))
}

fn bare(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag)
}

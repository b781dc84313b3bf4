//! Every error the HTTP API answers, and the one place that maps them to statuses.

use poem::http::{header, StatusCode};
use poem::Response;
use serde::Serialize;

use crate::request_id::RequestId;

/// An error answer of the HTTP API. [`ApiError::status`] is the only mapping from errors to
/// HTTP statuses; [`ApiError::into_response`] the only place their bodies are written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Nothing there: unknown route, prefix, metric, date; no data; deny-listed metric;
    /// a missing required parameter.
    #[error("{0}")]
    NotFound(String),
    /// Authorization is required (or was given and is not valid).
    #[error("{description}")]
    Forbidden {
        /// A stable code (`authorization_header_missing`, `token_expired`, …).
        code: &'static str,
        /// What is wrong.
        description: String,
    },
    /// A query parameter the route does not know; `allow` is the same URL without it.
    #[error("unknown query parameter(s): {unknown}")]
    UnknownParameter {
        /// The unknown parameter names, comma separated.
        unknown: String,
        /// The URL (path and query) without the unknown parameters.
        allow: String,
    },
    /// A method the path does not take; `allow` lists those it takes (the `Allow` header).
    #[error("method not allowed")]
    MethodNotAllowed {
        /// `GET, HEAD, OPTIONS`, plus `POST` on the metric route.
        allow: &'static str,
    },
    /// The query is too broad or malformed (too many dates, a response over the size limit).
    #[error("{0}")]
    BadRequest(String),
    /// An interval (`ci=`) was asked of data without complete replicate groups: the store
    /// was aggregated without `--replicates`, or with different counts on the dates (or sides)
    /// asked. The same query without `ci` answers.
    #[error("{0}")]
    NoReplicates(String),
    /// The request body is larger than the configured limit.
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The URL is longer than the configured limit.
    #[error("URL longer than {0} bytes")]
    UriTooLong(usize),
    /// The request took longer than the configured timeout.
    #[error("request timed out after {0} s")]
    Timeout(u64),
    /// The store cannot be reached (its database is down or unreachable); retrying later may
    /// succeed. The text goes to the log, never to the client.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The store or the server failed. The text (the whole error chain) goes to the log, never
    /// to the client: the answer names the request id instead.
    #[error("internal error: {0}")]
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    description: String,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::UnknownParameter { .. } | ApiError::MethodNotAllowed { .. } => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NoReplicates(_) => StatusCode::CONFLICT,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::NotFound(_) => "not_found",
            ApiError::Forbidden { code, .. } => code,
            ApiError::UnknownParameter { .. } => "unknown_parameter",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::NoReplicates(_) => "no_replicates",
            ApiError::UriTooLong(_) => "uri_too_long",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::Timeout(_) => "timeout",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    /// Shorthand for [`ApiError::NotFound`].
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::NotFound(message.into())
    }

    /// The response: JSON `{"code": …, "description": …}` with the status, plus `Allow` for 405.
    ///
    /// An [`ApiError::Internal`] is logged here, with `request_id` and its full text, and
    /// answered with a generic description that names `request_id` (store or system details
    /// never reach the client).
    pub fn into_response(self, request_id: RequestId) -> Response {
        let status = self.status();
        let description = match &self {
            ApiError::Internal(detail) => {
                tracing::error!(%request_id, error = %detail, "internal error");
                format!("internal error (request {request_id}); the server log has the details")
            }
            ApiError::Unavailable(detail) => {
                tracing::error!(%request_id, error = %detail, "store unavailable");
                format!(
                    "the store is unavailable (request {request_id}); try again later, the server \
                     log has the details"
                )
            }
            other => other.to_string(),
        };
        let body = serde_json::to_vec(&Body {
            code: self.code(),
            description,
        })
        .unwrap_or_default();
        let mut builder = Response::builder()
            .status(status)
            .content_type("application/json")
            .header(header::CACHE_CONTROL, "no-store");
        match &self {
            ApiError::UnknownParameter { allow, .. } => {
                builder = builder.header(header::ALLOW, allow.as_str());
            }
            ApiError::MethodNotAllowed { allow } => {
                builder = builder.header(header::ALLOW, *allow);
            }
            _ => {}
        }
        builder.body(body)
    }
}

impl From<mozaggregator_core::Error> for ApiError {
    fn from(err: mozaggregator_core::Error) -> Self {
        match err {
            mozaggregator_core::Error::Invalid { .. } => ApiError::BadRequest(err.to_string()),
            mozaggregator_core::Error::NoReplicates(_) => ApiError::NoReplicates(err.to_string()),
            mozaggregator_core::Error::MissingParameter(name) => {
                ApiError::not_found(format!("Missing parameter `{name}`"))
            }
            ref e if e.store_kind() == Some(mozaggregator_core::StoreErrorKind::Unavailable) => {
                ApiError::Unavailable(chain(e))
            }
            other => ApiError::Internal(chain(&other)),
        }
    }
}

/// An error and its sources, `: `-separated (thiserror's `Display` shows only the first).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        let next = e.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = e.source();
    }
    text
}

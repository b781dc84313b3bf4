//! The HTTP API (docs/api.md): routing, caching and response shapes, as one poem [`Endpoint`].
//!
//! Every request goes through [`App::call`]: the method and URL length are checked, the path is
//! routed, the handler runs under the request timeout (store reads on the blocking pool,
//! bounded in number), errors become responses in [`ApiError::into_response`], and the common
//! headers are added to whatever comes out. Paths are accepted with or without their trailing
//! slash.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use mozaggregator_core::access::Access;
use mozaggregator_core::analysis::{Comparison, Evolution, LabelPage, MetricRequest};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::params::{Accepts, MetricParams, ParsedParams, PostBody};
use mozaggregator_core::query::ApiFilterOptions;
use mozaggregator_core::{Prefix, Store};
use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, Request, Response};

use crate::api_error::ApiError;
use crate::auth::{AuthError, Authenticator};
use crate::cache::{CacheKey, CacheLimits, CachedBody, ResponseCache};
use crate::config::ServerConfig;
use crate::headers;
use crate::reads::Reads;
use crate::request_id::{self, RequestId};

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

/// The HTTP API endpoint. Cheap to clone (shared state).
///
/// ```
/// use std::sync::Arc;
/// use mozaggregator_core::{definitions::Definitions, MemoryStore};
/// use mozaggregator_http::{app::App, config::ServerConfig};
/// let app = App::new(Arc::new(MemoryStore::new()), Arc::new(Definitions::new()),
///     ServerConfig::default());
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct App {
    state: Arc<State>,
}

struct State {
    store: Arc<dyn Store>,
    definitions: Arc<Definitions>,
    config: ServerConfig,
    cache: ResponseCache,
    reads: Reads,
    version: AtomicU64,
    version_checked: Mutex<Option<Instant>>,
}

/// The routes, after the path is split into segments.
enum Route<'a> {
    Status,
    Authed,
    ClearCache,
    Heartbeat,
    LbHeartbeat,
    Version,
    OpenApi,
    Filters,
    Channels(&'a str),
    Dates(&'a str, &'a str),
    Metric(&'a str, &'a str),
    Analysis(&'a str, &'a str, Analysis),
}

/// The Analysis API's routes under a channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Analysis {
    Evolution,
    Compare,
    Labels,
}

impl App {
    /// The API over a store and definitions.
    pub fn new(store: Arc<dyn Store>, definitions: Arc<Definitions>, config: ServerConfig) -> Self {
        let cache = ResponseCache::new(CacheLimits {
            timeout: config.cache_timeout,
            max_entries: config.cache_max_entries,
            max_bytes: config.cache_max_bytes,
        });
        let reads = Reads::new(
            config.limits.max_concurrent_reads,
            config.limits.inline_lone_reads,
        );
        Self {
            state: Arc::new(State {
                store,
                definitions,
                config,
                cache,
                reads,
                version: AtomicU64::new(u64::MAX),
                version_checked: Mutex::new(None),
            }),
        }
    }

    /// The response cache (for inspection).
    pub fn cache(&self) -> &ResponseCache {
        &self.state.cache
    }
}

impl Endpoint for App {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        if let Some(response) = crate::dashboard::respond(&req, &self.state.definitions) {
            return Ok(response);
        }
        let start = Instant::now();
        let request_id = RequestId::next();
        let method = req.method().clone();
        let target = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
        let timeout = self.state.config.limits.request_timeout;
        let state = Arc::clone(&self.state);
        // A request line too long for hyper, rewritten by the listener (see `listener`).
        let too_long = target
            .strip_prefix(crate::listener::URI_TOO_LONG_PATH)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|n| n.parse::<u64>().ok());
        let (target, mut response) = if let Some(n) = too_long {
            let limit = self.state.config.limits.max_url_bytes;
            (
                format!("<request line of {n} bytes>"),
                ApiError::UriTooLong(limit).into_response(request_id),
            )
        } else {
            let response = match tokio::time::timeout(timeout, state.handle(req)).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => err.into_response(request_id),
                Err(_) => ApiError::Timeout(timeout.as_secs()).into_response(request_id),
            };
            (target, response)
        };
        headers::add_common(&mut response);
        if let Ok(value) = request_id.to_string().parse() {
            response.headers_mut().insert(request_id::HEADER, value);
        }
        let target = loggable(target);
        let status = response.status().as_u16();
        let micros = u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX);
        if status >= 500 {
            tracing::warn!(%request_id, %method, %target, status, micros, "request");
        } else {
            tracing::info!(%request_id, %method, %target, status, micros, "request");
        }
        Ok(response)
    }
}

/// Longest request target written to the log as it is.
const MAX_LOGGED_TARGET: usize = 1024;

/// `target` for the request log: cut after [`MAX_LOGGED_TARGET`] bytes (with its length), so a
/// flood of long URLs cannot flood the log.
fn loggable(target: String) -> String {
    if target.len() <= MAX_LOGGED_TARGET {
        return target;
    }
    let mut cut = MAX_LOGGED_TARGET;
    while !target.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}… ({} bytes)", &target[..cut], target.len())
}

/// The methods `path` takes, for `Allow`: the metric route also takes `POST`.
fn allowed_methods(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["aggregates_by", _, "channels", _] => headers::CORS_METHODS,
        _ => headers::METHODS,
    }
}

fn route(segments: &[String]) -> Option<Route<'_>> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    Some(match s.as_slice() {
        ["status"] => Route::Status,
        ["authed"] => Route::Authed,
        ["clear-cache"] => Route::ClearCache,
        ["__heartbeat__"] => Route::Heartbeat,
        ["__lbheartbeat__"] => Route::LbHeartbeat,
        ["__version__"] => Route::Version,
        ["openapi.json"] => Route::OpenApi,
        ["filters"] => Route::Filters,
        ["aggregates_by", prefix, "channels"] => Route::Channels(prefix),
        ["aggregates_by", prefix, "channels", channel] => Route::Metric(prefix, channel),
        ["aggregates_by", prefix, "channels", channel, "dates"] => Route::Dates(prefix, channel),
        ["aggregates_by", prefix, "channels", channel, "evolution"] => {
            Route::Analysis(prefix, channel, Analysis::Evolution)
        }
        ["aggregates_by", prefix, "channels", channel, "compare"] => {
            Route::Analysis(prefix, channel, Analysis::Compare)
        }
        ["aggregates_by", prefix, "channels", channel, "labels"] => {
            Route::Analysis(prefix, channel, Analysis::Labels)
        }
        _ => return None,
    })
}

/// The request facts handlers need, detached from the request.
struct Call {
    path: String,
    target: String,
    query: String,
    authorization: Option<String>,
    if_none_match: Option<String>,
    /// The verdict on `authorization`, computed on first use: a token is verified once per
    /// request, however many checks ask.
    auth: OnceLock<Result<(), AuthError>>,
}

impl Call {
    /// Whether the request's `Authorization` header passes `auth` (verified once).
    fn auth(&self, auth: &Authenticator) -> Result<(), ApiError> {
        self.auth
            .get_or_init(|| auth.check(self.authorization.as_deref()))
            .clone()
            .map_err(ApiError::from)
    }
}

impl State {
    async fn handle(self: Arc<Self>, mut req: Request) -> Result<Response, ApiError> {
        let allow = allowed_methods(req.uri().path());
        let post = match *req.method() {
            Method::OPTIONS => return Ok(headers::preflight(allow)),
            Method::GET | Method::HEAD => false,
            Method::POST => true,
            _ => return Err(ApiError::MethodNotAllowed { allow }),
        };
        let uri = req.uri();
        let path = uri.path().to_string();
        let target = uri
            .path_and_query()
            .map_or_else(|| path.clone(), |p| p.as_str().to_string());
        if target.len() > self.config.limits.max_url_bytes {
            return Err(ApiError::UriTooLong(self.config.limits.max_url_bytes));
        }
        let call = Call {
            query: uri.query().unwrap_or("").to_string(),
            authorization: req.header(header::AUTHORIZATION).map(str::to_string),
            if_none_match: req.header(header::IF_NONE_MATCH).map(str::to_string),
            auth: OnceLock::new(),
            path,
            target,
        };
        let segments = call
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| ApiError::not_found("Malformed path"))
            })
            .collect::<Result<Vec<String>, ApiError>>()?;
        let Some(route) = route(&segments) else {
            return Err(ApiError::not_found("No such route"));
        };
        if post {
            let Route::Metric(prefix, channel) = route else {
                return Err(ApiError::MethodNotAllowed { allow });
            };
            let body = read_body(&mut req, self.config.limits.max_body_bytes).await?;
            return self
                .metric(parse_prefix(prefix)?, channel, &call, Source::Post(body))
                .await;
        }
        match route {
            Route::Status => Ok(text(StatusCode::OK, "OK")),
            Route::LbHeartbeat => Ok(Response::builder().status(StatusCode::OK).finish()),
            Route::Authed => {
                call.auth(&self.config.auth)?;
                Ok(text(StatusCode::OK, "Authenticated"))
            }
            Route::ClearCache => {
                call.auth(&self.config.auth)?;
                self.cache.clear();
                Ok(text(StatusCode::OK, "Cache Cleared"))
            }
            Route::Heartbeat => Ok(self.heartbeat().await),
            Route::Version => Ok(json(StatusCode::OK, &version_document())),
            Route::OpenApi => Ok(json(StatusCode::OK, &crate::openapi::document())),
            Route::Filters => self.filters(&call).await,
            Route::Channels(prefix) => self.channels(parse_prefix(prefix)?, &call).await,
            Route::Dates(prefix, channel) => {
                self.dates(parse_prefix(prefix)?, channel, &call).await
            }
            Route::Metric(prefix, channel) => {
                self.metric(parse_prefix(prefix)?, channel, &call, Source::Get)
                    .await
            }
            Route::Analysis(prefix, channel, kind) => {
                self.analysis(parse_prefix(prefix)?, channel, &call, kind)
                    .await
            }
        }
    }

    fn authorized(&self, call: &Call) -> bool {
        call.authorization.is_some() && call.auth(&self.config.auth).is_ok()
    }

    /// Runs `f` on the store (see `reads.rs`: inline when alone, else on the blocking pool).
    async fn blocking<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store, &Definitions) -> Result<T, ApiError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let definitions = Arc::clone(&self.definitions);
        self.reads
            .run(move || f(store.as_ref(), &definitions))
            .await
    }

    /// The store's data version, re-read at most every `data_version_poll`. A change empties
    /// the response cache.
    async fn data_version(&self) -> Result<u64, ApiError> {
        let poll = self.config.data_version_poll;
        if !poll.is_zero() {
            let checked = *self
                .version_checked
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if checked.is_some_and(|t| t.elapsed() < poll) {
                return Ok(self.version.load(Ordering::Acquire));
            }
        }
        let version = self.blocking(|store, _| Ok(store.data_version()?)).await?;
        let old = self.version.swap(version, Ordering::AcqRel);
        *self
            .version_checked
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Instant::now());
        if old != version {
            self.cache.clear();
        }
        Ok(version)
    }

    /// The cached body for `key`, or computes and caches it.
    async fn cached<F>(&self, key: CacheKey, compute: F) -> Result<Arc<CachedBody>, ApiError>
    where
        F: FnOnce(&dyn Store, &Definitions) -> Result<Vec<u8>, ApiError> + Send + 'static,
    {
        let version = self.data_version().await?;
        if let Some(hit) = self.cache.get(&key, version) {
            return Ok(hit);
        }
        let limit = self.config.limits.max_response_bytes;
        let body = self.blocking(compute).await?;
        if body.len() > limit {
            return Err(ApiError::BadRequest(format!(
                "the answer would be {} bytes, over the limit of {limit}; ask for fewer dates or filter by label",
                body.len()
            )));
        }
        Ok(self.cache.put(key, Bytes::from(body), JSON, version))
    }

    /// `max-age` of cached routes other than metric queries by submission date: the time the
    /// entry has left in the server cache, plus one hour.
    fn cached_response(&self, entry: &CachedBody) -> Response {
        let left = self
            .cache
            .limits()
            .timeout
            .saturating_sub(entry.stored.elapsed());
        let max_age = left.as_secs() + 3600;
        body_response(entry, format!("max-age={max_age}"), None)
    }

    async fn heartbeat(&self) -> Response {
        match self.blocking(|store, _| Ok(store.data_version()?)).await {
            Ok(_) => json(
                StatusCode::OK,
                &serde_json::json!({"status": "ok", "checks": {"store": "ok"}, "details": {}}),
            ),
            Err(err) => {
                // The details go to the log only (they may name hosts and databases).
                let state = match err {
                    ApiError::Unavailable(_) => "unavailable",
                    _ => "error",
                };
                tracing::error!(error = %err, "heartbeat: store check failed");
                json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &serde_json::json!({"status": "error", "checks": {"store": state},
                        "details": {}}),
                )
            }
        }
    }

    async fn channels(&self, prefix: Prefix, call: &Call) -> Result<Response, ApiError> {
        let authorized = self.authorized(call);
        let access = self.config.access.clone();
        let entry = self
            .cached((call.target.clone(), authorized), move |store, _| {
                let channels: Vec<String> = store
                    .channels(prefix)?
                    .into_iter()
                    .filter(|c| access.channel_visible(c, authorized))
                    .collect();
                to_json(&channels)
            })
            .await?;
        Ok(self.cached_response(&entry))
    }

    fn gate_channel(&self, channel: &str, call: &Call) -> Result<bool, ApiError> {
        let authorized = self.authorized(call);
        if !self.config.access.channel_visible(channel, authorized) {
            call.auth(&self.config.auth)?;
        }
        Ok(authorized)
    }

    async fn dates(
        &self,
        prefix: Prefix,
        channel: &str,
        call: &Call,
    ) -> Result<Response, ApiError> {
        let authorized = self.gate_channel(channel, call)?;
        let channel = channel.to_string();
        let entry = self
            .cached((call.target.clone(), authorized), move |store, _| {
                to_json(&store.dates(prefix, &channel)?)
            })
            .await?;
        Ok(self.cached_response(&entry))
    }

    async fn filters(&self, call: &Call) -> Result<Response, ApiError> {
        let params = parse_query(&call.query)?;
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, v)| k == name && !v.is_empty())
                .map(|(_, v)| v.clone())
                .ok_or_else(|| ApiError::not_found(format!("Missing parameter `{name}`")))
        };
        let (channel, version) = (get("channel")?, get("version")?);
        let authorized = self.gate_channel(&channel, call)?;
        let access = self.config.access.clone();
        let entry = self
            .cached((call.target.clone(), authorized), move |store, _| {
                let options = store
                    .filter_options(&channel, &version)?
                    .and_then(|o| {
                        ApiFilterOptions::from_options(&o, |m| access.listable(m, authorized))
                    })
                    .ok_or_else(|| {
                        ApiError::not_found("No filter options for this channel and version")
                    })?;
                to_json(&options)
            })
            .await?;
        Ok(self.cached_response(&entry))
    }

    async fn metric(
        &self,
        prefix: Prefix,
        channel: &str,
        call: &Call,
        source: Source,
    ) -> Result<Response, ApiError> {
        let (params, cache_target) = match source {
            Source::Get => (self.get_params(call, Accepts::METRIC)?.params, None),
            Source::Post(body) => {
                let parsed: PostBody = serde_json::from_slice(&body)
                    .map_err(|e| ApiError::BadRequest(format!("malformed JSON body: {e}")))?;
                let canonical = String::from_utf8_lossy(&body).into_owned();
                (
                    parsed.into_params()?,
                    Some(format!("POST {} {canonical}", call.path)),
                )
            }
        };
        let authorized = self.authorized(call);
        let request = self.request(prefix, channel, call, &params, authorized)?;
        let key = cache_target.unwrap_or_else(|| call.target.clone());
        self.answer(
            prefix,
            call,
            (key, authorized),
            move |store, definitions| {
                let response = request
                    .run(store, definitions)?
                    .ok_or_else(|| ApiError::not_found("No data found for this metric."))?;
                Ok(response.to_json())
            },
        )
        .await
    }

    async fn analysis(
        &self,
        prefix: Prefix,
        channel: &str,
        call: &Call,
        kind: Analysis,
    ) -> Result<Response, ApiError> {
        let accepts = match kind {
            Analysis::Evolution => Accepts::METRIC,
            Analysis::Compare => Accepts::COMPARE,
            Analysis::Labels => Accepts::LABELS,
        };
        let parsed = self.get_params(call, accepts)?;
        let authorized = self.authorized(call);
        let request = self.request(prefix, channel, call, &parsed.params, authorized)?;
        let key = call.target.clone();
        match kind {
            Analysis::Evolution => {
                self.answer(
                    prefix,
                    call,
                    (key, authorized),
                    move |store, definitions| {
                        let evolution = Evolution::of(&request, store, definitions)?
                            .ok_or_else(|| ApiError::not_found("No data found for this metric."))?;
                        to_json(&evolution)
                    },
                )
                .await
            }
            Analysis::Labels => {
                let (page, per_page) = (parsed.params.page, parsed.params.per_page);
                self.answer(
                    prefix,
                    call,
                    (key, authorized),
                    move |store, definitions| {
                        let labels = LabelPage::of(&request, page, per_page, store, definitions)?
                            .ok_or_else(|| {
                            ApiError::not_found("No data found for this metric.")
                        })?;
                        to_json(&labels)
                    },
                )
                .await
            }
            Analysis::Compare => {
                let b_params = parsed.params.overridden_by(&parsed.b);
                let b = self.request(prefix, channel, call, &b_params, authorized)?;
                self.answer(
                    prefix,
                    call,
                    (key, authorized),
                    move |store, definitions| {
                        let comparison = Comparison::of(&request, &b, store, definitions)?
                            .ok_or_else(|| {
                                ApiError::not_found("No data found for one side of the comparison.")
                            })?;
                        to_json(&comparison)
                    },
                )
                .await
            }
        }
    }

    /// The query string's parameters for a route accepting `accepts`; unknown ones → 405 with
    /// the same URL without them in `Allow`.
    fn get_params(&self, call: &Call, accepts: Accepts) -> Result<ParsedParams, ApiError> {
        let pairs = parse_query(&call.query)?;
        let parsed =
            ParsedParams::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), accepts)?;
        if parsed.unknown.is_empty() {
            return Ok(parsed);
        }
        let kept: Vec<&(String, String)> = pairs
            .iter()
            .filter(|(k, _)| !parsed.unknown.contains(k))
            .collect();
        let query =
            serde_urlencoded::to_string(&kept).map_err(|e| ApiError::Internal(e.to_string()))?;
        Err(ApiError::UnknownParameter {
            unknown: parsed.unknown.join(", "),
            allow: format!("{}?{query}", call.path),
        })
    }

    /// A request from parameters, in the original's order of checks: missing parameters (404),
    /// access (404 / 403), malformed dates (404), too many dates (400). `authorized`: the
    /// caller's token was verified (once per request, by the handler).
    fn request(
        &self,
        prefix: Prefix,
        channel: &str,
        call: &Call,
        params: &MetricParams,
        authorized: bool,
    ) -> Result<MetricRequest, ApiError> {
        for (value, name) in [
            (&params.version, "version"),
            (&params.dates, "dates"),
            (&params.metric, "metric"),
        ] {
            if value.as_deref().is_none_or(str::is_empty) {
                return Err(ApiError::not_found(format!("Missing parameter `{name}`")));
            }
        }
        let channel = params.channel.as_deref().unwrap_or(channel);
        let metric = params.metric.as_deref().unwrap_or_default();
        match self.config.access.check(channel, metric, authorized) {
            Access::Allowed => {}
            Access::NotFound => return Err(ApiError::not_found("No data found for this metric.")),
            Access::Forbidden => {
                call.auth(&self.config.auth)?;
                // A header that passed the check authorizes; this is unreachable in practice.
                return Err(ApiError::Forbidden {
                    code: "access_denied",
                    description: "Authorization required".into(),
                });
            }
        }
        let request = MetricRequest::from_params(params, prefix, channel).map_err(|e| match e {
            // A malformed date answers 404, as the original did.
            mozaggregator_core::Error::Invalid { what: "date", .. } => {
                ApiError::not_found(e.to_string())
            }
            other => ApiError::from(other),
        })?;
        let max_dates = self.config.limits.max_dates;
        let n = request.query.dates.len();
        if n > max_dates {
            let s = if n == 1 { "" } else { "s" };
            return Err(ApiError::BadRequest(format!(
                "{n} distinct date{s} requested; at most {max_dates} per query"
            )));
        }
        Ok(request)
    }

    /// The cached answer of a metric-like route under `key` (target, authorized), with the ETag
    /// and `If-None-Match` handling of submission-date queries.
    async fn answer<F>(
        &self,
        prefix: Prefix,
        call: &Call,
        key: CacheKey,
        compute: F,
    ) -> Result<Response, ApiError>
    where
        F: FnOnce(&dyn Store, &Definitions) -> Result<Vec<u8>, ApiError> + Send + 'static,
    {
        let etag = if prefix == Prefix::SubmissionDate {
            let version = self.data_version().await?;
            let etag = format!("\"submission_date_v{version}\"");
            if call
                .if_none_match
                .as_deref()
                .is_some_and(|inm| headers::etag_matches(inm, &etag))
            {
                return Ok(Response::builder()
                    .status(StatusCode::NOT_MODIFIED)
                    .header(header::CACHE_CONTROL, self.submission_max_age())
                    .header(header::ETAG, etag)
                    .header(header::VARY, "Authorization")
                    .finish());
            }
            Some(etag)
        } else {
            None
        };
        let entry = self.cached(key, compute).await?;
        Ok(match etag {
            Some(etag) => body_response(&entry, self.submission_max_age(), Some(etag)),
            None => self.cached_response(&entry),
        })
    }

    fn submission_max_age(&self) -> String {
        format!("max-age={}", self.config.cache_timeout.as_secs())
    }
}

/// Where the metric route's parameters come from.
enum Source {
    /// The query string.
    Get,
    /// A JSON body ([`PostBody`]).
    Post(Bytes),
}

/// The request body, at most `limit` bytes (more → 413).
async fn read_body(req: &mut Request, limit: usize) -> Result<Bytes, ApiError> {
    if req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let body = req
        .take_body()
        .into_bytes_limit(limit)
        .await
        .map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::PayloadTooLarge(limit),
            other => ApiError::BadRequest(format!("cannot read the request body: {other}")),
        })?;
    Ok(body)
}

fn parse_prefix(prefix: &str) -> Result<Prefix, ApiError> {
    prefix
        .parse()
        .map_err(|_| ApiError::not_found(format!("Unknown prefix `{prefix}`")))
}

fn parse_query(query: &str) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))
}

fn text(status: StatusCode, body: &'static str) -> Response {
    Response::builder()
        .status(status)
        .content_type(TEXT)
        .body(body)
}

fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .content_type(JSON)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(serde_json::to_vec(value).unwrap_or_default())
}

fn body_response(entry: &CachedBody, cache_control: String, etag: Option<String>) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::OK)
        .content_type(entry.content_type)
        .header(header::CACHE_CONTROL, cache_control)
        .header(header::VARY, "Authorization");
    if let Some(etag) = etag {
        builder = builder.header(header::ETAG, etag);
    }
    builder.body(entry.body.clone())
}

fn version_document() -> serde_json::Value {
    serde_json::json!({
        "source": env!("CARGO_PKG_REPOSITORY"),
        "version": env!("CARGO_PKG_VERSION"),
        "commit": env!("MOZAGGREGATOR_COMMIT"),
        "build": env!("MOZAGGREGATOR_BUILD"),
    })
}

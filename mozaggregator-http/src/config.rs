//! The settings of the HTTP API, independent of where they come from (flags, environment,
//! tests).

use std::time::Duration;

use mozaggregator_core::access::AccessPolicy;

use crate::auth::Authenticator;

/// Limits that keep one request from taking the server down.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Most dates in one metric query (more → 400).
    pub max_dates: usize,
    /// Longest path + query accepted (longer → 414). telemetry.js sends up to 4094.
    pub max_url_bytes: usize,
    /// Largest request body (`POST` metric queries; larger → 413).
    pub max_body_bytes: usize,
    /// Longest time one request may take (longer → 408).
    pub request_timeout: Duration,
    /// Largest response body (larger → 400, asking for a narrower query).
    pub max_response_bytes: usize,
    /// Most store reads running at once; further requests wait (and may time out).
    pub max_concurrent_reads: usize,
    /// Runs a lone read (no other in flight) on the worker that received it, instead of
    /// handing it to the blocking pool (see `reads.rs`): faster for sporadic requests.
    pub inline_lone_reads: bool,
}

impl Limits {
    /// The default limits; the `serve` flags take their defaults from here.
    pub const DEFAULT: Limits = Limits {
        max_dates: 400,
        max_url_bytes: 8192,
        max_body_bytes: 1 << 20,
        request_timeout: Duration::from_secs(30),
        max_response_bytes: 64 << 20,
        max_concurrent_reads: 16,
        inline_lone_reads: true,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Everything the HTTP API needs besides the store and the definitions.
#[derive(Clone)]
pub struct ServerConfig {
    /// Who may read what.
    pub access: AccessPolicy,
    /// How tokens are checked.
    pub auth: Authenticator,
    /// How long responses are cached (and the `max-age` of metric queries by submission date).
    pub cache_timeout: Duration,
    /// Most cached responses.
    pub cache_max_entries: usize,
    /// Most bytes of cached response bodies.
    pub cache_max_bytes: usize,
    /// How often the store's data version is re-read (zero: on every request). New data is
    /// visible, and cached answers dropped, at most this long after it lands.
    pub data_version_poll: Duration,
    /// Request limits.
    pub limits: Limits,
}

impl ServerConfig {
    /// Default of [`ServerConfig::cache_timeout`] (the `serve` flags take their defaults from
    /// these constants).
    pub const DEFAULT_CACHE_TIMEOUT: Duration = Duration::from_secs(86_400);
    /// Default of [`ServerConfig::cache_max_entries`].
    pub const DEFAULT_CACHE_MAX_ENTRIES: usize = 10_000;
    /// Default of [`ServerConfig::cache_max_bytes`].
    pub const DEFAULT_CACHE_MAX_BYTES: usize = 256 << 20;
    /// Default of [`ServerConfig::data_version_poll`].
    pub const DEFAULT_DATA_VERSION_POLL: Duration = Duration::from_secs(1);
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            access: AccessPolicy::default(),
            auth: Authenticator::default(),
            cache_timeout: Self::DEFAULT_CACHE_TIMEOUT,
            cache_max_entries: Self::DEFAULT_CACHE_MAX_ENTRIES,
            cache_max_bytes: Self::DEFAULT_CACHE_MAX_BYTES,
            data_version_poll: Self::DEFAULT_DATA_VERSION_POLL,
            limits: Limits::DEFAULT,
        }
    }
}

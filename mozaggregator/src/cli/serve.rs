//! `mozaggregator serve`: the HTTP API over a store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mozaggregator_core::access::{
    AccessPolicy, DEFAULT_AUTH_ONLY, DEFAULT_DENY, DEFAULT_PUBLIC_RELEASE,
};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::{Store, StoreLocation};
use mozaggregator_http::auth::{load_jwks, load_tokens, Authenticator, JwtConfig};
use mozaggregator_http::listener::{BoundListener, MAX_URL_BYTES};
use mozaggregator_http::{App, Error, Limits, Result, ServerConfig};

/// Arguments of `mozaggregator serve`. Every flag can also be set with the environment
/// variable `MOZAGGREGATOR_<FLAG>` (e.g. `MOZAGGREGATOR_DB`); lists in the environment are
/// separated by spaces.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The store to serve: a SQLite file or a PostgreSQL database URL
    /// (`postgres://user@host:port/db`).
    #[arg(long, value_name = "PATH|URL", env = "MOZAGGREGATOR_DB")]
    pub db: String,

    /// A read replica of the PostgreSQL database (repeatable): queries go to the replicas in
    /// turn; the data version (ETags, cache invalidation) is read from `--db`.
    #[arg(
        long = "db-replica",
        value_name = "URL",
        env = "MOZAGGREGATOR_DB_REPLICA",
        value_delimiter = ' '
    )]
    pub db_replica: Vec<String>,

    #[command(flatten)]
    pub server: ServerArgs,
}

/// The server flags shared by `serve` and `demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "MOZAGGREGATOR_BIND", default_value = "127.0.0.1:5000")]
    pub bind: String,

    /// Histograms.json: kinds, categorical labels and descriptions of histograms.
    #[arg(long, env = "MOZAGGREGATOR_HISTOGRAMS")]
    pub histograms: Option<PathBuf>,

    /// Scalars.yaml files: descriptions of scalars (repeatable).
    #[arg(long, env = "MOZAGGREGATOR_SCALARS", value_delimiter = ' ')]
    pub scalars: Vec<PathBuf>,

    /// Deny-list regex: matching metrics are never served nor listed (repeatable; anchored at
    /// the start of the name; replaces the default list; `''` alone denies nothing).
    #[arg(long = "deny-metric", env = "MOZAGGREGATOR_DENY_METRIC", value_delimiter = ' ',
          default_values_t = DEFAULT_DENY.map(String::from))]
    pub deny_metric: Vec<String>,

    /// Metric served and listed only to authorized callers (repeatable; replaces the default
    /// list; `''` alone clears it).
    #[arg(long = "auth-only-metric", env = "MOZAGGREGATOR_AUTH_ONLY_METRIC", value_delimiter = ' ',
          default_values_t = DEFAULT_AUTH_ONLY.map(String::from))]
    pub auth_only_metric: Vec<String>,

    /// `release` metric served without authorization (repeatable; replaces the default list;
    /// `''` alone clears it).
    #[arg(long = "public-release-metric", env = "MOZAGGREGATOR_PUBLIC_RELEASE_METRIC",
          value_delimiter = ' ', default_values_t = DEFAULT_PUBLIC_RELEASE.map(String::from))]
    pub public_release_metric: Vec<String>,

    /// Serve every `release` metric without authorization.
    #[arg(long, env = "MOZAGGREGATOR_ALLOW_ALL_RELEASE")]
    pub allow_all_release: bool,

    /// JWKS (a file, or an http:// URL fetched once at start-up) whose RS256 keys sign
    /// accepted JWTs. Needs --jwt-issuer and --jwt-audience.
    #[arg(long, env = "MOZAGGREGATOR_JWKS")]
    pub jwks: Option<String>,

    /// Required `iss` claim of JWTs.
    #[arg(long, env = "MOZAGGREGATOR_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Required `aud` claim of JWTs.
    #[arg(long, env = "MOZAGGREGATOR_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// Scope a JWT's `scope` claim must contain.
    #[arg(
        long,
        env = "MOZAGGREGATOR_JWT_SCOPE",
        default_value = "read:aggregates"
    )]
    pub jwt_scope: String,

    /// File of static bearer tokens, one per line (`#` comments allowed).
    #[arg(long, env = "MOZAGGREGATOR_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,

    /// Seconds a response stays in the server cache; also the `max-age` of metric queries by
    /// submission date.
    #[arg(long, env = "MOZAGGREGATOR_CACHE_TIMEOUT", default_value_t = ServerConfig::DEFAULT_CACHE_TIMEOUT.as_secs())]
    pub cache_timeout: u64,

    /// Most responses kept in the server cache.
    #[arg(
        long,
        env = "MOZAGGREGATOR_CACHE_MAX_ENTRIES",
        default_value_t = ServerConfig::DEFAULT_CACHE_MAX_ENTRIES
    )]
    pub cache_max_entries: usize,

    /// Most MiB of response bodies kept in the server cache.
    #[arg(long, env = "MOZAGGREGATOR_CACHE_MAX_MB", default_value_t = ServerConfig::DEFAULT_CACHE_MAX_BYTES >> 20)]
    pub cache_max_mb: usize,

    /// Milliseconds between checks of the store's data version (new data becomes visible and
    /// the cache is emptied at most this long after it lands; 0 = every request).
    #[arg(
        long,
        env = "MOZAGGREGATOR_DATA_VERSION_POLL_MS",
        default_value_t = millis(ServerConfig::DEFAULT_DATA_VERSION_POLL)
    )]
    pub data_version_poll_ms: u64,

    /// Most dates in one metric query (more → 400).
    #[arg(long, env = "MOZAGGREGATOR_MAX_DATES", default_value_t = Limits::DEFAULT.max_dates)]
    pub max_dates: usize,

    /// Longest URL (path and query) accepted, in bytes (longer → 414; at most 64000).
    #[arg(long, env = "MOZAGGREGATOR_MAX_URL_BYTES", default_value_t = Limits::DEFAULT.max_url_bytes)]
    pub max_url_bytes: usize,

    /// Largest request body (POST metric queries), in bytes (larger → 413).
    #[arg(long, env = "MOZAGGREGATOR_MAX_BODY_BYTES", default_value_t = Limits::DEFAULT.max_body_bytes)]
    pub max_body_bytes: usize,

    /// Seconds one request may take (longer → 408).
    #[arg(long, env = "MOZAGGREGATOR_REQUEST_TIMEOUT", default_value_t = Limits::DEFAULT.request_timeout.as_secs())]
    pub request_timeout: u64,

    /// Largest response body in MiB (larger → 400).
    #[arg(long, env = "MOZAGGREGATOR_MAX_RESPONSE_MB", default_value_t = Limits::DEFAULT.max_response_bytes >> 20)]
    pub max_response_mb: usize,

    /// Most store reads running at once.
    #[arg(long, env = "MOZAGGREGATOR_MAX_CONCURRENT_READS", default_value_t = Limits::DEFAULT.max_concurrent_reads)]
    pub max_concurrent_reads: usize,

    /// Hand every store read to the blocking pool, even a lone one (by default a read that
    /// starts while no other is in flight runs on the worker that received it: faster for
    /// sporadic requests).
    #[arg(long, env = "MOZAGGREGATOR_NO_INLINE_READS")]
    pub no_inline_reads: bool,

    /// Request log format.
    #[arg(long, env = "MOZAGGREGATOR_LOG_FORMAT", default_value = "text",
          value_parser = ["text", "json"])]
    pub log_format: String,
}

/// A duration in whole milliseconds, for a flag's default.
fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn nonempty(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

impl ServerArgs {
    /// The server configuration these flags describe (reads the JWKS and token files).
    ///
    /// # Errors
    /// Bad regexes, unreadable files, a JWKS without issuer or audience.
    pub fn config(&self) -> Result<ServerConfig> {
        if self.max_url_bytes > MAX_URL_BYTES {
            return Err(Error::Usage(format!(
                "--max-url-bytes {} is above {MAX_URL_BYTES}, the longest URL the HTTP layer can \
                 pass on",
                self.max_url_bytes
            )));
        }
        let access = AccessPolicy::new(
            nonempty(&self.deny_metric),
            nonempty(&self.auth_only_metric),
            nonempty(&self.public_release_metric),
            self.allow_all_release,
        )?;
        let jwt = match &self.jwks {
            None => None,
            Some(source) => {
                let (Some(issuer), Some(audience)) = (&self.jwt_issuer, &self.jwt_audience) else {
                    return Err(Error::Usage(
                        "--jwks needs --jwt-issuer and --jwt-audience".into(),
                    ));
                };
                Some(JwtConfig {
                    jwks: load_jwks(source)?,
                    issuer: issuer.clone(),
                    audience: audience.clone(),
                    scope: self.jwt_scope.clone(),
                })
            }
        };
        let tokens = match &self.tokens_file {
            Some(path) => load_tokens(path)?,
            None => Vec::new(),
        };
        Ok(ServerConfig {
            access,
            auth: Authenticator::new(jwt, tokens),
            cache_timeout: Duration::from_secs(self.cache_timeout),
            cache_max_entries: self.cache_max_entries,
            cache_max_bytes: self.cache_max_mb.saturating_mul(1 << 20),
            data_version_poll: Duration::from_millis(self.data_version_poll_ms),
            limits: Limits {
                max_dates: self.max_dates,
                max_url_bytes: self.max_url_bytes,
                max_body_bytes: self.max_body_bytes,
                request_timeout: Duration::from_secs(self.request_timeout.max(1)),
                max_response_bytes: self.max_response_mb.saturating_mul(1 << 20),
                max_concurrent_reads: self.max_concurrent_reads.max(1),
                inline_lone_reads: !self.no_inline_reads,
            },
        })
    }

    /// Loads the definition files given.
    ///
    /// # Errors
    /// Unreadable or malformed files.
    pub fn definitions(&self) -> Result<Definitions> {
        Ok(Definitions::load(
            self.histograms.as_deref(),
            &self.scalars,
        )?)
    }
}

/// Opens the store at `location` (a SQLite file, which must exist, or a PostgreSQL URL) for
/// serving, reading from `replicas` when given.
///
/// # Errors
/// The store cannot be opened.
pub fn open_store(location: &str, replicas: &[String]) -> Result<Arc<dyn Store>> {
    let location = StoreLocation::parse(location);
    if location.is_missing_file() {
        return Err(Error::Usage(format!(
            "{location}: no such store (create one with `mozaggregator aggregate` or \
             `mozaggregator demo`)"
        )));
    }
    Ok(location.open(replicas)?)
}

/// Sets up request logging (`RUST_LOG` filters, default `info`).
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Serves `app` on the bound `listener` until SIGINT or SIGTERM, then finishes the requests in
/// flight (at most 10 s). Logs `listening` with the bound address once it is listening.
///
/// # Errors
/// The server fails while running.
pub async fn serve_app(app: App, listener: BoundListener) -> Result<()> {
    let addr = listener.local_addr();
    tracing::info!(bind = %addr, "listening");
    poem::Server::new_with_acceptor(listener.into_acceptor())
        .run_with_graceful_shutdown(app, shutdown_signal(), Some(Duration::from_secs(10)))
        .await
        .map_err(|e| Error::Io {
            path: addr.to_string(),
            source: e,
        })?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// A multi-threaded runtime for the server.
///
/// # Errors
/// The runtime cannot start.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Io {
            path: "tokio runtime".into(),
            source: e,
        })
}

/// Runs the command.
///
/// # Errors
/// Bad configuration, an unopenable store, an unbindable address.
pub fn run(args: Args) -> Result<ExitCode> {
    init_logging(&args.server.log_format);
    let config = args.server.config()?;
    let definitions = args.server.definitions()?;
    let store = open_store(&args.db, &args.db_replica)?;
    if !config.auth.is_configured() {
        tracing::info!("no --jwks or --tokens-file: release and auth-only metrics stay closed");
    }
    let app = App::new(store, Arc::new(definitions), config);
    let runtime = runtime()?;
    let listener = runtime.block_on(BoundListener::bind(&args.server.bind))?;
    runtime.block_on(serve_app(app, listener))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Flags {
        #[command(flatten)]
        server: ServerArgs,
    }

    /// `serve` without flags runs with `ServerConfig::default()`: the flags' defaults come
    /// from the config types, so the two cannot drift apart.
    #[test]
    fn flag_defaults_are_the_config_defaults() {
        let config = Flags::try_parse_from(["serve"])
            .unwrap()
            .server
            .config()
            .unwrap();
        let default = ServerConfig::default();
        assert_eq!(config.cache_timeout, default.cache_timeout);
        assert_eq!(config.cache_max_entries, default.cache_max_entries);
        assert_eq!(config.cache_max_bytes, default.cache_max_bytes);
        assert_eq!(config.data_version_poll, default.data_version_poll);
        let (got, want) = (config.limits, default.limits);
        assert_eq!(got.max_dates, want.max_dates);
        assert_eq!(got.max_url_bytes, want.max_url_bytes);
        assert_eq!(got.max_body_bytes, want.max_body_bytes);
        assert_eq!(got.request_timeout, want.request_timeout);
        assert_eq!(got.max_response_bytes, want.max_response_bytes);
        assert_eq!(got.max_concurrent_reads, want.max_concurrent_reads);
        assert_eq!(got.inline_lone_reads, want.inline_lone_reads);
    }
}

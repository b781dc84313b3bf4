//! Where a PostgreSQL store lives: a `postgres://user:password@host:port/db` URL, parsed once,
//! and shown everywhere without its password.

use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;

use crate::error::{Error, Result};

/// How long connecting waits when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// True when `location` names a PostgreSQL store (`postgres://…` or `postgresql://…`) rather
/// than a file.
///
/// ```
/// use mozaggregator_core::store::is_postgres_url;
/// assert!(is_postgres_url("postgres://app@db.internal:5432/aggregates"));
/// assert!(is_postgres_url("postgresql://localhost/aggregates"));
/// assert!(!is_postgres_url("aggregates.sqlite"));
/// ```
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

/// `location` with any password replaced by `***`, for messages and logs.
///
/// ```
/// use mozaggregator_core::store::redact_url;
/// assert_eq!(redact_url("postgres://app:s3cret@db:5432/agg"), "postgres://app:***@db:5432/agg");
/// assert_eq!(redact_url("postgres://db/agg?password=s3cret&x=1"), "postgres://db/agg?password=***&x=1");
/// assert_eq!(redact_url("postgres://app@db/agg"), "postgres://app@db/agg");
/// ```
pub fn redact_url(location: &str) -> String {
    static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant pattern, covered by the doc test
        Regex::new(r"^(postgres(?:ql)?://[^:@/?#]*):[^@/?#]*@").expect("constant pattern")
    });
    static PARAM: LazyLock<Regex> = LazyLock::new(|| {
        #[allow(clippy::expect_used)] // a constant pattern, covered by the doc test
        Regex::new(r"([?&]password=)[^&#]*").expect("constant pattern")
    });
    let once = USERINFO.replace(location, "$1:***@");
    PARAM.replace_all(&once, "${1}***").into_owned()
}

/// A parsed store URL.
#[derive(Clone)]
pub(crate) struct Location {
    pub(crate) config: postgres::Config,
    /// The URL without its password.
    pub(crate) shown: String,
}

impl Location {
    /// Parses `url`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the URL (without its password) and what is wrong.
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let shown = redact_url(url);
        let mut config = postgres::Config::from_str(url).map_err(|e| {
            Error::invalid(
                "PostgreSQL URL",
                format!("{shown}: {}", redact_url(&e.to_string())),
            )
        })?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("mozaggregator");
        }
        Ok(Location { config, shown })
    }
}

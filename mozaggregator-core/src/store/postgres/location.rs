//! Where a PostgreSQL store lives: a `postgres://user:password@host:port/db` URL, parsed once,
//! and shown everywhere without its password.

use std::str::FromStr;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::store::redact_url;

/// How long connecting waits when the URL does not say (`connect_timeout`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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

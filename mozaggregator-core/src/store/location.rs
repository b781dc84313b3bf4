//! Where a store lives, as users write it: a file path (the embedded SQLite store) or a
//! `postgres://` URL (the PostgreSQL store), and opening it.

use std::path::PathBuf;
use std::sync::Arc;

use super::Store;
use crate::error::{Error, Result};

/// A store's location: a `postgres://…` (or `postgresql://…`) URL selects the PostgreSQL
/// store, anything else is the path of a SQLite file.
///
/// ```
/// use mozaggregator_core::store::StoreLocation;
/// let file = StoreLocation::parse("aggregates.sqlite");
/// assert!(matches!(file, StoreLocation::Sqlite(_)));
/// let db = StoreLocation::parse("postgres://app:s3cret@db:5432/agg");
/// assert_eq!(db.to_string(), "postgres://app:***@db:5432/agg");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database URL (it may hold a password: display it, never print the URL).
    Postgres(String),
}

impl StoreLocation {
    /// The location `text` names.
    pub fn parse(text: &str) -> Self {
        if is_postgres_url(text) {
            StoreLocation::Postgres(text.to_string())
        } else {
            StoreLocation::Sqlite(PathBuf::from(text))
        }
    }

    /// True for a SQLite file that does not exist (commands that only read refuse it instead
    /// of creating an empty store); false for every database URL.
    pub fn is_missing_file(&self) -> bool {
        matches!(self, StoreLocation::Sqlite(path) if !path.exists())
    }

    /// Opens (creating if needed) the store. `replicas` are read replicas of a PostgreSQL
    /// store; a SQLite store refuses them.
    ///
    /// # Errors
    /// Those of [`crate::SqliteStore::open`] and [`crate::PostgresStore::open`];
    /// [`Error::Invalid`] for replicas of a SQLite store, or a URL when this build has no
    /// PostgreSQL support.
    pub fn open(&self, replicas: &[String]) -> Result<Arc<dyn Store>> {
        match self {
            StoreLocation::Sqlite(path) => {
                if !replicas.is_empty() {
                    return Err(Error::invalid(
                        "read replicas",
                        "only a PostgreSQL store has read replicas",
                    ));
                }
                open_sqlite(path)
            }
            StoreLocation::Postgres(url) => open_postgres(url, replicas),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreLocation({self})")
    }
}

#[cfg(feature = "sqlite")]
fn open_sqlite(path: &std::path::Path) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(super::SqliteStore::open(path)?))
}

#[cfg(not(feature = "sqlite"))]
fn open_sqlite(path: &std::path::Path) -> Result<Arc<dyn Store>> {
    Err(Error::invalid(
        "store",
        format!(
            "{}: this build has no SQLite store (cargo feature `sqlite`)",
            path.display()
        ),
    ))
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, replicas: &[String]) -> Result<Arc<dyn Store>> {
    Ok(Arc::new(super::PostgresStore::open_with_replicas(
        url, replicas,
    )?))
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(url: &str, _replicas: &[String]) -> Result<Arc<dyn Store>> {
    Err(Error::invalid(
        "store",
        format!(
            "{}: this build has no PostgreSQL store (cargo feature `postgres`)",
            redact_url(url)
        ),
    ))
}

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
    use regex::Regex;
    use std::sync::LazyLock;
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

//! The one error type of the core crate.

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `mozaggregator-core`.
///
/// Input problems (bad parameters, malformed files, bad pings) are reported as values of this
/// enum, never as panics. Bad *pings* are usually not errors at all but counted rejects (see
/// [`crate::Report`]); this enum is for problems that stop one operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bucket layout parameters that cannot describe a valid layout (n < 3, low < 1,
    /// high <= low, absurd sizes, bounds not strictly increasing).
    #[error("invalid bucket layout: {0}")]
    InvalidLayout(String),

    /// Two histograms with different layouts were merged.
    #[error("cannot merge histograms with different layouts: {0}")]
    LayoutMismatch(String),

    /// A counter or sum would leave its integer range.
    #[error("overflow: {0}")]
    Overflow(String),

    /// A definition file (Histograms.json, Scalars.yaml) is malformed.
    #[error("definition of `{metric}`, field `{field}`: {reason}")]
    Definition {
        /// The metric (or file section) whose definition is bad.
        metric: String,
        /// The field of that definition.
        field: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A document could not be parsed (JSON, YAML, a ping).
    #[error("cannot parse {what}: {reason}")]
    Parse {
        /// What was being parsed.
        what: String,
        /// The parser's message.
        reason: String,
    },

    /// A caller-supplied argument is invalid (a date, a prefix, a filter parameter, …).
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// Which argument.
        what: &'static str,
        /// Why it is invalid.
        reason: String,
    },

    /// A required parameter (`version`, `dates`, `metric`, …) is missing or empty.
    #[error("missing parameter `{0}`")]
    MissingParameter(&'static str),

    /// A metric that is neither defined nor stored.
    #[error("unknown metric `{0}`")]
    UnknownMetric(String),

    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The store failed or holds data it cannot read.
    #[error("store: {0}")]
    Store(String),

    /// The store was written by a newer version of mozaggregator.
    #[error("store schema version {found} is newer than this build supports ({supported}); upgrade mozaggregator")]
    SchemaTooNew {
        /// Version found in the store.
        found: i64,
        /// Newest version this build can read.
        supported: i64,
    },

    /// An error of the embedded SQLite database.
    #[cfg(feature = "sqlite")]
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}

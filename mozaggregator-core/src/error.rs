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

    /// A fault of the store file itself, which callers react to differently from a plain
    /// store failure (wait and retry, make the file writable, restore a backup, give another
    /// path): see [`StoreFault`]. The message names the file and what to do.
    #[error("store: {message}")]
    StoreFile {
        /// Which fault.
        fault: StoreFault,
        /// The file, SQLite's message and the remedy.
        message: String,
    },

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

/// The faults of a store file that [`Error::StoreFile`] distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreFault {
    /// Another process keeps the store locked beyond the lock wait (a concurrent writer).
    Locked,
    /// The file (or its directory) cannot be written.
    ReadOnly,
    /// The file is damaged (SQLite reports corruption, or a file that was a store no longer
    /// reads as a database).
    Damaged,
    /// The file is not a mozaggregator store (another SQLite database, or not a database).
    NotAStore,
    /// The disk or the system refused a write or read (full disk, file size limit, failing
    /// device).
    Io,
}

impl StoreFault {
    /// A short stable name: `locked`, `read_only`, `damaged`, `not_a_store`, `io`.
    ///
    /// ```
    /// assert_eq!(mozaggregator_core::error::StoreFault::ReadOnly.name(), "read_only");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            StoreFault::Locked => "locked",
            StoreFault::ReadOnly => "read_only",
            StoreFault::Damaged => "damaged",
            StoreFault::NotAStore => "not_a_store",
            StoreFault::Io => "io",
        }
    }
}

impl Error {
    /// Shorthand for [`Error::StoreFile`].
    pub fn store_file(fault: StoreFault, message: impl Into<String>) -> Self {
        Error::StoreFile {
            fault,
            message: message.into(),
        }
    }

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

//! The error type of the core crate, [`Error`], and the small typed errors it carries:
//! [`MergeError`] (histograms that cannot be combined) and [`StoreError`] (a store that failed,
//! with its backend, kind and source).

use crate::layout::LayoutSpec;

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

    /// Histograms (or a histogram and counts) that cannot be combined: different layouts, or
    /// a number that would leave its integer range.
    #[error(transparent)]
    Merge(#[from] MergeError),

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
    #[error(transparent)]
    Store(#[from] StoreError),

    /// An interval was asked of data that has no replicate groups to compute it from: the
    /// store was written without `--replicates`, with different counts, or does not keep them.
    #[error("no confidence interval: {0}")]
    NoReplicates(String),

    /// The store was written by a newer version of mozaggregator.
    #[error("store schema version {found} is newer than this build supports ({supported}); upgrade mozaggregator")]
    SchemaTooNew {
        /// Version found in the store.
        found: i64,
        /// Newest version this build can read.
        supported: i64,
    },
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// The [`StoreErrorKind`] of a store error, `None` for every other error.
    pub fn store_kind(&self) -> Option<StoreErrorKind> {
        match self {
            Error::Store(e) => Some(e.kind()),
            _ => None,
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

/// Why histograms cannot be combined (merged, or counts added to one).
///
/// ```
/// use mozaggregator_core::{error::{MergeError, Quantity}, Error, Histogram, LayoutSpec};
/// let mut h = Histogram::empty(LayoutSpec::flag());
/// let err = h.add_dense(&[1, 2], 0).unwrap_err();
/// assert!(matches!(err, Error::Merge(MergeError::CountsLength { found: 2, expected: 3 })));
/// let full = Histogram::from_parts(LayoutSpec::flag(), vec![0; 3], u64::MAX, 1).unwrap();
/// let err = h.merge(&full).and_then(|()| h.merge(&full)).unwrap_err();
/// assert_eq!(err.to_string(), "overflow: histogram sum exceeds 2^64");
/// assert!(matches!(err, Error::Merge(MergeError::Overflow(Quantity::Sum))));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MergeError {
    /// Two histograms of different layouts.
    #[error("cannot merge histograms with different layouts: {left:?} and {right:?}")]
    Layouts {
        /// The layout of the histogram merged into.
        left: LayoutSpec,
        /// The other layout.
        right: LayoutSpec,
    },

    /// Dense counts whose length is not the layout's number of buckets.
    #[error(
        "cannot merge histograms with different layouts: {found} counts for a layout of \
         {expected} buckets"
    )]
    CountsLength {
        /// How many counts were given.
        found: usize,
        /// How many buckets the layout has.
        expected: usize,
    },

    /// A bucket index outside the layout.
    #[error("cannot merge histograms with different layouts: bucket {0} out of range")]
    Bucket(usize),

    /// A number that would exceed `u64`.
    #[error("overflow: {0} exceeds 2^64")]
    Overflow(Quantity),
}

/// The number of a histogram that overflowed ([`MergeError::Overflow`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Quantity {
    /// The sum of the recorded values.
    Sum,
    /// The number of contributing histograms.
    Count,
    /// One bucket's count.
    Bucket,
    /// A stored histogram merged with new data (sum, count or a bucket).
    Merged,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantity::Sum => "histogram sum",
            Quantity::Count => "histogram count",
            Quantity::Bucket => "bucket count",
            Quantity::Merged => "merged histogram",
        })
    }
}

/// The store implementation an error comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// [`crate::MemoryStore`].
    Memory,
    /// The embedded SQLite store.
    Sqlite,
    /// The PostgreSQL store.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        })
    }
}

/// What kind of store failure a [`StoreError`] is, for callers that react differently (retry a
/// locked store, tell the operator to free space, restore a damaged file).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Another process holds the lock the operation needs, beyond the time waited for it.
    Locked,
    /// The store (a file, or its directory) is read-only.
    ReadOnly,
    /// The system refused a read or write: a full disk, a file size limit, a failing device.
    Io,
    /// The store's content is damaged: corrupt pages, undecodable rows, dangling ids.
    Corrupt,
    /// The path holds something that is not a store.
    NotAStore,
    /// The database server cannot be reached (down, restarting, unreachable, refusing
    /// connections); retrying later may succeed.
    Unavailable,
    /// Any other failure of the backend.
    Other,
}

/// A store that failed: its backend, the kind of failure, a message that names what was being
/// done (and, for file faults, the path and the remedy), and the underlying error as
/// [`std::error::Error::source`].
///
/// ```
/// use mozaggregator_core::error::{Backend, StoreError, StoreErrorKind};
/// let e = StoreError::new(Backend::Sqlite, StoreErrorKind::Corrupt, "corrupt histogram blob");
/// assert_eq!(e.to_string(), "store: corrupt histogram blob");
/// assert_eq!((e.backend(), e.kind()), (Backend::Sqlite, StoreErrorKind::Corrupt));
/// assert!(std::error::Error::source(&e).is_none());
/// ```
#[derive(Debug, thiserror::Error)]
#[error("store: {message}")]
pub struct StoreError {
    backend: Backend,
    kind: StoreErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl StoreError {
    /// An error without an underlying cause.
    pub fn new(backend: Backend, kind: StoreErrorKind, message: impl Into<String>) -> Self {
        StoreError {
            backend,
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The same error, caused by `source`.
    #[must_use]
    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The same error with `context` (e.g. the store's path) before its message, unless the
    /// message already contains it.
    #[must_use]
    pub fn context(mut self, context: &str) -> Self {
        if !self.message.contains(context) {
            self.message = format!("{context}: {}", self.message);
        }
        self
    }

    /// The same error attributed to `backend` (code shared by several stores builds its errors
    /// once; the store that ran it names itself).
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The backend that failed.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The kind of failure.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// The message, without the `store: ` prefix of [`std::fmt::Display`].
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error with `path` before its message and `remedy` after it, unless the message
    /// already starts with the path (the error was described once already).
    #[must_use]
    pub(crate) fn describe(mut self, path: &str, remedy: &str) -> Self {
        if !self.message.starts_with(path) {
            self.message = format!("{path}: {}: {remedy}", self.message);
        }
        self
    }
}

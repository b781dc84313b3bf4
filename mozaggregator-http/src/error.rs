//! The one error type of the server crate.

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can stop a command or the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the core library (bad input, store failure, …).
    #[error(transparent)]
    Core(#[from] mozaggregator_core::Error),

    /// Reading or writing a file or stream failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or stream involved.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The server cannot listen on its address (invalid, in use, not permitted).
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address given.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },

    /// The command line or configuration is wrong.
    #[error("{0}")]
    Usage(String),
}

//! The one place where core errors become Python exceptions, and the exception classes of
//! store failures (`mozaggregator.StoreError` and its subclasses).

use mozaggregator_core::{Error, StoreErrorKind};
use std::io::ErrorKind;

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyKeyError, PyOSError, PyPermissionError,
    PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::PyErr;

pyo3::create_exception!(
    mozaggregator,
    StoreError,
    PyRuntimeError,
    "A store failed: the base of every store error (a ``RuntimeError``, which store errors \
     were before these classes existed)."
);
pyo3::create_exception!(
    mozaggregator,
    StoreLockedError,
    StoreError,
    "Another process kept the store locked beyond the lock timeout (a concurrent \
     ``mozaggregator aggregate`` or ``trim``): wait for it and try again."
);
pyo3::create_exception!(
    mozaggregator,
    StoreReadOnlyError,
    StoreError,
    "The store file (or its directory) cannot be written; reading it works."
);
pyo3::create_exception!(
    mozaggregator,
    StoreDamagedError,
    StoreError,
    "The store file is damaged (SQLite found it corrupt): restore it from a backup or \
     aggregate the pings again."
);
pyo3::create_exception!(
    mozaggregator,
    NotAStoreError,
    StoreError,
    "The file is not a mozaggregator store (another SQLite database, or not a database)."
);
pyo3::create_exception!(
    mozaggregator,
    StoreVersionError,
    StoreError,
    "The store was written by a newer version of mozaggregator: upgrade to read it."
);
pyo3::create_exception!(
    mozaggregator,
    StoreDiskError,
    StoreError,
    "The disk or the system refused a read or write of the store (a full disk, a file size \
     limit, a failing device); a write that failed left the store as it was."
);

pyo3::create_exception!(
    mozaggregator,
    StoreUnavailableError,
    StoreError,
    "The store's database server cannot be reached (down, restarting, unreachable, refusing \
     connections); trying again later may succeed."
);

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("StoreError", py.get_type::<StoreError>())?;
    m.add("StoreLockedError", py.get_type::<StoreLockedError>())?;
    m.add("StoreReadOnlyError", py.get_type::<StoreReadOnlyError>())?;
    m.add("StoreDamagedError", py.get_type::<StoreDamagedError>())?;
    m.add("NotAStoreError", py.get_type::<NotAStoreError>())?;
    m.add("StoreVersionError", py.get_type::<StoreVersionError>())?;
    m.add("StoreDiskError", py.get_type::<StoreDiskError>())?;
    m.add(
        "StoreUnavailableError",
        py.get_type::<StoreUnavailableError>(),
    )?;
    Ok(())
}

/// Maps a core error to the Python exception a caller expects:
///
/// | core error | Python |
/// |---|---|
/// | bad input: layouts, arguments, parse errors, definitions, overflow, layout mismatch; an interval asked of data without replicate groups | `ValueError` |
/// | unknown metric | `KeyError` |
/// | file I/O | `OSError` (the errno subclass, e.g. `FileNotFoundError`, with `filename` set) |
/// | a store failure of kind locked, read-only, corrupt (damaged pages or rows), not a store, I/O, unavailable (database unreachable) | `StoreLockedError`, `StoreReadOnlyError`, `StoreDamagedError`, `NotAStoreError`, `StoreDiskError`, `StoreUnavailableError` |
/// | a store written by a newer version | `StoreVersionError` |
/// | other store failures | `StoreError` |
/// | anything else | `RuntimeError` |
pub(crate) fn to_py_err(err: Error) -> PyErr {
    let message = err.to_string();
    match err {
        Error::UnknownMetric(metric) => PyKeyError::new_err(metric),
        Error::Io { path, source } => match source.raw_os_error() {
            // OSError(errno, strerror, filename) instantiates the matching subclass.
            Some(errno) => PyOSError::new_err((errno, source.to_string(), path)),
            // No errno (e.g. SQLite's "cannot open"): the errno and subclass of the kind, so
            // the message reads "[Errno 2] No such file or directory: 'path'", not
            // "[Errno None] …".
            None => {
                let (errno, strerror) = match source.kind() {
                    ErrorKind::NotFound => (ENOENT, "No such file or directory"),
                    ErrorKind::PermissionDenied => (EACCES, "Permission denied"),
                    ErrorKind::IsADirectory => (EISDIR, "Is a directory"),
                    _ => return PyOSError::new_err(format!("{path}: {source}")),
                };
                let args = (errno, format!("{strerror} ({source})"), path);
                match source.kind() {
                    ErrorKind::NotFound => PyFileNotFoundError::new_err(args),
                    ErrorKind::PermissionDenied => PyPermissionError::new_err(args),
                    _ => PyIsADirectoryError::new_err(args),
                }
            }
        },
        Error::InvalidLayout(_)
        | Error::Merge(_)
        | Error::Definition { .. }
        | Error::Parse { .. }
        | Error::Invalid { .. }
        | Error::NoReplicates(_) => PyValueError::new_err(message),
        Error::Store(e) => match e.kind() {
            StoreErrorKind::Locked => StoreLockedError::new_err(message),
            StoreErrorKind::ReadOnly => StoreReadOnlyError::new_err(message),
            StoreErrorKind::Corrupt => StoreDamagedError::new_err(message),
            StoreErrorKind::NotAStore => NotAStoreError::new_err(message),
            StoreErrorKind::Io => StoreDiskError::new_err(message),
            StoreErrorKind::Unavailable => StoreUnavailableError::new_err(message),
            _ => StoreError::new_err(message),
        },
        Error::SchemaTooNew { .. } => StoreVersionError::new_err(message),
        _ => PyRuntimeError::new_err(message),
    }
}

/// POSIX errno values (the same on Linux, macOS and Windows' CRT).
const ENOENT: i32 = 2;
const EACCES: i32 = 13;
const EISDIR: i32 = 21;

/// `.py()` on a core result: the error mapped by [`to_py_err`].
pub(crate) trait IntoPyResult<T> {
    /// Converts the error with [`to_py_err`].
    fn py(self) -> pyo3::PyResult<T>;
}

impl<T> IntoPyResult<T> for mozaggregator_core::Result<T> {
    fn py(self) -> pyo3::PyResult<T> {
        self.map_err(to_py_err)
    }
}

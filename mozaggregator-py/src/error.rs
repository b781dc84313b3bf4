//! The one place where core errors become Python exceptions.

use mozaggregator_core::Error;
use std::io::ErrorKind;

use pyo3::exceptions::{
    PyFileNotFoundError, PyIsADirectoryError, PyKeyError, PyOSError, PyPermissionError,
    PyRuntimeError, PyValueError,
};
use pyo3::PyErr;

/// Maps a core error to the Python exception a caller expects:
///
/// | core error | Python |
/// |---|---|
/// | bad input: layouts, arguments, parse errors, definitions, overflow, layout mismatch | `ValueError` |
/// | unknown metric | `KeyError` |
/// | file I/O | `OSError` (the errno subclass, e.g. `FileNotFoundError`, with `filename` set) |
/// | store failures and anything else | `RuntimeError` |
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
        | Error::Invalid { .. } => PyValueError::new_err(message),
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

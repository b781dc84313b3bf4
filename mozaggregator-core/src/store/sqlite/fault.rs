//! SQLite failures as [`StoreError`]s: the kind of each SQLite error code, and the messages
//! that name the store's file and what to do about a fault of the file itself.

use std::path::Path;

use crate::error::{Backend, Error, StoreError, StoreErrorKind};

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::Store(sqlite(err))
    }
}

/// A SQLite error as a store error of its kind, SQLite's own message, and the SQLite error as
/// its source.
fn sqlite(err: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode::{
        DatabaseBusy, DatabaseCorrupt, DatabaseLocked, DiskFull, NotADatabase, ReadOnly,
        SystemIoFailure,
    };
    let kind = match err.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked) => StoreErrorKind::Locked,
        Some(ReadOnly) => StoreErrorKind::ReadOnly,
        Some(DiskFull | SystemIoFailure) => StoreErrorKind::Io,
        Some(DatabaseCorrupt) => StoreErrorKind::Corrupt,
        Some(NotADatabase) => StoreErrorKind::NotAStore,
        _ => StoreErrorKind::Other,
    };
    StoreError::new(Backend::Sqlite, kind, format!("sqlite: {err}")).with_source(err)
}

/// A store whose content cannot be read (the pack stores' one constructor, which names SQLite).
pub(crate) use crate::store::packed::corrupt;

/// Any other failure of the SQLite store, described by `message`.
pub(crate) fn other(message: impl Into<String>) -> Error {
    StoreError::new(Backend::Sqlite, StoreErrorKind::Other, message).into()
}

/// SQLite's "database is locked" / "database table is locked", before any description.
pub(crate) fn is_busy(err: &Error) -> bool {
    err.store_kind() == Some(StoreErrorKind::Locked)
}

/// The error for a store another process keeps locked.
pub(crate) fn locked(path: &Path, err: StoreError) -> Error {
    describe(
        path,
        err,
        "the store is locked by another process: another `mozaggregator aggregate` or `trim` \
         is probably writing it: wait for it to finish and run this again (and check that the \
         file is not on a network file system, where SQLite's locks do not work)",
    )
}

/// A store error naming the file and what to do, for the faults of the file itself (locked,
/// read-only, full, damaged, not a store); other errors, and errors that already name the
/// file, are returned unchanged.
pub(crate) fn file_fault(path: &Path, err: Error) -> Error {
    let Error::Store(err) = err else {
        return err;
    };
    let what = match err.kind() {
        StoreErrorKind::Locked => return locked(path, err),
        StoreErrorKind::ReadOnly => {
            "the store file (or its directory) is read-only: make it writable to aggregate or \
             trim; reading it (`serve`, `export`) works as it is"
        }
        StoreErrorKind::Io => {
            "the system refused a write or read (a full disk, a file size limit, a failing \
             device): fix that and run this again; a write that failed left the store as it was"
        }
        StoreErrorKind::Corrupt => {
            "the store file is damaged: restore it from a backup (or rebuild it by aggregating \
             the pings again)"
        }
        StoreErrorKind::NotAStore => {
            "not a mozaggregator store; give the path of a store written by `mozaggregator \
             aggregate`"
        }
        _ => return Error::Store(err.context(&path.display().to_string())),
    };
    describe(path, err, what)
}

/// `err` with the path before its message and `what` after it (see [`StoreError::describe`]).
fn describe(path: &Path, err: StoreError, what: &str) -> Error {
    Error::Store(err.describe(&path.display().to_string(), what))
}

/// An error opening the database file: SQLite's "cannot open" is an I/O problem of the path
/// (missing directory, a directory in its place, no permission), reported as [`Error::Io`] so
/// callers (the CLI, Python's `OSError`) can say which; anything else is a store error naming
/// the file.
pub(crate) fn open_error(path: &Path, err: rusqlite::Error) -> Error {
    let cannot_open = matches!(
        err.sqlite_error_code(),
        Some(rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied)
    );
    if !cannot_open {
        return file_fault(path, err.into());
    }
    let kind = if path.is_dir() {
        std::io::ErrorKind::IsADirectory
    } else if path
        .parent()
        .is_some_and(|dir| !dir.as_os_str().is_empty() && !dir.exists())
    {
        std::io::ErrorKind::NotFound
    } else {
        std::io::ErrorKind::PermissionDenied
    };
    Error::io(path, std::io::Error::new(kind, err.to_string()))
}

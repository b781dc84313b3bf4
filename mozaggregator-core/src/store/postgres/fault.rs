//! PostgreSQL failures as [`StoreError`]s of their kind, never echoing a password.

use postgres::error::SqlState;

use crate::error::{Backend, Error, StoreError, StoreErrorKind};

impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        let kind = match err.code() {
            Some(code) => kind_of(code),
            // No SQL state: the connection failed or closed (refused, reset, timed out).
            None => StoreErrorKind::Unavailable,
        };
        let message = match err.as_db_error() {
            Some(db) => format!("postgres: {}: {}", db.severity(), db.message()),
            None => format!("postgres: {err}"),
        };
        Error::Store(StoreError::new(Backend::Postgres, kind, message).with_source(err))
    }
}

impl From<r2d2::Error> for Error {
    fn from(err: r2d2::Error) -> Self {
        // The pool waited for a connection and got none: the server is down or unreachable.
        Error::Store(StoreError::new(
            Backend::Postgres,
            StoreErrorKind::Unavailable,
            format!("postgres: no connection to the database: {err}"),
        ))
    }
}

fn kind_of(code: &SqlState) -> StoreErrorKind {
    if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        StoreErrorKind::ReadOnly
    } else if *code == SqlState::DISK_FULL
        || *code == SqlState::OUT_OF_MEMORY
        || *code == SqlState::IO_ERROR
    {
        StoreErrorKind::Io
    } else if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::T_R_DEADLOCK_DETECTED {
        StoreErrorKind::Locked
    } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
        StoreErrorKind::Corrupt
    } else if *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
        || *code == SqlState::TOO_MANY_CONNECTIONS
        || code.code().starts_with("08")
    {
        StoreErrorKind::Unavailable
    } else {
        StoreErrorKind::Other
    }
}

/// Any other failure of the PostgreSQL store, described by `message`.
pub(crate) fn other(message: impl Into<String>) -> Error {
    StoreError::new(Backend::Postgres, StoreErrorKind::Other, message).into()
}

/// Errors of the code the pack stores share name the PostgreSQL backend; errors of a
/// connection name the database (`shown`: its URL without password).
pub(crate) fn relabel(err: Error, shown: &str) -> Error {
    match err {
        Error::Store(e) => {
            let e = e.with_backend(Backend::Postgres);
            let e = match e.kind() {
                StoreErrorKind::Unavailable => e.context(shown),
                _ => e,
            };
            Error::Store(e)
        }
        other => other,
    }
}

/// The layout a `layouts` row describes, its (kind, low, high, n) in columns `first` to
/// `first + 3`; `None` when it describes none.
pub(crate) fn layout_at(
    row: &postgres::Row,
    first: usize,
) -> crate::error::Result<Option<crate::layout::LayoutSpec>> {
    Ok(crate::store::packed::codes::layout_from_row(
        i64::from(col::<i32>(row, first)?),
        col(row, first + 1)?,
        col(row, first + 2)?,
        i64::from(col::<i32>(row, first + 3)?),
    ))
}

/// The date in column `i` of `row` (stored as `YYYYMMDD` text); anything else is a damaged
/// store.
pub(crate) fn date_col(row: &postgres::Row, i: usize) -> crate::error::Result<crate::date::Date> {
    crate::store::packed::codes::date_from_text(col::<&str>(row, i)?)
}

/// Column `i` of `row`; a column of another type than the schema's, or a NULL, is a damaged
/// store, never a panic.
pub(crate) fn col<'a, T: postgres::types::FromSql<'a>>(
    row: &'a postgres::Row,
    i: usize,
) -> crate::error::Result<T> {
    row.try_get(i).map_err(|e| {
        StoreError::new(
            Backend::Postgres,
            StoreErrorKind::Corrupt,
            format!("unexpected column {i}: {e}"),
        )
        .into()
    })
}

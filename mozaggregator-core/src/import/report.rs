//! What an import did: [`ImportReport`], shared by every source (export files, the original
//! service's database).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::reject::ImportReject;
use crate::report::{by_name, count, write_reasons};
use crate::tally::Tally;

/// How many rejected rows an [`ImportReport`] describes ([`ImportReport::rejected_examples`]).
pub const MAX_EXAMPLES: usize = 20;

/// How many table names each list of an [`ImportReport`]'s summary shows.
const SHOWN_TABLES: usize = 50;

/// One rejected row, for the report: where it is, why, and the parser's or checker's words.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// The input's name (`<stdin>` for standard input; the table's name for the original
    /// service's database).
    pub input: String,
    /// The line the row starts on (1-based; the CSV header is line 1); for the original
    /// service's database, the row's position in its table as read (1-based).
    pub line: u64,
    /// Why.
    pub reason: ImportReject,
    /// Details.
    pub detail: String,
}

/// What an import did. Every row read is imported, skipped or rejected:
/// `rows_read == rows_imported + rows_skipped + rows_rejected.total()`.
///
/// ```
/// use mozaggregator_core::import::ImportReport;
/// let report = ImportReport { rows_read: 3, rows_imported: 3, targets_written: 1,
///     ..ImportReport::default() };
/// assert!(report.to_string().starts_with("read 3 rows"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportReport {
    /// Inputs read: export files, or tables of the original service's database.
    pub inputs_read: u64,
    /// Rows read (CSV headers and blank lines are not rows).
    pub rows_read: u64,
    /// Rows written into the store (merged into what it held).
    pub rows_imported: u64,
    /// Rows of tables that had already absorbed every date of the rows: not written.
    pub rows_skipped: u64,
    /// Rows not imported, by reason.
    pub rows_rejected: Tally<ImportReject>,
    /// The first rejected rows ([`MAX_EXAMPLES`] at most), with their line.
    pub rejected_examples: Vec<RejectedRow>,
    /// Tables written.
    pub targets_written: u64,
    /// Tables skipped because they had already absorbed every date of their rows.
    pub targets_skipped: u64,
    /// The skipped tables, `prefix/channel/version/date`.
    pub skipped_tables: Vec<String>,
    /// Tables that had absorbed some, not all, of their rows' dates: left as they were, rows
    /// rejected (`partly_absorbed`).
    pub partly_absorbed_tables: Vec<String>,
    /// Original service: `build_id` tables with no submission date recorded for them
    /// (`table_update_dates`), imported as having absorbed their own date (the build date).
    pub tables_without_dates: Vec<String>,
    /// Original service: tables named like aggregate tables (`build_id_…`,
    /// `submission_date_…`) whose name is no valid table (bad date, version, channel), with
    /// why; not read.
    pub tables_not_imported: Vec<String>,
}

impl ImportReport {
    /// Counts `n` rejected rows and keeps the first ones as examples.
    pub(crate) fn reject(
        &mut self,
        input: &str,
        line: u64,
        reason: ImportReject,
        n: u64,
        detail: String,
    ) {
        self.rows_rejected.add(reason, n);
        if self.rejected_examples.len() < MAX_EXAMPLES {
            self.rejected_examples.push(RejectedRow {
                input: input.to_string(),
                line,
                reason,
                detail,
            });
        }
    }
}

impl fmt::Display for ImportReport {
    /// A human-readable summary (what the CLI prints on stderr).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "read {} ({}): imported {}, skipped {} (already absorbed), rejected {}",
            count(self.rows_read, "row", "rows"),
            count(self.inputs_read, "input", "inputs"),
            self.rows_imported,
            self.rows_skipped,
            self.rows_rejected.total()
        )?;
        write_reasons(f, "rows rejected", by_name(&self.rows_rejected))?;
        if !self.rejected_examples.is_empty() {
            writeln!(f, "  first rejected rows:")?;
            for r in &self.rejected_examples {
                writeln!(f, "    {}:{}: {}: {}", r.input, r.line, r.reason, r.detail)?;
            }
        }
        writeln!(
            f,
            "  tables written {}, tables skipped (already absorbed) {}",
            self.targets_written, self.targets_skipped
        )?;
        write_tables(
            f,
            "tables of the original without recorded submission dates, imported as having \
             absorbed their build date",
            &self.tables_without_dates,
        )?;
        write_tables(
            f,
            "tables of the original not imported",
            &self.tables_not_imported,
        )?;
        if !self.partly_absorbed_tables.is_empty() {
            writeln!(
                f,
                "WARNING: {} had already absorbed some, not all, of the submission dates of \
                 their rows: NOT written (that would count those dates twice):",
                count(self.partly_absorbed_tables.len() as u64, "table", "tables")
            )?;
            for t in self.partly_absorbed_tables.iter().take(SHOWN_TABLES) {
                writeln!(f, "  partly absorbed {t}")?;
            }
            if self.partly_absorbed_tables.len() > SHOWN_TABLES {
                let more = self.partly_absorbed_tables.len() - SHOWN_TABLES;
                writeln!(f, "  … and {more} more")?;
            }
        }
        Ok(())
    }
}

/// `what` and the first [`SHOWN_TABLES`] of `tables`, when there are any.
fn write_tables(f: &mut fmt::Formatter<'_>, what: &str, tables: &[String]) -> fmt::Result {
    if tables.is_empty() {
        return Ok(());
    }
    writeln!(f, "  {what}: {}", tables.len())?;
    for t in tables.iter().take(SHOWN_TABLES) {
        writeln!(f, "    {t}")?;
    }
    if tables.len() > SHOWN_TABLES {
        writeln!(f, "    … and {} more", tables.len() - SHOWN_TABLES)?;
    }
    Ok(())
}

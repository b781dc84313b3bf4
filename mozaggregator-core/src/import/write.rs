//! Writing the rows of one table into a store, the same way for every source: skipped when the
//! table already absorbed all its dates, refused when it absorbed some, otherwise one
//! [`Store::write`] of its first absorbed date holding every row, then one write with no rows
//! per further date (which records the date as absorbed).

use std::collections::BTreeMap;

use super::report::ImportReport;
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::reject::ImportReject;
use crate::store::{Batch, Store};

/// The rows of one target with one set of absorbed dates, waiting to be written.
pub(crate) struct TableRows {
    /// The table.
    pub(crate) target: Target,
    /// The submission dates its rows hold (sorted, not empty).
    pub(crate) absorbed: Vec<Date>,
    /// One histogram per series and layout.
    pub(crate) rows: BTreeMap<(SeriesKey, LayoutSpec), Histogram>,
    /// Input rows these hold (more than `rows.len()` when a source merged rows of one series).
    pub(crate) rows_read: u64,
    /// Where the first of them was read (for the report).
    pub(crate) first_line: u64,
}

impl TableRows {
    /// No rows yet.
    pub(crate) fn new(target: Target, absorbed: Vec<Date>, first_line: u64) -> Self {
        Self {
            target,
            absorbed,
            rows: BTreeMap::new(),
            rows_read: 0,
            first_line,
        }
    }
}

/// `prefix/channel/version/date`, as reports name tables.
pub(crate) fn table_name(t: &Target) -> String {
    format!("{}/{}/{}/{}", t.prefix, t.channel, t.version, t.date)
}

/// Writes one table's rows (`input` names their source in the report) and adds what happened
/// to `report`.
///
/// # Errors
/// Store failures.
pub(crate) fn write_table(
    store: &dyn Store,
    report: &mut ImportReport,
    input: &str,
    table: TableRows,
) -> Result<()> {
    let n = table.rows_read;
    let name = table_name(&table.target);
    let had = store.absorbed(&table.target)?;
    if table.absorbed.iter().all(|d| had.contains(d)) {
        report.rows_skipped += n;
        report.targets_skipped += 1;
        report.skipped_tables.push(name);
        return Ok(());
    }
    if table.absorbed.iter().any(|d| had.contains(d)) {
        let detail = format!(
            "table {name} already absorbed {:?} of {:?}",
            table
                .absorbed
                .iter()
                .filter(|d| had.contains(*d))
                .collect::<Vec<_>>(),
            table.absorbed
        );
        report.reject(
            input,
            table.first_line,
            ImportReject::PartlyAbsorbed,
            n,
            detail,
        );
        report.partly_absorbed_tables.push(name);
        return Ok(());
    }
    let mut dates = table.absorbed.into_iter();
    let Some(first) = dates.next() else {
        return Ok(());
    };
    let mut batch = Batch::new(first);
    batch.tables.insert(
        table.target.clone(),
        table.rows.into_iter().map(|((k, _), h)| (k, h)).collect(),
    );
    let written = store.write(&batch)?;
    if !written.targets_skipped.is_empty() {
        // Another writer got there between the check and the write.
        report.rows_skipped += n;
        report.targets_skipped += 1;
        report.skipped_tables.push(name);
        return Ok(());
    }
    // Every input row is imported unless the store refused the row it went into (a merged
    // row refused counts once: the rest of its input rows count as imported).
    report.rows_imported += n.saturating_sub(written.rows_rejected.total());
    for (reason, k) in written.rows_rejected.iter() {
        report.reject(
            input,
            table.first_line,
            reason.into(),
            k,
            format!("table {name}: the store refused {k} of its rows: {reason}"),
        );
    }
    for date in dates {
        let mut empty = Batch::new(date);
        empty.tables.insert(table.target.clone(), Vec::new());
        store.write(&empty)?;
    }
    report.targets_written += 1;
    Ok(())
}

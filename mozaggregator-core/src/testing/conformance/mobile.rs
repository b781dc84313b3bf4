//! Checks of the write side of mobile rows ("Mobile rows" in the [`crate::Store`] contract):
//! merge, layouts, idempotency, absorbing without rows, rejects, empty rows, batch checks.

use std::collections::BTreeSet;

use super::fixtures::{
    date, layout_a, layout_b, mobile_batch, mobile_dump, mobile_hist, mobile_key, mobile_model,
    mobile_target, target,
};
use super::{ensure, ok, same, Factory, Failure};
use crate::keys::{Prefix, Target};
use crate::mobile::{MobileHistogram, MobileKey};
use crate::reject::RowReject;
use crate::store::Store;
use crate::tally::Tally;

/// The rows of one table.
type Rows = Vec<(MobileKey, MobileHistogram)>;

/// A mobile write merges rows of the same (key, layout) — count, sum and buckets added — and
/// keeps tables apart.
///
/// # Errors
/// The first deviation.
pub fn mobile_merge_on_write(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_merge_on_write";
    let store = factory();
    let t = mobile_target("release", "68.1", "20240102");
    let other = mobile_target("beta", "68.1", "20240102");
    let k1 = mobile_key("20240101", "Fenix", "29", "GC_MS", "", "parent");
    let k2 = mobile_key("20240101", "Fenix", "29", "GC_MS", "", "content");
    let a = mobile_hist(None, &[(2, 3), (6, 1)], 12, 2);
    let b = mobile_hist(None, &[(2, 1), (9, 4)], 40, 1);
    let c = mobile_hist(None, &[(100, 7)], 700, 3);
    let tables: Vec<(Target, Rows)> = vec![
        (
            t.clone(),
            vec![(k1.clone(), a), (k2.clone(), c.clone()), (k1.clone(), b)],
        ),
        (other.clone(), vec![(k1.clone(), c.clone())]),
    ];
    let r = ok(
        C,
        "write",
        store.write_mobile(&mobile_batch("20240102", tables.clone())),
    )?;
    same(C, "rows_written", &r.rows_written, &4)?;
    same(C, "targets_written", &r.targets_written, &2)?;
    same(C, "rows_rejected", &r.rows_rejected, &Tally::default())?;
    let merged = mobile_hist(None, &[(2, 4), (6, 1), (9, 4)], 52, 3);
    // Tables by channel, then keys field by field: `content` before `parent`.
    let want = vec![
        (other, k1.clone(), c.clone()),
        (t.clone(), k2, c),
        (t, k1, merged),
    ];
    same(C, "stored rows", &mobile_dump(&*store)?, &want)?;
    same(C, "stored rows (model)", &want, &mobile_model(&tables))
}

/// Rows of the same key with different layouts, or with and without a layout, are kept apart
/// and visited `None` first, then by layout.
///
/// # Errors
/// The first deviation.
pub fn mobile_layouts_kept_apart(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_layouts_kept_apart";
    let store = factory();
    let t = mobile_target("nightly", "70.0a1", "20240103");
    let k = mobile_key("20240102", "Fenix", "30", "PAGE_LOAD_MS", "", "parent");
    let rows = vec![
        (k.clone(), mobile_hist(Some(layout_b()), &[(1, 2)], 3, 1)),
        (k.clone(), mobile_hist(None, &[(5, 1)], 5, 1)),
        (k.clone(), mobile_hist(Some(layout_a()), &[(3, 1)], 9, 1)),
        (k.clone(), mobile_hist(Some(layout_b()), &[(4, 1)], 40, 1)),
        (k.clone(), mobile_hist(None, &[(5, 2), (8, 1)], 18, 2)),
    ];
    let r = ok(
        C,
        "write",
        store.write_mobile(&mobile_batch("20240103", vec![(t.clone(), rows.clone())])),
    )?;
    same(C, "rows_written", &r.rows_written, &5)?;
    let got = mobile_dump(&*store)?;
    let layouts: Vec<Option<_>> = got.iter().map(|(_, _, h)| h.layout()).collect();
    let mut sorted = vec![Some(layout_a()), Some(layout_b())];
    sorted.sort();
    sorted.insert(0, None);
    same(C, "layouts of the stored rows, in order", &layouts, &sorted)?;
    let want = vec![
        (
            t.clone(),
            k.clone(),
            mobile_hist(None, &[(5, 3), (8, 1)], 23, 3),
        ),
        (
            t.clone(),
            k.clone(),
            mobile_hist(Some(layout_a()), &[(3, 1)], 9, 1),
        ),
        (
            t.clone(),
            k.clone(),
            mobile_hist(Some(layout_b()), &[(1, 2), (4, 1)], 43, 2),
        ),
    ];
    let want: Vec<_> = {
        let mut w = want;
        w.sort_by_key(|(_, _, h)| h.layout());
        w
    };
    same(C, "stored rows", &got, &want)?;
    same(C, "stored rows (model)", &got, &mobile_model(&[(t, rows)]))
}

/// A table that absorbed its submission date ignores it the second time (reported as skipped,
/// data version unchanged); the other tables of the batch are written.
///
/// # Errors
/// The first deviation.
pub fn mobile_idempotent_per_submission_date(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_idempotent_per_submission_date";
    let store = factory();
    let t1 = mobile_target("release", "68.1", "20240102");
    let t2 = mobile_target("release", "68.2", "20240102");
    let t3 = mobile_target("beta", "69.0", "20240102");
    let rows = |seed: u64| {
        vec![
            (
                mobile_key("1", "Fenix", "29", "A", "", "parent"),
                mobile_hist(None, &[(seed as usize, seed + 1)], seed * 3 + 1, 1),
            ),
            (
                mobile_key("1", "Focus", "29", "B", "k", "content"),
                mobile_hist(Some(layout_a()), &[(2, seed + 2)], seed + 5, 2),
            ),
        ]
    };
    let first = mobile_batch(
        "20240102",
        vec![(t1.clone(), rows(1)), (t2.clone(), rows(2))],
    );
    ok(C, "first write", store.write_mobile(&first))?;
    let before = mobile_dump(&*store)?;
    same(C, "rows after the first write", &before.len(), &4)?;
    let version = ok(C, "data_version", store.data_version())?;

    let again = ok(C, "same batch again", store.write_mobile(&first))?;
    same(
        C,
        "targets skipped",
        &again.targets_skipped,
        &vec![t1.clone(), t2.clone()],
    )?;
    same(C, "targets written", &again.targets_written, &0)?;
    same(C, "rows written", &again.rows_written, &0)?;
    same(C, "store after the repeat", &mobile_dump(&*store)?, &before)?;
    same(
        C,
        "data_version after the repeat",
        &ok(C, "data_version", store.data_version())?,
        &version,
    )?;

    let mixed = mobile_batch(
        "20240102",
        vec![(t1.clone(), rows(7)), (t3.clone(), rows(8))],
    );
    let r = ok(C, "batch with one new table", store.write_mobile(&mixed))?;
    same(
        C,
        "targets skipped (mixed)",
        &r.targets_skipped,
        &vec![t1.clone()],
    )?;
    same(C, "targets written (mixed)", &r.targets_written, &1)?;
    same(C, "rows written (mixed)", &r.rows_written, &2)?;
    let after = mobile_dump(&*store)?;
    let old: Vec<_> = after.iter().filter(|(t, _, _)| *t != t3).cloned().collect();
    same(C, "skipped tables unchanged", &old, &before)?;
    same(
        C,
        "rows of the new table",
        &after.iter().filter(|(t, _, _)| *t == t3).count(),
        &2,
    )?;
    let one: BTreeSet<_> = [date("20240102")].into();
    for t in [&t1, &t3] {
        same(C, "absorbed", &ok(C, "absorbed", store.absorbed(t))?, &one)?;
    }
    same(
        C,
        "absorbed(unknown mobile table)",
        &ok(
            C,
            "absorbed",
            store.absorbed(&mobile_target("release", "68.1", "20240101")),
        )?,
        &BTreeSet::new(),
    )?;
    let next_day = mobile_target("release", "68.1", "20240103");
    let r = ok(
        C,
        "next submission date",
        store.write_mobile(&mobile_batch("20240103", vec![(next_day.clone(), rows(1))])),
    )?;
    same(C, "targets written (next date)", &r.targets_written, &1)?;
    same(
        C,
        "absorbed of the next date's table",
        &ok(C, "absorbed", store.absorbed(&next_day))?,
        &[date("20240103")].into(),
    )
}

/// A mobile table in a batch with no rows absorbs its date: written, listed by `absorbed` and
/// `dates`, skipped the second time, without rows.
///
/// # Errors
/// The first deviation.
pub fn mobile_absorbed_without_rows(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_absorbed_without_rows";
    let store = factory();
    let t = mobile_target("aurora", "68.0b3", "20240104");
    let empty = mobile_batch("20240104", vec![(t.clone(), Vec::new())]);
    let r = ok(C, "write without rows", store.write_mobile(&empty))?;
    same(C, "targets written", &r.targets_written, &1)?;
    same(C, "rows written", &r.rows_written, &0)?;
    same(
        C,
        "absorbed",
        &ok(C, "absorbed", store.absorbed(&t))?,
        &[date("20240104")].into(),
    )?;
    same(
        C,
        "channels",
        &ok(C, "channels", store.channels(Prefix::MobileMetrics))?,
        &vec!["aurora".to_string()],
    )?;
    same(
        C,
        "dates",
        &ok(C, "dates", store.dates(Prefix::MobileMetrics, "aurora"))?.len(),
        &1,
    )?;
    same(C, "rows", &mobile_dump(&*store)?, &Vec::new())?;
    let again = ok(
        C,
        "the write without rows again",
        store.write_mobile(&empty),
    )?;
    same(
        C,
        "targets skipped (again)",
        &again.targets_skipped,
        &vec![t],
    )?;
    same(C, "targets written (again)", &again.targets_written, &0)
}

/// Rows breaking the rules are not written and are counted by reason; so are merges that
/// would not fit; a table with a NUL in its channel is not created. The other rows are
/// written.
///
/// # Errors
/// The first deviation.
pub fn mobile_rejected_rows(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_rejected_rows";
    let store = factory();
    let t = mobile_target("release", "68.1", "20240105");
    let good_key = mobile_key("1", "Fenix", "29", "OK_METRIC", "", "parent");
    let h = mobile_hist(None, &[(1, 1)], 1, 1);
    let big = i64::MAX as u64;
    let with = |f: &dyn Fn(&mut MobileKey)| {
        let mut k = good_key.clone();
        f(&mut k);
        k
    };
    let named = |m: &str| with(&|k| k.metric = m.into());
    let good = vec![
        (good_key.clone(), h.clone()),
        (named("[[COUNT]]_SCALARS_A.B-C"), h.clone()),
        (
            named("AT_THE_LIMIT"),
            mobile_hist(None, &[(3, big)], big, big),
        ),
        (
            named("SUMS_TO_THE_LIMIT"),
            mobile_hist(None, &[(3, 1)], big - 5, 1),
        ),
        (
            named("SUMS_TO_THE_LIMIT"),
            mobile_hist(None, &[(3, 1)], 5, 1),
        ),
    ];
    let bad = vec![
        (named("GC MS"), h.clone()),
        (named("GC/MS"), h.clone()),
        (named(""), h.clone()),
        (named("GC_MS\u{e9}"), h.clone()),
        (with(&|k| k.build_id.push('\0')), h.clone()),
        (with(&|k| k.application.push('\0')), h.clone()),
        (with(&|k| k.architecture.push('\0')), h.clone()),
        (with(&|k| k.os.push('\0')), h.clone()),
        (with(&|k| k.os_version.push('\0')), h.clone()),
        (with(&|k| k.key.push('\0')), h.clone()),
        (with(&|k| k.process.push('\0')), h.clone()),
        (named("SUM"), mobile_hist(None, &[(1, 1)], big + 1, 1)),
        (named("COUNT"), mobile_hist(None, &[(1, 1)], 1, big + 1)),
        (named("BUCKET"), mobile_hist(None, &[(1, big + 1)], 1, 1)),
        // Each fits, their merge does not.
        (named("AT_THE_LIMIT"), mobile_hist(None, &[(3, 1)], 0, 0)),
        (named("SUMS_TO_THE_LIMIT"), mobile_hist(None, &[], 1, 0)),
        (named("OK_METRIC"), mobile_hist(None, &[], 0, big)),
    ];
    let nul_table = mobile_target("rel\0ease", "68.1", "20240105");
    let mut rows = good.clone();
    rows.extend(bad);
    let r = ok(
        C,
        "write",
        store.write_mobile(&mobile_batch(
            "20240105",
            vec![(t.clone(), rows), (nul_table.clone(), good[..2].to_vec())],
        )),
    )?;
    let want = Tally::from([
        (RowReject::BadMetricName, 4),
        (RowReject::NulInDimension, 9),
        (RowReject::SumOutOfRange, 3),
        (RowReject::MergeOverflow, 3),
    ]);
    same(C, "rows_rejected", &r.rows_rejected, &want)?;
    same(C, "rows_written", &r.rows_written, &5)?;
    same(C, "targets_written", &r.targets_written, &1)?;
    same(
        C,
        "stored rows",
        &mobile_dump(&*store)?,
        &mobile_model(&[(t, good)]),
    )?;
    same(
        C,
        "channels (a table with NUL is not created)",
        &ok(C, "channels", store.channels(Prefix::MobileMetrics))?,
        &vec!["release".to_string()],
    )?;
    same(
        C,
        "absorbed of the table with NUL",
        &ok(C, "absorbed", store.absorbed(&nul_table))?,
        &BTreeSet::new(),
    )
}

/// An empty row counts as written but is not stored.
///
/// # Errors
/// The first deviation.
pub fn mobile_empty_rows_not_stored(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_empty_rows_not_stored";
    let store = factory();
    let t = mobile_target("release", "68.1", "20240106");
    let full = mobile_hist(Some(layout_a()), &[(4, 2)], 10, 2);
    let full_key = mobile_key("1", "Fenix", "29", "FULL", "", "parent");
    let r = ok(
        C,
        "write",
        store.write_mobile(&mobile_batch(
            "20240106",
            vec![(
                t.clone(),
                vec![
                    (
                        mobile_key("1", "Fenix", "29", "EMPTY", "", "parent"),
                        MobileHistogram::new(None),
                    ),
                    (full_key.clone(), full.clone()),
                    (
                        mobile_key("1", "Fenix", "29", "EMPTY_WITH_LAYOUT", "", "gpu"),
                        MobileHistogram::new(Some(layout_b())),
                    ),
                ],
            )],
        )),
    )?;
    same(C, "rows_written", &r.rows_written, &3)?;
    same(
        C,
        "stored rows",
        &mobile_dump(&*store)?,
        &vec![(t, full_key, full)],
    )?;
    same(
        C,
        "mobile_rows of stats",
        &ok(C, "stats", store.stats())?.mobile_rows,
        &1,
    )
}

/// A batch failing [`crate::mobile::MobileBatch::check`] (a desktop table, or a table of
/// another date) fails the write as invalid, and nothing of it is written.
///
/// # Errors
/// The first deviation.
pub fn mobile_batch_checked(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_batch_checked";
    let store = factory();
    let good = mobile_target("release", "68.1", "20240107");
    let rows = vec![(
        mobile_key("1", "Fenix", "29", "A", "", "parent"),
        mobile_hist(None, &[(1, 1)], 1, 1),
    )];
    let version = ok(C, "data_version", store.data_version())?;
    for bad in [
        target(Prefix::SubmissionDate, "release", "68", "20240107"),
        target(Prefix::BuildId, "release", "68", "20240107"),
        mobile_target("release", "68.1", "20240106"),
    ] {
        let batch = mobile_batch(
            "20240107",
            vec![(good.clone(), rows.clone()), (bad.clone(), rows.clone())],
        );
        let result = store.write_mobile(&batch);
        ensure(
            C,
            matches!(result, Err(crate::Error::Invalid { .. })),
            format!("a batch with table {bad:?} was not refused as invalid: {result:?}"),
        )?;
        same(
            C,
            "rows after a refused batch",
            &mobile_dump(&*store)?,
            &Vec::new(),
        )?;
        same(
            C,
            "absorbed after a refused batch",
            &ok(C, "absorbed", store.absorbed(&good))?,
            &BTreeSet::new(),
        )?;
        for prefix in [
            Prefix::MobileMetrics,
            Prefix::BuildId,
            Prefix::SubmissionDate,
        ] {
            same(
                C,
                "channels after a refused batch",
                &ok(C, "channels", store.channels(prefix))?,
                &Vec::<String>::new(),
            )?;
        }
        same(
            C,
            "data_version after a refused batch",
            &ok(C, "data_version", store.data_version())?,
            &version,
        )?;
    }
    Ok(())
}

/// The desktop `write` refuses a batch holding a mobile table, as invalid, and writes none of
/// it (its desktop tables neither).
///
/// # Errors
/// The first deviation.
pub fn mobile_refused_by_write(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_refused_by_write";
    let store = factory();
    let version = ok(C, "data_version", store.data_version())?;
    let desktop = target(Prefix::SubmissionDate, "release", "68", "20240107");
    let mobile = mobile_target("release", "68.1", "20240107");
    let d = super::fixtures::dims("Firefox", "x86", "Windows_NT", "10.0");
    let row = (
        super::fixtures::key("GC_MS", "", crate::keys::Process::Parent, &d),
        super::fixtures::seeded(layout_a(), 1),
    );
    let batch = super::fixtures::batch(
        "20240107",
        vec![
            (desktop.clone(), vec![row.clone()]),
            (mobile.clone(), vec![row]),
        ],
    );
    let result = store.write(&batch);
    ensure(
        C,
        matches!(result, Err(crate::Error::Invalid { .. })),
        format!("a desktop write of a mobile table was not refused as invalid: {result:?}"),
    )?;
    same(
        C,
        "series after",
        &super::fixtures::dump(&*store)?,
        &Vec::new(),
    )?;
    same(C, "mobile rows after", &mobile_dump(&*store)?, &Vec::new())?;
    for t in [&desktop, &mobile] {
        same(
            C,
            "absorbed after",
            &ok(C, "absorbed", store.absorbed(t))?,
            &BTreeSet::new(),
        )?;
        same(
            C,
            "channels after",
            &ok(C, "channels", store.channels(t.prefix))?,
            &Vec::<String>::new(),
        )?;
    }
    same(
        C,
        "data_version after",
        &ok(C, "data_version", store.data_version())?,
        &version,
    )
}

/// A store with two mobile tables (release 68.1 and beta 69.0 of 20240102) written, for checks
/// of the read side; returns what [`Store::scan_mobile`] must visit.
pub(super) fn two_tables(
    store: &dyn Store,
    check: &'static str,
) -> Result<Vec<(Target, MobileKey, MobileHistogram)>, Failure> {
    let tables: Vec<(Target, Rows)> = vec![
        (
            mobile_target("release", "68.1", "20240102"),
            vec![(
                mobile_key("1", "Fenix", "29", "GC_MS", "", "parent"),
                mobile_hist(None, &[(3, 2)], 6, 2),
            )],
        ),
        (
            mobile_target("beta", "69.0", "20240102"),
            vec![(
                mobile_key("2", "Focus", "28", "GC_MS", "", "parent"),
                mobile_hist(Some(layout_a()), &[(1, 1)], 1, 1),
            )],
        ),
    ];
    ok(
        check,
        "mobile write",
        store.write_mobile(&mobile_batch("20240102", tables.clone())),
    )?;
    Ok(mobile_model(&tables))
}

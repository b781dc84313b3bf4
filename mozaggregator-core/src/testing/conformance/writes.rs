//! Checks of the write side: merge, layouts, idempotency, atomicity, rejects, empty rows.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

use super::fixtures::{
    batch, date, dims, dump, expected, hist, key, layout_a, layout_b, query, seeded, target,
};
use super::{ensure, ok, same, Factory, Failure};
use crate::filter::Filter;
use crate::histogram::Histogram;
use crate::keys::{Prefix, Process};
use crate::layout::LayoutSpec;
use crate::reject::RowReject;
use crate::tally::Tally;

/// Writing merges into what is stored: bucket-wise add, `sum` and `count` added.
///
/// # Errors
/// The first deviation.
pub fn merge_on_write(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "merge_on_write";
    let store = factory();
    let t = target(Prefix::SubmissionDate, "nightly", "42", "20150601");
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let k1 = key("GC_MS", "", Process::Parent, &d);
    let k2 = key("GC_MS", "", Process::Content, &d);
    let a = hist(layout_a(), &[(1, 3), (5, 2)], 40, 2);
    let b = hist(layout_a(), &[(5, 1), (7, 4)], 100, 3);
    let c = hist(layout_a(), &[(0, 9), (19, 1)], 1000, 1);
    let r = ok(
        C,
        "first write",
        store.write(&batch(
            "20150601",
            vec![(
                t.clone(),
                vec![(k1.clone(), a.clone()), (k2.clone(), b.clone())],
            )],
        )),
    )?;
    same(C, "rows_written of the first write", &r.rows_written, &2)?;
    same(
        C,
        "targets_written of the first write",
        &r.targets_written,
        &1,
    )?;
    for (date, h) in [("20150602", &b), ("20150603", &c)] {
        let r = ok(
            C,
            "later write",
            store.write(&batch(
                date,
                vec![(t.clone(), vec![(k1.clone(), h.clone())])],
            )),
        )?;
        same(C, "rows_written of a later write", &r.rows_written, &1)?;
    }
    let k1_merged = hist(
        layout_a(),
        &[(0, 9), (1, 3), (5, 3), (7, 4), (19, 1)],
        1140,
        6,
    );
    let model = vec![(t.clone(), k1, k1_merged), (t, k2, b)];
    same(
        C,
        "stored series after three writes",
        &dump(&*store)?,
        &model,
    )?;
    let q = query(
        Prefix::SubmissionDate,
        "nightly",
        "42",
        &["20150601"],
        "GC_MS",
        Filter::All,
    );
    same(
        C,
        "query merging both processes",
        &ok(C, "query", store.query(&q))?,
        &expected(&model, &q),
    )
}

/// Rows of the same key with different layouts are kept apart, in one batch and across
/// batches, and served as separate query rows (ordered by layout).
///
/// # Errors
/// The first deviation.
pub fn layouts_kept_apart(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "layouts_kept_apart";
    let store = factory();
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    let k = key(
        "GC_MS",
        "",
        Process::Parent,
        &dims("Firefox", "x86", "Linux", "3.1"),
    );
    let x = seeded(layout_a(), 1);
    let y = seeded(layout_b(), 2);
    let z = seeded(layout_a(), 3);
    ok(
        C,
        "write both layouts",
        store.write(&batch(
            "20150601",
            vec![(
                t.clone(),
                vec![(k.clone(), x.clone()), (k.clone(), y.clone())],
            )],
        )),
    )?;
    ok(
        C,
        "write one layout again",
        store.write(&batch(
            "20150602",
            vec![(t.clone(), vec![(k.clone(), z.clone())])],
        )),
    )?;
    let mut xz = x;
    xz.merge(&z)
        .map_err(|e| Failure::new(C, format!("fixture merge: {e}")))?;
    let model = vec![(t.clone(), k.clone(), xz), (t, k, y)];
    same(C, "stored series", &dump(&*store)?, &model)?;
    let q = query(
        Prefix::BuildId,
        "nightly",
        "42",
        &["20150601"],
        "GC_MS",
        Filter::All,
    );
    let got = ok(C, "query", store.query(&q))?;
    same(C, "one query row per layout", &got, &expected(&model, &q))?;
    same(C, "number of query rows", &got.len(), &2)
}

/// A target that absorbed a submission date ignores it the second time (reported as skipped);
/// the other targets of the batch are written.
///
/// # Errors
/// The first deviation.
pub fn idempotent_per_submission_date(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "idempotent_per_submission_date";
    let store = factory();
    let t1 = target(Prefix::BuildId, "nightly", "42", "20150530");
    let t2 = target(Prefix::SubmissionDate, "nightly", "42", "20150601");
    let t3 = target(Prefix::SubmissionDate, "beta", "41", "20150601");
    let d = dims("Firefox", "x86-64", "Darwin", "15.0");
    let rows = |seed: u64| {
        vec![
            (key("A", "", Process::Parent, &d), seeded(layout_a(), seed)),
            (
                key("B", "x", Process::Gpu, &d),
                seeded(layout_b(), seed + 1),
            ),
        ]
    };
    let first = batch(
        "20150601",
        vec![(t1.clone(), rows(1)), (t2.clone(), rows(3))],
    );
    ok(C, "first write", store.write(&first))?;
    let before = dump(&*store)?;
    let version = ok(C, "data_version", store.data_version())?;

    let again = ok(C, "same batch again", store.write(&first))?;
    same(
        C,
        "targets skipped",
        &again.targets_skipped,
        &vec![t1.clone(), t2.clone()],
    )?;
    same(C, "targets written", &again.targets_written, &0)?;
    same(C, "rows written", &again.rows_written, &0)?;
    same(C, "store after the repeat", &dump(&*store)?, &before)?;
    same(
        C,
        "data_version after the repeat",
        &ok(C, "data_version", store.data_version())?,
        &version,
    )?;

    let mixed = batch(
        "20150601",
        vec![(t1.clone(), rows(10)), (t3.clone(), rows(20))],
    );
    let r = ok(C, "batch with one new target", store.write(&mixed))?;
    same(
        C,
        "targets skipped (mixed)",
        &r.targets_skipped,
        &vec![t1.clone()],
    )?;
    same(C, "targets written (mixed)", &r.targets_written, &1)?;
    same(C, "rows written (mixed)", &r.rows_written, &2)?;
    let after = dump(&*store)?;
    let old: Vec<_> = after.iter().filter(|(t, _, _)| *t != t3).cloned().collect();
    same(C, "skipped targets unchanged", &old, &before)?;
    ensure(
        C,
        after.iter().filter(|(t, _, _)| *t == t3).count() == 2,
        "the new target of a partly repeated batch was not written",
    )?;

    let one: BTreeSet<_> = [date("20150601")].into();
    same(
        C,
        "absorbed(t1)",
        &ok(C, "absorbed", store.absorbed(&t1))?,
        &one,
    )?;
    same(
        C,
        "absorbed(t3)",
        &ok(C, "absorbed", store.absorbed(&t3))?,
        &one,
    )?;
    let unknown = target(Prefix::BuildId, "nightly", "42", "20000101");
    same(
        C,
        "absorbed(unknown target)",
        &ok(C, "absorbed", store.absorbed(&unknown))?,
        &BTreeSet::new(),
    )?;
    let next = ok(
        C,
        "next submission date",
        store.write(&batch("20150602", vec![(t1.clone(), rows(1))])),
    )?;
    same(C, "targets written (next date)", &next.targets_written, &1)?;
    let two: BTreeSet<_> = [date("20150601"), date("20150602")].into();
    same(
        C,
        "absorbed(t1) after two dates",
        &ok(C, "absorbed", store.absorbed(&t1))?,
        &two,
    )
}

/// A reader never sees part of a multi-target batch.
///
/// # Errors
/// The first deviation.
pub fn atomic_multi_target(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "atomic_multi_target";
    let store = factory();
    let dates = ["20150101", "20150102", "20150103"];
    let labels: Vec<String> = (0..20).map(|i| format!("label{i:02}")).collect();
    let d = dims("Firefox", "x86", "Windows_NT", "10.0");
    let one = hist(layout_a(), &[(3, 1)], 7, 1);
    let make = |submission: &str| {
        batch(
            submission,
            dates
                .iter()
                .map(|date| {
                    let rows = labels
                        .iter()
                        .map(|l| (key("KEYED", l, Process::Content, &d), one.clone()))
                        .collect();
                    (target(Prefix::BuildId, "nightly", "42", date), rows)
                })
                .collect(),
        )
    };
    const WRITES: u64 = 25;
    let q = query(
        Prefix::BuildId,
        "nightly",
        "42",
        &dates,
        "KEYED",
        Filter::All,
    );
    let done = AtomicBool::new(false);
    let store_ref = &*store;
    std::thread::scope(|scope| -> Result<(), Failure> {
        let writer = scope.spawn(|| -> Result<(), Failure> {
            let result = (0..WRITES).try_for_each(|i| {
                let day = date("20150201")
                    .add_days(i as i64)
                    .map_err(|e| Failure::new(C, format!("date: {e}")))?;
                ok(
                    C,
                    "concurrent write",
                    store_ref.write(&make(&day.to_string())),
                )
                .map(drop)
            });
            done.store(true, Ordering::SeqCst);
            result
        });
        let mut reads = 0u64;
        loop {
            let finished = done.load(Ordering::SeqCst);
            let rows = ok(C, "concurrent query", store_ref.query(&q))?;
            let counts: BTreeSet<u64> = rows.iter().map(|r| r.histogram.count()).collect();
            ensure(
                C,
                rows.is_empty() || (rows.len() == 60 && counts.len() == 1),
                format!(
                    "a query saw part of a batch: {} rows with counts {counts:?}",
                    rows.len()
                ),
            )?;
            reads += 1;
            if finished {
                same(
                    C,
                    "final count",
                    &counts.into_iter().collect::<Vec<_>>(),
                    &vec![WRITES],
                )?;
                break;
            }
        }
        ensure(C, reads > 0, "no read ran")?;
        writer
            .join()
            .map_err(|_| Failure::new(C, "writer thread panicked"))?
    })
}

/// Rows breaking the rules are not written and are counted by reason; so are merges that
/// would overflow. The other rows are written.
///
/// # Errors
/// The first deviation.
pub fn rejected_rows(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "rejected_rows";
    let store = factory();
    let t = target(Prefix::SubmissionDate, "nightly", "42", "20150601");
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let h = seeded(layout_a(), 4);
    let with_dims = |f: &dyn Fn(&mut crate::keys::Dims)| {
        let mut d2 = d.clone();
        f(&mut d2);
        key("OK_METRIC", "", Process::Parent, &d2)
    };
    let too_big = hist(layout_a(), &[(1, 1)], i64::MAX as u64 + 1, 1);
    let mismatched = reshape(&h, |v| {
        if let Some(counts) = v.get_mut("counts").and_then(|c| c.as_array_mut()) {
            counts.pop();
        }
    })?;
    let invalid_layout = reshape(&hist(LayoutSpec::flag(), &[(1, 1)], 1, 1), |v| {
        if let Some(layout) = v.get_mut("layout") {
            layout["kind"] = "exponential".into();
            layout["low"] = 0.into();
        }
    })?;
    let good = [
        (key("OK_METRIC", "", Process::Parent, &d), h.clone()),
        (
            key("[[COUNT]]_SCALARS_A.B-C", "Key", Process::Gpu, &d),
            h.clone(),
        ),
        (
            key("BIG_BUCKET", "", Process::Parent, &d),
            hist(layout_a(), &[(2, u64::MAX - 1)], 5, 1),
        ),
        (
            key("BIG_SUM", "", Process::Parent, &d),
            hist(layout_a(), &[(2, 1)], i64::MAX as u64 - 5, 1),
        ),
        (
            key("BIG_COUNT", "", Process::Parent, &d),
            hist(layout_a(), &[(2, 1)], 5, u64::MAX),
        ),
    ];
    let bad = vec![
        (key("GC MS", "", Process::Parent, &d), h.clone()),
        (key("GC/MS", "", Process::Parent, &d), h.clone()),
        (key("", "", Process::Parent, &d), h.clone()),
        (key("GC_MS\u{e9}", "", Process::Parent, &d), h.clone()),
        (key("OK_METRIC", "a\0b", Process::Parent, &d), h.clone()),
        (with_dims(&|d| d.application.push('\0')), h.clone()),
        (with_dims(&|d| d.architecture.push('\0')), h.clone()),
        (with_dims(&|d| d.os.push('\0')), h.clone()),
        (with_dims(&|d| d.os_version.push('\0')), h.clone()),
        (key("SUM", "", Process::Parent, &d), too_big),
        (key("MISMATCH", "", Process::Parent, &d), mismatched),
        (key("BAD_LAYOUT", "", Process::Parent, &d), invalid_layout),
    ];
    let nul_target = target(Prefix::SubmissionDate, "night\0ly", "42", "20150601");
    let mut rows: Vec<_> = good.to_vec();
    rows.extend(bad);
    let r = ok(
        C,
        "write",
        store.write(&batch(
            "20150601",
            vec![(t.clone(), rows), (nul_target, good[..2].to_vec())],
        )),
    )?;
    let want = Tally::from([
        (RowReject::BadMetricName, 4),
        (RowReject::NulInDimension, 7),
        (RowReject::SumOutOfRange, 1),
        (RowReject::LayoutMismatch, 2),
    ]);
    same(C, "rows_rejected", &r.rows_rejected, &want)?;
    same(C, "rows_written", &r.rows_written, &5)?;
    same(
        C,
        "targets_written (a target with NUL is not created)",
        &r.targets_written,
        &1,
    )?;
    let mut model: Vec<_> = good
        .iter()
        .map(|(k, h)| (t.clone(), k.clone(), h.clone()))
        .collect();
    model.sort_by(|a, b| a.1.cmp(&b.1));
    same(C, "stored rows", &dump(&*store)?, &model)?;
    same(
        C,
        "channels",
        &ok(C, "channels", store.channels(Prefix::SubmissionDate))?,
        &vec!["nightly".to_string()],
    )?;

    // Merges that would overflow: a bucket or the count beyond u64, the sum beyond i64.
    let overflow = vec![
        (good[2].0.clone(), hist(layout_a(), &[(2, 2)], 1, 1)),
        (good[3].0.clone(), hist(layout_a(), &[(2, 1)], 10, 1)),
        (good[4].0.clone(), hist(layout_a(), &[(2, 1)], 1, 1)),
        (good[0].0.clone(), h.clone()),
    ];
    let r = ok(
        C,
        "overflowing write",
        store.write(&batch("20150602", vec![(t.clone(), overflow)])),
    )?;
    let want = Tally::from([(RowReject::MergeOverflow, 2), (RowReject::SumOutOfRange, 1)]);
    same(
        C,
        "rows_rejected of overflowing merges",
        &r.rows_rejected,
        &want,
    )?;
    same(
        C,
        "rows_written beside overflowing merges",
        &r.rows_written,
        &1,
    )?;
    let mut doubled = h.clone();
    doubled
        .merge(&h)
        .map_err(|e| Failure::new(C, format!("fixture merge: {e}")))?;
    for row in &mut model {
        if row.1 == good[0].0 {
            row.2 = doubled.clone();
        }
    }
    same(
        C,
        "stored rows after overflowing merges",
        &dump(&*store)?,
        &model,
    )
}

/// Serialises a histogram, edits the JSON and deserialises it: the only way to build a
/// histogram that breaks its invariants (as a malformed input file could).
fn reshape(h: &Histogram, edit: impl Fn(&mut serde_json::Value)) -> Result<Histogram, Failure> {
    let fail = |e: serde_json::Error| Failure::new("rejected_rows", format!("fixture: {e}"));
    let mut v = serde_json::to_value(h).map_err(fail)?;
    edit(&mut v);
    serde_json::from_value(v).map_err(fail)
}

/// An empty histogram counts as written but is not stored and adds no filter option.
///
/// # Errors
/// The first deviation.
pub fn empty_rows_not_stored(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "empty_rows_not_stored";
    let store = factory();
    let t = target(Prefix::BuildId, "aurora", "40", "20150601");
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let full = seeded(layout_a(), 9);
    let r = ok(
        C,
        "write",
        store.write(&batch(
            "20150601",
            vec![(
                t.clone(),
                vec![
                    (
                        key("EMPTY", "", Process::Gpu, &d),
                        Histogram::empty(layout_a()),
                    ),
                    (key("FULL", "", Process::Parent, &d), full.clone()),
                ],
            )],
        )),
    )?;
    same(C, "rows_written", &r.rows_written, &2)?;
    same(
        C,
        "stored rows",
        &dump(&*store)?,
        &vec![(t, key("FULL", "", Process::Parent, &d), full)],
    )?;
    let options = ok(C, "filter_options", store.filter_options("aurora", "40"))?;
    let metrics = options.map(|o| (o.metric, o.child));
    same(
        C,
        "filter options (metric, child)",
        &metrics,
        &Some((["FULL".to_string()].into(), [Process::Parent].into())),
    )?;
    let q = query(
        Prefix::BuildId,
        "aurora",
        "40",
        &["20150601"],
        "EMPTY",
        Filter::All,
    );
    same(
        C,
        "query of the empty row",
        &ok(C, "query", store.query(&q))?,
        &Vec::new(),
    )
}

/// A target present in a batch with no rows absorbs the batch's submission date: it is written
/// (and reported so), [`crate::Store::absorbed`] lists the date, the same batch again is
/// skipped, and no series appears. This is how `import` records every absorbed date of a
/// target (one write with the rows, then one empty write per further date).
///
/// # Errors
/// The first deviation.
pub fn absorbed_without_rows(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "absorbed_without_rows";
    let store = factory();
    let t = target(Prefix::BuildId, "nightly", "42", "20150530");
    let d = dims("Firefox", "x86", "Linux", "4.1");
    let rows = vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 2))];
    let r = ok(
        C,
        "write with rows",
        store.write(&batch("20150601", vec![(t.clone(), rows)])),
    )?;
    same(C, "targets written (rows)", &r.targets_written, &1)?;
    let before = dump(&*store)?;
    let empty = batch("20150602", vec![(t.clone(), Vec::new())]);
    let r = ok(C, "write without rows", store.write(&empty))?;
    same(C, "targets written (no rows)", &r.targets_written, &1)?;
    same(C, "rows written (no rows)", &r.rows_written, &0)?;
    let both: BTreeSet<_> = [date("20150601"), date("20150602")].into();
    same(
        C,
        "absorbed after a write without rows",
        &ok(C, "absorbed", store.absorbed(&t))?,
        &both,
    )?;
    same(
        C,
        "series after a write without rows",
        &dump(&*store)?,
        &before,
    )?;
    let again = ok(C, "the write without rows again", store.write(&empty))?;
    same(
        C,
        "targets skipped (again)",
        &again.targets_skipped,
        &vec![t],
    )?;
    let fresh = target(Prefix::SubmissionDate, "beta", "41", "20150603");
    let r = ok(
        C,
        "write without rows to a new target",
        store.write(&batch("20150603", vec![(fresh.clone(), Vec::new())])),
    )?;
    same(C, "targets written (new target)", &r.targets_written, &1)?;
    same(
        C,
        "absorbed(new target without rows)",
        &ok(C, "absorbed", store.absorbed(&fresh))?,
        &[date("20150603")].into(),
    )?;
    same(
        C,
        "series after writes without rows",
        &dump(&*store)?,
        &before,
    )
}

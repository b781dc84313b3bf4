//! Checks of the contract's replicate groups ([`crate::store::ReplicateTables`]).
//!
//! The oracle of a group's answer is the store itself: group g's rows written as a normal batch
//! into a fresh store must answer the same query as [`Store::replicates`] does for group g.
//! A store that does not keep replicates passes by refusing them as the contract says
//! ([`replicates_kept`] tells the two apart).

use super::fixtures::{batch, dims, dump, key, layout_a, layout_b, query, seeded, target};
use super::{ensure, ok, same, Factory, Failure};
use crate::error::Error;
use crate::filter::{Dimension, Filter};
use crate::histogram::Histogram;
use crate::keys::{Prefix, Process, SeriesKey, Target};
use crate::replicate::ReplicateCount;
use crate::store::{Batch, ReplicateTables, SeriesQuery, Store};

const CHECK: &str = "replicate_groups";
const COVERAGE: &str = "replicate_coverage";

type Rows = Vec<(SeriesKey, Histogram)>;

/// Rows of `t` for seed `s`: two dims, two labels, two layouts, two processes.
fn rows(s: u64) -> Rows {
    let (d1, d2) = (
        dims("Firefox", "x86", "Windows_NT", "10.0"),
        dims("Firefox", "x86-64", "Linux", "6.1"),
    );
    vec![
        (
            key("GC_MS", "", Process::Parent, &d1),
            seeded(layout_a(), s),
        ),
        (
            key("GC_MS", "", Process::Parent, &d2),
            seeded(layout_a(), s + 1),
        ),
        (
            key("GC_MS", "", Process::Content, &d2),
            seeded(layout_a(), s + 2),
        ),
        (
            key("GC_MS", "", Process::Parent, &d2),
            seeded(layout_b(), s + 3),
        ),
        (
            key("KEYED", "a", Process::Parent, &d1),
            seeded(layout_a(), s + 4),
        ),
        (
            key("KEYED", "b", Process::Parent, &d2),
            seeded(layout_a(), s + 5),
        ),
    ]
}

/// A batch of `targets` whose rows are split over `r` groups (group g gets the rows of seed
/// offset g), the normal tables holding every group's rows.
fn replicated(date: &str, targets: &[&Target], r: u32, seed: u64) -> Result<Batch, Failure> {
    let count = ok(CHECK, "replicate count", ReplicateCount::new(r))?;
    let mut reps = ReplicateTables::new(count);
    let mut tables = Vec::new();
    for (t, target) in targets.iter().enumerate() {
        let mut all = Vec::new();
        for (g, group) in reps.groups.iter_mut().enumerate() {
            let rows = rows(seed + 100 * t as u64 + 10 * g as u64);
            all.extend(rows.clone());
            group.insert((*target).clone(), rows);
        }
        tables.push(((*target).clone(), all));
    }
    let mut b = batch(date, tables);
    b.replicates = Some(reps);
    Ok(b)
}

/// The queries every answer is compared on: the totals path, a dims filter, a label filter,
/// a process filter.
fn queries(t: &Target, dates: &[&str]) -> Vec<SeriesQuery> {
    let q = |metric: &str, filter: Filter| {
        query(t.prefix, &t.channel, &t.version, dates, metric, filter)
    };
    vec![
        q("GC_MS", Filter::All),
        q("GC_MS", Filter::eq(Dimension::Os, "Linux")),
        q("GC_MS", Filter::eq(Dimension::Child, "content")),
        q("KEYED", Filter::eq(Dimension::Label, "b")),
        q("KEYED", Filter::All),
    ]
}

/// True when the store refused a write with replicates as a store without them must.
fn refused(
    store: &dyn Store,
    result: &crate::Result<crate::store::WriteReport>,
) -> Result<bool, Failure> {
    match result {
        Ok(_) => Ok(false),
        Err(Error::NoReplicates(_)) => {
            same(
                CHECK,
                "a refused write changes nothing",
                &dump(store)?,
                &Vec::new(),
            )?;
            let q = query(
                Prefix::BuildId,
                "nightly",
                "50",
                &["20240101"],
                "GC_MS",
                Filter::All,
            );
            ensure(
                CHECK,
                matches!(store.replicates(&q), Err(Error::NoReplicates(_))),
                "a store that refuses replicates must refuse Store::replicates too",
            )?;
            Ok(true)
        }
        Err(e) => Err(Failure::new(CHECK, format!("write with replicates: {e}"))),
    }
}

/// Fails unless the store keeps replicate groups (stores that must implement them).
///
/// # Errors
/// The store refused them.
pub fn replicates_kept(factory: Factory<'_>) -> Result<(), Failure> {
    let store = factory();
    let t = target(Prefix::BuildId, "nightly", "50", "20240101");
    let result = store.write(&replicated("20240102", &[&t], 4, 1)?);
    ensure(
        CHECK,
        !refused(store.as_ref(), &result)?,
        "the store refused replicate groups",
    )
}

/// Group rows merge by the normal rules, answer per group like normal rows, skip with their
/// target, count their rows apart, and stay invisible to every other read.
///
/// # Errors
/// The first deviation.
pub fn replicate_groups(factory: Factory<'_>) -> Result<(), Failure> {
    let store = factory();
    let t1 = target(Prefix::BuildId, "nightly", "50", "20240101");
    let t2 = target(Prefix::SubmissionDate, "nightly", "50", "20240102");
    let first = replicated("20240102", &[&t1, &t2], 4, 1)?;
    let result = store.write(&first);
    if refused(store.as_ref(), &result)? {
        return Ok(());
    }
    let report = ok(CHECK, "write", result)?;
    same(
        CHECK,
        "rows written",
        &report.rows_written,
        &(first.rows() as u64),
    )?;
    let group_rows = first.replicates.as_ref().map_or(0, ReplicateTables::rows) as u64;
    same(
        CHECK,
        "replicate rows written",
        &report.replicate_rows_written,
        &group_rows,
    )?;
    let second = replicated("20240103", &[&t1], 4, 7)?;
    ok(CHECK, "second write", store.write(&second))?;
    let again = ok(CHECK, "rewrite", store.write(&first))?;
    same(CHECK, "a rewrite skips", &again.targets_skipped.len(), &2)?;
    same(
        CHECK,
        "a rewrite writes no group row",
        &again.replicate_rows_written,
        &0,
    )?;

    // Oracle: each group's rows as normal batches in a fresh store.
    for g in 0..4 {
        let oracle = factory();
        for b in [&first, &second] {
            let mut normal = Batch::new(b.submission_date);
            if let Some(reps) = &b.replicates {
                normal.tables = reps.groups[g].clone();
            }
            ok(CHECK, "oracle write", oracle.write(&normal))?;
        }
        for t in [&t1, &t2] {
            for q in queries(t, &["20240101", "20240102", "20240109"]) {
                let got = ok(CHECK, "replicates", store.replicates(&q))?;
                let got =
                    got.ok_or_else(|| Failure::new(CHECK, "no replicates for stored dates"))?;
                same(CHECK, "replicate count", &got.count.get(), &4)?;
                let want = ok(CHECK, "oracle query", oracle.query(&q))?;
                same(CHECK, &format!("group {g} of {q:?}"), &got.groups[g], &want)?;
            }
        }
    }

    // Invisible to every other read: the same as a store written without them.
    let plain = factory();
    for b in [&first, &second] {
        let mut b = b.clone();
        b.replicates = None;
        ok(CHECK, "plain write", plain.write(&b))?;
    }
    same(
        CHECK,
        "scan",
        &dump(store.as_ref())?,
        &dump(plain.as_ref())?,
    )?;
    for prefix in [Prefix::BuildId, Prefix::SubmissionDate] {
        same(
            CHECK,
            "channels",
            &ok(CHECK, "channels", store.channels(prefix))?,
            &ok(CHECK, "channels", plain.channels(prefix))?,
        )?;
        same(
            CHECK,
            "dates",
            &ok(CHECK, "dates", store.dates(prefix, "nightly"))?,
            &ok(CHECK, "dates", plain.dates(prefix, "nightly"))?,
        )?;
    }
    same(
        CHECK,
        "filter options",
        &ok(CHECK, "options", store.filter_options("nightly", "50"))?,
        &ok(CHECK, "options", plain.filter_options("nightly", "50"))?,
    )?;
    for q in queries(&t1, &["20240101"]) {
        same(
            CHECK,
            "query",
            &ok(CHECK, "query", store.query(&q))?,
            &ok(CHECK, "query", plain.query(&q))?,
        )?;
    }
    Ok(())
}

/// Intervals only from complete groups: refusals, unknown dates, trim, malformed batches,
/// rejected group rows.
///
/// # Errors
/// The first deviation.
pub fn replicate_coverage(factory: Factory<'_>) -> Result<(), Failure> {
    let store = factory();
    let t = target(Prefix::BuildId, "nightly", "50", "20240101");
    let result = store.write(&replicated("20240102", &[&t], 4, 1)?);
    if refused(store.as_ref(), &result)? {
        return Ok(());
    }
    ok(COVERAGE, "write", result)?;
    let refuses = |q: &SeriesQuery, what: &str| -> Result<(), Failure> {
        match store.replicates(q) {
            Err(Error::NoReplicates(_)) => Ok(()),
            other => Err(Failure::new(
                COVERAGE,
                format!("{what}: want NoReplicates, got {other:?}"),
            )),
        }
    };
    let q = |date: &str| {
        query(
            Prefix::BuildId,
            "nightly",
            "50",
            &[date],
            "GC_MS",
            Filter::All,
        )
    };
    // A date without a table: nothing to answer.
    same(
        COVERAGE,
        "no table",
        &ok(COVERAGE, "replicates", store.replicates(&q("20230101")))?,
        &None,
    )?;

    // A table written without replicates, then with: its groups do not cover it.
    let partial = target(Prefix::BuildId, "nightly", "50", "20240105");
    ok(
        COVERAGE,
        "plain write",
        store.write(&batch("20240105", vec![(partial.clone(), rows(3))])),
    )?;
    refuses(&q("20240105"), "a table without replicates")?;
    ok(
        COVERAGE,
        "replicated write",
        store.write(&replicated("20240106", &[&partial], 4, 5)?),
    )?;
    refuses(&q("20240105"), "a table absorbed partly without replicates")?;

    // Different counts: within a table, and across the dates of one query.
    let other = target(Prefix::BuildId, "nightly", "50", "20240107");
    ok(
        COVERAGE,
        "R=2 write",
        store.write(&replicated("20240107", &[&other], 2, 9)?),
    )?;
    same(
        COVERAGE,
        "R=2 answers",
        &ok(COVERAGE, "replicates", store.replicates(&q("20240107")))?.map(|r| r.count.get()),
        &Some(2),
    )?;
    let both = query(
        Prefix::BuildId,
        "nightly",
        "50",
        &["20240101", "20240107"],
        "GC_MS",
        Filter::All,
    );
    refuses(&both, "dates of different counts")?;
    ok(
        COVERAGE,
        "R=4 write",
        store.write(&replicated("20240108", &[&other], 4, 11)?),
    )?;
    refuses(&q("20240107"), "a table of mixed counts")?;

    // A malformed batch fails whole; a bad group row is counted apart.
    let before = dump(store.as_ref())?;
    let mut bad = replicated("20240110", &[&t], 4, 13)?;
    if let Some(reps) = &mut bad.replicates {
        let stray = target(Prefix::BuildId, "nightly", "50", "20240111");
        reps.groups[1].insert(stray, rows(1));
    }
    ensure(
        COVERAGE,
        store.write(&bad).is_err(),
        "a group row of a target outside the batch must fail the write",
    )?;
    same(
        COVERAGE,
        "a failed write changes nothing",
        &dump(store.as_ref())?,
        &before,
    )?;
    let mut rejecting = replicated("20240111", &[&t], 4, 13)?;
    if let Some(reps) = &mut rejecting.replicates {
        let empty_metric = key(
            "",
            "",
            Process::Parent,
            &dims("Firefox", "x86", "Linux", "6.1"),
        );
        reps.groups[2]
            .entry(t.clone())
            .or_default()
            .push((empty_metric, seeded(layout_a(), 1)));
    }
    let report = ok(
        COVERAGE,
        "write with a bad group row",
        store.write(&rejecting),
    )?;
    same(
        COVERAGE,
        "group rows rejected",
        &report.replicate_rows_rejected.total(),
        &1,
    )?;
    same(
        COVERAGE,
        "normal rows rejected",
        &report.rows_rejected.total(),
        &0,
    )?;

    // Trim drops the groups with their table.
    ok(
        COVERAGE,
        "trim",
        store.trim(super::fixtures::date("20240102"), false),
    )?;
    same(
        COVERAGE,
        "trimmed",
        &ok(COVERAGE, "replicates", store.replicates(&q("20240101")))?,
        &None,
    )?;
    ok(
        COVERAGE,
        "rewrite after trim",
        store.write(&replicated("20240102", &[&t], 4, 1)?),
    )?;
    let fresh = factory();
    ok(
        COVERAGE,
        "fresh write",
        fresh.write(&replicated("20240102", &[&t], 4, 1)?),
    )?;
    same(
        COVERAGE,
        "groups after trim and rewrite",
        &ok(COVERAGE, "replicates", store.replicates(&q("20240101")))?,
        &ok(COVERAGE, "replicates", fresh.replicates(&q("20240101")))?,
    )?;
    Ok(())
}

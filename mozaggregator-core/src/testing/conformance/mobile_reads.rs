//! Checks of the read side of mobile rows ("Mobile rows" in the [`crate::Store`] contract):
//! where mobile tables show and where they never do, trim, the data version, the order of
//! `scan_mobile`, and the stats.

use std::collections::BTreeSet;

use super::fixtures::{
    batch, date, dims, dump, expected, key, layout_a, layout_b, mobile_batch, mobile_dump,
    mobile_dump_of, mobile_hist, mobile_key, mobile_model, mobile_target, query, seeded, target,
};
use super::mobile::two_tables;
use super::{ensure, ok, same, Factory, Failure};
use crate::error::Error;
use crate::filter::Filter;
use crate::keys::{DateVersion, Prefix, Process, Target};
use crate::mobile::{MobileHistogram, MobileKey};
use crate::store::{Selection, Store, StoreStats};

/// A `(date, version)` of `dates`.
fn dv(date_text: &str, version: &str) -> DateVersion {
    DateVersion {
        date: date(date_text),
        version: version.into(),
    }
}

/// Writes one desktop table per target (a `GC_MS` row each) in a batch of `submission`;
/// returns the series written.
fn desktop(
    store: &dyn Store,
    check: &'static str,
    submission: &str,
    targets: &[Target],
) -> Result<Vec<(Target, crate::SeriesKey, crate::Histogram)>, Failure> {
    let d = dims("Firefox", "x86", "Windows_NT", "10.0");
    let k = key("GC_MS", "", Process::Parent, &d);
    let tables: Vec<_> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), vec![(k.clone(), seeded(layout_a(), i as u64))]))
        .collect();
    ok(
        check,
        "desktop write",
        store.write(&batch(submission, tables.clone())),
    )?;
    let mut series: Vec<_> = tables
        .into_iter()
        .flat_map(|(t, rows)| rows.into_iter().map(move |(k, h)| (t.clone(), k, h)))
        .collect();
    series.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(series)
}

/// Mobile tables show in `channels`, `dates` and `absorbed` of [`Prefix::MobileMetrics`], and
/// never in the desktop prefixes' listings, filter options, queries, replicates or `scan` —
/// also beside desktop tables of the same channel and version.
///
/// # Errors
/// The first deviation.
pub fn mobile_tables_listed(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_tables_listed";
    let store = factory();
    let series = desktop(
        &*store,
        C,
        "20240102",
        &[
            target(Prefix::SubmissionDate, "release", "68", "20240102"),
            target(Prefix::BuildId, "beta", "69", "20240101"),
        ],
    )?;
    two_tables(&*store, C)?;
    let same_as_desktop = mobile_target("release", "68", "20240101");
    let tables = vec![
        (
            same_as_desktop.clone(),
            vec![(
                mobile_key("1", "Fenix", "29", "MOBILE_ONLY", "k", "engine"),
                mobile_hist(None, &[(1, 1)], 1, 1),
            )],
        ),
        (mobile_target("nightly", "70.0a1", "20240101"), Vec::new()),
    ];
    ok(
        C,
        "mobile write",
        store.write_mobile(&mobile_batch("20240101", tables)),
    )?;

    let channels = |p| ok(C, "channels", store.channels(p));
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    same(
        C,
        "channels(mobile)",
        &channels(Prefix::MobileMetrics)?,
        &strings(&["beta", "nightly", "release"]),
    )?;
    same(
        C,
        "channels(build_id)",
        &channels(Prefix::BuildId)?,
        &strings(&["beta"]),
    )?;
    same(
        C,
        "channels(submission_date)",
        &channels(Prefix::SubmissionDate)?,
        &strings(&["release"]),
    )?;
    let dates = |p, c| ok(C, "dates", store.dates(p, c));
    same(
        C,
        "dates(mobile, release)",
        &dates(Prefix::MobileMetrics, "release")?,
        &vec![dv("20240102", "68.1"), dv("20240101", "68")],
    )?;
    same(
        C,
        "dates(submission_date, release)",
        &dates(Prefix::SubmissionDate, "release")?,
        &vec![dv("20240102", "68")],
    )?;
    same(
        C,
        "dates(build_id, nightly)",
        &dates(Prefix::BuildId, "nightly")?,
        &Vec::new(),
    )?;
    same(
        C,
        "absorbed of a mobile table",
        &ok(C, "absorbed", store.absorbed(&same_as_desktop))?,
        &[date("20240101")].into(),
    )?;

    let options = ok(C, "filter_options", store.filter_options("release", "68"))?
        .ok_or_else(|| Failure::new(C, "the desktop table's filter options are missing"))?;
    same(
        C,
        "metrics of release 68",
        &options.metric,
        &["GC_MS".to_string()].into(),
    )?;
    same(
        C,
        "applications of release 68",
        &options.application,
        &["Firefox".to_string()].into(),
    )?;
    for (channel, version) in [("release", "68.1"), ("nightly", "70.0a1"), ("beta", "69.0")] {
        same(
            C,
            &format!("filter options of mobile-only {channel} {version}"),
            &ok(C, "filter_options", store.filter_options(channel, version))?,
            &None,
        )?;
    }

    for (prefix, version, day, metric) in [
        (Prefix::MobileMetrics, "68.1", "20240102", "GC_MS"),
        (Prefix::MobileMetrics, "68", "20240101", "MOBILE_ONLY"),
        (Prefix::SubmissionDate, "68", "20240101", "MOBILE_ONLY"),
        (Prefix::SubmissionDate, "68", "20240102", "MOBILE_ONLY"),
    ] {
        let q = query(prefix, "release", version, &[day], metric, Filter::All);
        same(
            C,
            &format!("query of {prefix} {version} {day} {metric}"),
            &ok(C, "query", store.query(&q))?,
            &Vec::new(),
        )?;
        let answered = matches!(store.replicates(&q), Ok(Some(r))
            if r.groups.iter().any(|g| !g.is_empty()));
        ensure(C, !answered, format!("replicates answered rows of {q:?}"))?;
    }
    let q = query(
        Prefix::SubmissionDate,
        "release",
        "68",
        &["20240102"],
        "GC_MS",
        Filter::All,
    );
    same(
        C,
        "query of the desktop table",
        &ok(C, "query", store.query(&q))?,
        &expected(&series, &q),
    )?;
    same(C, "scan", &dump(&*store)?, &series)?;
    let mobile_only = Selection {
        prefix: Some(Prefix::MobileMetrics),
        ..Selection::default()
    };
    let mut visited = 0;
    ok(
        C,
        "scan of the mobile prefix",
        store.scan(&mobile_only, &mut |_, _, _| {
            visited += 1;
            Ok(())
        }),
    )?;
    same(
        C,
        "series visited by a scan of the mobile prefix",
        &visited,
        &0,
    )
}

/// `trim` drops the mobile tables dated before the cutoff with their rows and returns them
/// beside the desktop ones; a dry run only lists them; the data version changes also when only
/// mobile tables go.
///
/// # Errors
/// The first deviation.
pub fn mobile_trim(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_trim";
    let store = factory();
    let old_desktop = target(Prefix::BuildId, "nightly", "42", "20240101");
    desktop(
        &*store,
        C,
        "20240103",
        &[
            old_desktop.clone(),
            target(Prefix::BuildId, "nightly", "42", "20240103"),
        ],
    )?;
    let row = |seed: usize| {
        vec![(
            mobile_key("1", "Fenix", "29", "GC_MS", "", "parent"),
            mobile_hist(None, &[(seed, 1)], seed as u64, 1),
        )]
    };
    let old_mobile = mobile_target("release", "68.1", "20240101");
    let kept = mobile_target("release", "68.1", "20240102");
    let later = mobile_target("beta", "69.0", "20240103");
    for (t, seed) in [(&old_mobile, 1), (&kept, 2), (&later, 3)] {
        let day = t.date.to_string();
        ok(
            C,
            "mobile write",
            store.write_mobile(&mobile_batch(&day, vec![(t.clone(), row(seed))])),
        )?;
    }
    let before = mobile_dump(&*store)?;
    same(C, "mobile rows before", &before.len(), &3)?;
    let version = ok(C, "data_version", store.data_version())?;
    let mut old = vec![old_desktop, old_mobile.clone()];
    old.sort();
    same(
        C,
        "dry run lists",
        &ok(C, "dry run", store.trim(date("20240102"), true))?,
        &old,
    )?;
    same(
        C,
        "mobile rows after a dry run",
        &mobile_dump(&*store)?,
        &before,
    )?;
    same(
        C,
        "data_version after a dry run",
        &ok(C, "data_version", store.data_version())?,
        &version,
    )?;
    same(
        C,
        "trim returns",
        &ok(C, "trim", store.trim(date("20240102"), false))?,
        &old,
    )?;
    let want: Vec<_> = before
        .iter()
        .filter(|(t, _, _)| *t != old_mobile)
        .cloned()
        .collect();
    same(C, "mobile rows after trim", &mobile_dump(&*store)?, &want)?;
    same(
        C,
        "dates(mobile, release) after trim",
        &ok(C, "dates", store.dates(Prefix::MobileMetrics, "release"))?,
        &vec![dv("20240102", "68.1")],
    )?;
    same(
        C,
        "absorbed of a trimmed mobile table",
        &ok(C, "absorbed", store.absorbed(&old_mobile))?,
        &BTreeSet::new(),
    )?;
    let stats = ok(C, "stats", store.stats())?;
    same(
        C,
        "stats (targets, mobile targets, mobile rows) after trim",
        &(stats.targets, stats.mobile_targets, stats.mobile_rows),
        &(1, 2, 2),
    )?;
    let v1 = ok(C, "data_version", store.data_version())?;
    ensure(C, v1 != version, "trim did not change data_version")?;
    same(
        C,
        "trimming again",
        &ok(C, "trim", store.trim(date("20240102"), false))?,
        &Vec::new(),
    )?;
    same(
        C,
        "trim of mobile tables only",
        &ok(C, "trim", store.trim(date("20240103"), false))?,
        &vec![kept],
    )?;
    let v2 = ok(C, "data_version", store.data_version())?;
    ensure(
        C,
        v2 != v1 && v2 != version,
        "a trim dropping only mobile tables did not change data_version",
    )?;
    let r = ok(
        C,
        "writing a trimmed table's date again",
        store.write_mobile(&mobile_batch(
            "20240101",
            vec![(old_mobile.clone(), row(1))],
        )),
    )?;
    same(C, "targets written (after trim)", &r.targets_written, &1)
}

/// `data_version` changes with every mobile write that creates a table, and not with a write
/// that is skipped, refused or rejected whole.
///
/// # Errors
/// The first deviation.
pub fn mobile_data_version(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_data_version";
    let store = factory();
    let version = |s: &dyn Store| ok(C, "data_version", s.data_version());
    let v0 = version(&*store)?;
    let t = mobile_target("release", "68.1", "20240102");
    let rows = vec![(
        mobile_key("1", "Fenix", "29", "A", "", "parent"),
        mobile_hist(None, &[(1, 1)], 1, 1),
    )];
    let b1 = mobile_batch("20240102", vec![(t.clone(), rows.clone())]);
    ok(C, "write", store.write_mobile(&b1))?;
    let v1 = version(&*store)?;
    ensure(C, v1 != v0, "a mobile write did not change data_version")?;
    ok(C, "repeat", store.write_mobile(&b1))?;
    same(C, "after a skipped mobile write", &version(&*store)?, &v1)?;
    let nul = mobile_batch(
        "20240102",
        vec![(mobile_target("rel\0ease", "68.1", "20240102"), rows.clone())],
    );
    ok(C, "write of a table with NUL", store.write_mobile(&nul))?;
    same(C, "after a write creating nothing", &version(&*store)?, &v1)?;
    let refused = mobile_batch(
        "20240102",
        vec![(mobile_target("beta", "68.1", "20240101"), rows.clone())],
    );
    ensure(
        C,
        store.write_mobile(&refused).is_err(),
        "a table of another date was not refused",
    )?;
    same(C, "after a refused mobile write", &version(&*store)?, &v1)?;
    let rejected = mobile_batch(
        "20240102",
        vec![(
            mobile_target("beta", "69.0", "20240102"),
            vec![(
                mobile_key("1", "Fenix", "29", "BAD NAME", "", "parent"),
                mobile_hist(None, &[(1, 1)], 1, 1),
            )],
        )],
    );
    ok(C, "write of rejected rows", store.write_mobile(&rejected))?;
    let v2 = version(&*store)?;
    ensure(
        C,
        v2 != v1 && v2 != v0,
        "a mobile write creating a table did not change data_version",
    )?;
    let empty = mobile_batch(
        "20240103",
        vec![(mobile_target("beta", "69.0", "20240103"), vec![])],
    );
    ok(C, "write without rows", store.write_mobile(&empty))?;
    let v3 = version(&*store)?;
    ensure(
        C,
        ![v0, v1, v2].contains(&v3),
        "a mobile write absorbing without rows did not change data_version",
    )
}

/// The keys of the order check: each pair differs in a field that, ordered alone or by
/// another rule than field by field in declaration order, would order them the other way.
fn order_keys() -> Vec<MobileKey> {
    let k = |b: &str, app: &str, os_version: &str, metric: &str, label: &str, process: &str| {
        mobile_key(b, app, os_version, metric, label, process)
    };
    let mut arch = k("10", "Fenix", "9", "A", "", "parent");
    arch.architecture = "x86".into();
    let mut os = k("10", "Fenix", "9", "A", "", "parent");
    os.os = "Android-TV".into();
    vec![
        k("2", "Fenix", "9", "A", "", "parent"),
        k("10", "focus", "10", "A", "", "parent"),
        k("10", "Fenix", "9", "Z", "", "parent"),
        k("10", "Fenix", "10", "Z", "", "parent"),
        k("10", "Fenix", "9", "A", "\u{e9}", "content"),
        k("10", "Fenix", "9", "A", "e", "parent"),
        k("10", "Fenix", "9", "A", "e", "content"),
        k("10", "Fenix", "9", "A", "E", "parent"),
        arch,
        os,
    ]
}

/// `scan_mobile` visits the selected tables ordered by target, then key field by field (byte
/// order), then layout (`None` first); a desktop prefix selects nothing; an error of the
/// visitor stops it and is returned.
///
/// # Errors
/// The first deviation.
pub fn mobile_scan_order_and_selection(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_scan_order_and_selection";
    let store = factory();
    desktop(
        &*store,
        C,
        "20240102",
        &[target(Prefix::BuildId, "release", "68.1", "20240102")],
    )?;
    let layouts = [Some(layout_b()), None, Some(layout_a())];
    let rows = |seed: usize| -> Vec<(MobileKey, MobileHistogram)> {
        let mut rows = Vec::new();
        for (i, k) in order_keys().into_iter().enumerate() {
            for (j, layout) in layouts.iter().enumerate().filter(|(j, _)| (i + j) % 2 == 0) {
                let n = (seed + i + j + 1) as u64;
                rows.push((k.clone(), mobile_hist(*layout, &[(j + 1, n)], n, 1)));
            }
        }
        rows.reverse();
        rows
    };
    let by_date = [
        (
            "20240102",
            vec![
                mobile_target("release", "68.1", "20240102"),
                mobile_target("release", "8.0.1", "20240102"),
                mobile_target("beta", "68.1", "20240102"),
            ],
        ),
        (
            "20240101",
            vec![mobile_target("release", "68.1", "20240101")],
        ),
    ];
    let mut all = Vec::new();
    for (day, targets) in by_date {
        let tables: Vec<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, t)| (t, rows(i * 100)))
            .collect();
        ok(
            C,
            "write",
            store.write_mobile(&mobile_batch(day, tables.clone())),
        )?;
        all.extend(tables);
    }
    let model = mobile_model(&all);
    same(
        C,
        "scan_mobile of everything",
        &mobile_dump(&*store)?,
        &model,
    )?;
    let selections = [
        Selection {
            prefix: Some(Prefix::MobileMetrics),
            ..Selection::default()
        },
        Selection {
            channel: Some("release".into()),
            ..Selection::default()
        },
        Selection {
            version: Some("68.1".into()),
            ..Selection::default()
        },
        Selection {
            prefix: Some(Prefix::MobileMetrics),
            channel: Some("release".into()),
            version: Some("8.0.1".into()),
        },
        Selection {
            prefix: Some(Prefix::BuildId),
            ..Selection::default()
        },
        Selection {
            prefix: Some(Prefix::SubmissionDate),
            channel: Some("release".into()),
            ..Selection::default()
        },
        Selection {
            channel: Some("nightly".into()),
            ..Selection::default()
        },
    ];
    for selection in selections {
        let want: Vec<_> = model
            .iter()
            .filter(|(t, _, _)| selection.matches(t))
            .cloned()
            .collect();
        same(
            C,
            &format!("scan_mobile of {selection:?}"),
            &mobile_dump_of(&*store, &selection)?,
            &want,
        )?;
    }
    let mut calls = 0;
    let result = store.scan_mobile(&Selection::default(), &mut |_, _, _| {
        calls += 1;
        if calls == 2 {
            Err(Error::invalid("visitor", "stop"))
        } else {
            Ok(())
        }
    });
    ensure(C, result.is_err(), "the visitor's error was not returned")?;
    same(C, "visits before the error stopped the scan", &calls, &2)
}

/// `stats` counts mobile tables and rows as [`StoreStats::by_scan`] does (from `channels`,
/// `dates` and `scan_mobile`), and desktop targets apart from them.
///
/// # Errors
/// The first deviation.
pub fn mobile_stats_match_scan(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "mobile_stats_match_scan";
    let store = factory();
    let empty = ok(C, "stats of an empty store", store.stats())?;
    same(
        C,
        "mobile counts of an empty store",
        &(empty.mobile_targets, empty.mobile_rows),
        &(0, 0),
    )?;
    desktop(
        &*store,
        C,
        "20240102",
        &[target(Prefix::BuildId, "release", "68", "20240102")],
    )?;
    ok(
        C,
        "desktop table without rows",
        store.write(&batch(
            "20240102",
            vec![(target(Prefix::BuildId, "beta", "69", "20240101"), vec![])],
        )),
    )?;
    two_tables(&*store, C)?;
    let k = mobile_key("1", "Fenix", "29", "GC_MS", "", "parent");
    let tables = vec![
        (
            mobile_target("nightly", "70.0a1", "20240103"),
            vec![
                (k.clone(), mobile_hist(None, &[(1, 1)], 1, 1)),
                (k.clone(), mobile_hist(Some(layout_a()), &[(1, 1)], 1, 1)),
                (k, mobile_hist(Some(layout_b()), &[(1, 1)], 1, 1)),
            ],
        ),
        (mobile_target("beta", "69.0", "20240103"), vec![]),
    ];
    ok(
        C,
        "mobile write",
        store.write_mobile(&mobile_batch("20240103", tables)),
    )?;
    let stats = ok(C, "stats", store.stats())?;
    let scanned = ok(C, "StoreStats::by_scan", StoreStats::by_scan(&*store))?;
    same(
        C,
        "stats (targets, mobile targets, mobile rows)",
        &(stats.targets, stats.mobile_targets, stats.mobile_rows),
        &(2, 4, 5),
    )?;
    same(
        C,
        "by_scan (targets, mobile targets, mobile rows)",
        &(scanned.targets, scanned.mobile_targets, scanned.mobile_rows),
        &(stats.targets, stats.mobile_targets, stats.mobile_rows),
    )?;
    same(
        C,
        "desktop rows and series against by_scan",
        &(stats.rows, stats.series),
        &(scanned.rows, scanned.series),
    )
}

//! Checks of the read side: filters, grouping and order, empty answers, listings, filter
//! options and scans.

use std::collections::BTreeSet;

use super::fixtures::{
    batch, date, dims, dump, expected, key, layout_a, layout_b, query, seeded, target,
};
use super::{ensure, ok, same, Factory, Failure};
use crate::error::Error;
use crate::filter::{Dimension, Filter};
use crate::keys::{DateVersion, Dims, Prefix, Process, SeriesKey, Target};
use crate::store::{FilterOptions, Selection, Store};

fn grid() -> Vec<Dims> {
    let mut out = Vec::new();
    for app in ["Firefox", "Fennec"] {
        for arch in ["x86", "x86-64"] {
            for (os, v) in [("Windows_NT", "6.1"), ("Linux", "3.1"), ("Darwin", "15.0")] {
                out.push(dims(app, arch, os, v));
            }
        }
    }
    out
}

/// Every dimension filters, alone and combined with `In`, `Not`, `And` and `Or`; `child`
/// filters by process name; unknown values match nothing.
///
/// # Errors
/// The first deviation.
pub fn filters(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "filters";
    let store = factory();
    let dates = ["20150601", "20150602"];
    let mut model = Vec::new();
    let mut seed = 0;
    for (n, date) in dates.iter().enumerate() {
        let t = target(Prefix::SubmissionDate, "nightly", "42", date);
        let mut rows = Vec::new();
        for d in grid().iter().skip(n * 3) {
            for p in Process::ALL {
                for (metric, label) in [("M", "a"), ("M", "b"), ("N", "")] {
                    seed += 1;
                    rows.push((key(metric, label, p, d), seeded(layout_a(), seed)));
                }
            }
        }
        for (k, h) in &rows {
            model.push((t.clone(), k.clone(), h.clone()));
        }
        ok(C, "write", store.write(&batch(date, vec![(t, rows)])))?;
    }
    let eq = Filter::eq;
    let cases: Vec<(&str, Filter)> = vec![
        ("all", Filter::All),
        ("application", eq(Dimension::Application, "Fennec")),
        ("architecture", eq(Dimension::Architecture, "x86-64")),
        ("os", eq(Dimension::Os, "Linux")),
        ("osVersion", eq(Dimension::OsVersion, "6.1")),
        ("child=content", eq(Dimension::Child, "content")),
        ("child=gpu", eq(Dimension::Child, "gpu")),
        ("child=parent", eq(Dimension::Child, "parent")),
        ("label", eq(Dimension::Label, "a")),
        ("metric (same)", eq(Dimension::Metric, "M")),
        ("metric (other)", eq(Dimension::Metric, "N")),
        ("in os", Filter::is_in(Dimension::Os, ["Linux", "Darwin"])),
        ("in label", Filter::is_in(Dimension::Label, ["b", "zzz"])),
        (
            "in nothing",
            Filter::is_in(Dimension::Child, Vec::<String>::new()),
        ),
        ("not os", eq(Dimension::Os, "Linux").not()),
        ("not label", eq(Dimension::Label, "a").not()),
        (
            "or (one dimension)",
            eq(Dimension::Os, "Linux").or(eq(Dimension::Os, "Darwin")),
        ),
        (
            "or (two dimensions)",
            eq(Dimension::Os, "Linux").or(eq(Dimension::Child, "gpu")),
        ),
        (
            "and with not",
            eq(Dimension::Application, "Firefox")
                .and(Filter::is_in(Dimension::Architecture, ["x86"]).not()),
        ),
        (
            "os and version",
            eq(Dimension::Os, "Windows_NT").and(eq(Dimension::OsVersion, "6.1")),
        ),
        ("empty and", Filter::And(Vec::new())),
        ("empty or", Filter::Or(Vec::new())),
        ("unknown os", eq(Dimension::Os, "BeOS")),
        ("unknown child", eq(Dimension::Child, "extension")),
        ("unknown label", eq(Dimension::Label, "zzz")),
        (
            "contradiction",
            eq(Dimension::Os, "Linux").and(eq(Dimension::Os, "Darwin")),
        ),
    ];
    for (name, filter) in cases {
        let q = query(Prefix::SubmissionDate, "nightly", "42", &dates, "M", filter);
        let got = ok(C, name, store.query(&q))?;
        same(
            C,
            &format!("filter {name}: {:?}", q.filter),
            &got,
            &expected(&model, &q),
        )?;
    }
    // A non-trivial answer must not come out empty by accident.
    let q = query(
        Prefix::SubmissionDate,
        "nightly",
        "42",
        &dates,
        "M",
        eq(Dimension::Child, "gpu"),
    );
    ensure(
        C,
        ok(C, "child=gpu", store.query(&q))?.len() == 4,
        "child=gpu should give 2 dates x 2 labels",
    )
}

/// One row per (date, label, layout): dates in the requested order, labels ascending
/// (byte order), a repeated date answered once.
///
/// # Errors
/// The first deviation.
pub fn grouping_and_order(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "grouping_and_order";
    let store = factory();
    let labels = ["b", "B", "a", "\u{e9}", "aa", ""];
    let mut model = Vec::new();
    for (i, date) in ["20150601", "20150603"].into_iter().enumerate() {
        let t = target(Prefix::BuildId, "beta", "40", date);
        let mut rows = Vec::new();
        for (j, label) in labels.iter().enumerate() {
            for (k, d) in grid().iter().take(2).enumerate() {
                let seed = (i * 100 + j * 10 + k) as u64;
                let layout = if j == 0 && k == 1 {
                    layout_b()
                } else {
                    layout_a()
                };
                rows.push((key("K", label, Process::Parent, d), seeded(layout, seed)));
            }
        }
        for (k, h) in &rows {
            model.push((t.clone(), k.clone(), h.clone()));
        }
        ok(C, "write", store.write(&batch(date, vec![(t, rows)])))?;
    }
    let q = query(
        Prefix::BuildId,
        "beta",
        "40",
        &["20150603", "20150602", "20150601"],
        "K",
        Filter::All,
    );
    let got = ok(C, "query", store.query(&q))?;
    same(C, "rows", &got, &expected(&model, &q))?;
    let order: Vec<(String, &str)> = got
        .iter()
        .map(|r| (r.date.to_string(), r.label.as_str()))
        .collect();
    let mut want = Vec::new();
    for date in ["20150603", "20150601"] {
        for label in ["", "B", "a", "aa", "b", "b", "\u{e9}"] {
            want.push((date.to_string(), label));
        }
    }
    same(C, "(date, label) order", &order, &want)?;
    let twice = query(
        Prefix::BuildId,
        "beta",
        "40",
        &["20150601", "20150603", "20150601"],
        "K",
        Filter::All,
    );
    let once = query(
        Prefix::BuildId,
        "beta",
        "40",
        &["20150601", "20150603"],
        "K",
        Filter::All,
    );
    same(
        C,
        "repeated date",
        &ok(C, "query", store.query(&twice))?,
        &ok(C, "query", store.query(&once))?,
    )
}

/// Queries of unknown dates, metrics, channels, versions or the other prefix answer nothing;
/// an empty store answers nothing everywhere.
///
/// # Errors
/// The first deviation.
pub fn empty_results(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "empty_results";
    let store = factory();
    let q = |p, ch: &str, v: &str, dates: &[&str], m: &str| query(p, ch, v, dates, m, Filter::All);
    let good = q(Prefix::BuildId, "nightly", "42", &["20150601"], "A");
    same(
        C,
        "empty store: query",
        &ok(C, "query", store.query(&good))?,
        &Vec::new(),
    )?;
    same(
        C,
        "empty store: channels",
        &ok(C, "channels", store.channels(Prefix::BuildId))?,
        &Vec::<String>::new(),
    )?;
    same(
        C,
        "empty store: dates",
        &ok(C, "dates", store.dates(Prefix::BuildId, "nightly"))?,
        &Vec::new(),
    )?;
    same(
        C,
        "empty store: filter options",
        &ok(C, "filter_options", store.filter_options("nightly", "42"))?,
        &None,
    )?;
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    same(
        C,
        "empty store: absorbed",
        &ok(C, "absorbed", store.absorbed(&t))?,
        &BTreeSet::new(),
    )?;
    same(
        C,
        "empty store: data_version stable",
        &ok(C, "data_version", store.data_version())?,
        &ok(C, "data_version", store.data_version())?,
    )?;

    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    ok(
        C,
        "write",
        store.write(&batch(
            "20150601",
            vec![(
                t,
                vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 1))],
            )],
        )),
    )?;
    ensure(
        C,
        ok(C, "query", store.query(&good))?.len() == 1,
        "the stored row is not found",
    )?;
    for (name, bad) in [
        (
            "unknown date",
            q(Prefix::BuildId, "nightly", "42", &["20150602"], "A"),
        ),
        ("no dates", q(Prefix::BuildId, "nightly", "42", &[], "A")),
        (
            "unknown metric",
            q(Prefix::BuildId, "nightly", "42", &["20150601"], "B"),
        ),
        (
            "unknown channel",
            q(Prefix::BuildId, "beta", "42", &["20150601"], "A"),
        ),
        (
            "unknown version",
            q(Prefix::BuildId, "nightly", "43", &["20150601"], "A"),
        ),
        (
            "other prefix",
            q(Prefix::SubmissionDate, "nightly", "42", &["20150601"], "A"),
        ),
    ] {
        same(C, name, &ok(C, name, store.query(&bad))?, &Vec::new())?;
    }
    same(
        C,
        "filter options of another version",
        &ok(C, "filter_options", store.filter_options("nightly", "41"))?,
        &None,
    )?;
    same(
        C,
        "dates of another channel",
        &ok(C, "dates", store.dates(Prefix::BuildId, "beta"))?,
        &Vec::new(),
    )
}

/// `channels` lists the channels with a table of the prefix, sorted, each once.
///
/// # Errors
/// The first deviation.
pub fn channels_sorted_per_prefix(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "channels_sorted_per_prefix";
    let store = factory();
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let row = || vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 2))];
    let tables = vec![
        (target(Prefix::BuildId, "nightly", "42", "20150601"), row()),
        (target(Prefix::BuildId, "beta", "41", "20150601"), row()),
        (target(Prefix::BuildId, "nightly", "41", "20150530"), row()),
        (target(Prefix::BuildId, "aurora", "40", "20150601"), row()),
        (
            target(Prefix::SubmissionDate, "release", "39", "20150601"),
            row(),
        ),
    ];
    ok(C, "write", store.write(&batch("20150601", tables)))?;
    let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    same(
        C,
        "build_id channels",
        &ok(C, "channels", store.channels(Prefix::BuildId))?,
        &strings(&["aurora", "beta", "nightly"]),
    )?;
    same(
        C,
        "submission_date channels",
        &ok(C, "channels", store.channels(Prefix::SubmissionDate))?,
        &strings(&["release"]),
    )
}

/// `dates` lists (date, version) of one prefix and channel, newest date first, ties by
/// version descending, each once.
///
/// # Errors
/// The first deviation.
pub fn dates_newest_first(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "dates_newest_first";
    let store = factory();
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let row = || vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 3))];
    let tables = vec![
        (target(Prefix::BuildId, "nightly", "40", "20150601"), row()),
        (target(Prefix::BuildId, "nightly", "41", "20150603"), row()),
        (target(Prefix::BuildId, "nightly", "40", "20150603"), row()),
        (target(Prefix::BuildId, "nightly", "41", "20150602"), row()),
        (target(Prefix::BuildId, "beta", "41", "20150604"), row()),
        (
            target(Prefix::SubmissionDate, "nightly", "41", "20150605"),
            row(),
        ),
    ];
    ok(C, "write", store.write(&batch("20150605", tables)))?;
    let dv = |text: &str, version: &str| DateVersion {
        date: date(text),
        version: version.into(),
    };
    same(
        C,
        "build_id nightly dates",
        &ok(C, "dates", store.dates(Prefix::BuildId, "nightly"))?,
        &vec![
            dv("20150603", "41"),
            dv("20150603", "40"),
            dv("20150602", "41"),
            dv("20150601", "40"),
        ],
    )?;
    same(
        C,
        "submission_date nightly dates",
        &ok(C, "dates", store.dates(Prefix::SubmissionDate, "nightly"))?,
        &vec![dv("20150605", "41")],
    )
}

/// For one date, versions are listed higher first *as numbers* (by their leading number,
/// see [`crate::keys::compare_versions`]): `124` before `48`, `9` after `10`.
///
/// # Errors
/// The first deviation.
pub fn versions_order_as_numbers(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "versions_order_as_numbers";
    let store = factory();
    let d = dims("Firefox", "x86", "Windows_NT", "6.1");
    let row = || vec![(key("A", "", Process::Parent, &d), seeded(layout_a(), 3))];
    let versions = ["47", "123", "48", "124", "9", "10"];
    let tables = versions
        .iter()
        .map(|v| {
            (
                target(Prefix::SubmissionDate, "nightly", v, "20240115"),
                row(),
            )
        })
        .chain(std::iter::once((
            target(Prefix::SubmissionDate, "nightly", "100", "20240114"),
            row(),
        )))
        .collect();
    ok(C, "write", store.write(&batch("20240115", tables)))?;
    let listed: Vec<String> = ok(C, "dates", store.dates(Prefix::SubmissionDate, "nightly"))?
        .into_iter()
        .map(|d| format!("{}/{}", d.date, d.version))
        .collect();
    same(
        C,
        "dates, newest first, higher version first as numbers",
        &listed,
        &[
            "20240115/124",
            "20240115/123",
            "20240115/48",
            "20240115/47",
            "20240115/10",
            "20240115/9",
            "20240114/100",
        ]
        .map(String::from)
        .to_vec(),
    )
}

/// Filter options of a (channel, version) over both prefixes: stored metric names (with
/// `[[COUNT]]_` as stored), applications, architectures, (os, version) pairs, processes.
///
/// # Errors
/// The first deviation.
pub fn filter_options(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "filter_options";
    let store = factory();
    let win = dims("Firefox", "x86", "Windows_NT", "6.1");
    let android = dims("Fennec", "arm", "Android", "23");
    let other = dims("Thunderbird", "ppc", "BeOS", "5");
    let h = || seeded(layout_a(), 5);
    let tables = vec![
        (
            target(Prefix::BuildId, "nightly", "42", "20150530"),
            vec![
                (key("A", "", Process::Parent, &win), h()),
                (key("[[COUNT]]_C", "", Process::Parent, &win), h()),
            ],
        ),
        (
            target(Prefix::SubmissionDate, "nightly", "42", "20150601"),
            vec![(key("B", "k", Process::Content, &android), h())],
        ),
        (
            target(Prefix::BuildId, "nightly", "43", "20150601"),
            vec![(key("Z", "", Process::Gpu, &other), h())],
        ),
        (
            target(Prefix::BuildId, "beta", "42", "20150601"),
            vec![(key("Y", "", Process::Gpu, &other), h())],
        ),
    ];
    ok(C, "write", store.write(&batch("20150601", tables)))?;
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let want = FilterOptions {
        metric: set(&["A", "B", "[[COUNT]]_C"]),
        application: set(&["Fennec", "Firefox"]),
        architecture: set(&["arm", "x86"]),
        os: [
            ("Android".to_string(), "23".to_string()),
            ("Windows_NT".to_string(), "6.1".to_string()),
        ]
        .into(),
        child: [Process::Parent, Process::Content].into(),
    };
    same(
        C,
        "nightly 42",
        &ok(C, "filter_options", store.filter_options("nightly", "42"))?,
        &Some(want),
    )?;
    same(
        C,
        "nightly 44",
        &ok(C, "filter_options", store.filter_options("nightly", "44"))?,
        &None,
    )?;
    same(
        C,
        "aurora 42",
        &ok(C, "filter_options", store.filter_options("aurora", "42"))?,
        &None,
    )
}

/// `scan` visits the selected tables ordered by target, then series key; an error of the
/// visitor stops it and is returned.
///
/// # Errors
/// The first deviation.
pub fn scan_order_and_selection(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "scan_order_and_selection";
    let store = factory();
    let targets = [
        target(Prefix::SubmissionDate, "nightly", "41", "20150601"),
        target(Prefix::BuildId, "nightly", "42", "20150601"),
        target(Prefix::BuildId, "beta", "42", "20150529"),
        target(Prefix::BuildId, "nightly", "42", "20150530"),
    ];
    let mut keys: Vec<SeriesKey> = Vec::new();
    for d in grid().iter().rev().take(3) {
        for p in [Process::Gpu, Process::Parent] {
            for m in ["Z", "A"] {
                keys.push(key(m, if m == "Z" { "k" } else { "" }, p, d));
            }
        }
    }
    let mut model = Vec::new();
    let mut tables = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let rows: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(j, k)| (k.clone(), seeded(layout_a(), (i * 50 + j) as u64)))
            .collect();
        model.extend(rows.iter().map(|(k, h)| (t.clone(), k.clone(), h.clone())));
        tables.push((t.clone(), rows));
    }
    ok(C, "write", store.write(&batch("20150601", tables)))?;
    model.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    same(C, "scan of everything", &dump(&*store)?, &model)?;

    let selections = [
        Selection {
            prefix: Some(Prefix::BuildId),
            ..Selection::default()
        },
        Selection {
            channel: Some("nightly".into()),
            ..Selection::default()
        },
        Selection {
            version: Some("41".into()),
            ..Selection::default()
        },
        Selection {
            prefix: Some(Prefix::BuildId),
            channel: Some("nightly".into()),
            version: Some("42".into()),
        },
        Selection {
            channel: Some("release".into()),
            ..Selection::default()
        },
    ];
    for selection in selections {
        let got =
            scan_targets(&*store, &selection).map_err(|e| Failure::new(C, format!("scan: {e}")))?;
        let want: Vec<(Target, SeriesKey)> = model
            .iter()
            .filter(|(t, _, _)| selection.matches(t))
            .map(|(t, k, _)| (t.clone(), k.clone()))
            .collect();
        same(C, &format!("scan of {selection:?}"), &got, &want)?;
    }

    let mut calls = 0;
    let result = store.scan(&Selection::default(), &mut |_, _, _| {
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

fn scan_targets(
    store: &dyn Store,
    selection: &Selection,
) -> crate::Result<Vec<(Target, SeriesKey)>> {
    let mut out = Vec::new();
    store.scan(selection, &mut |t, k, _| {
        out.push((t.clone(), k.clone()));
        Ok(())
    })?;
    Ok(out)
}

/// `stats` counts what the reads list: targets as `dates` lists them (tables without series
/// included), series as `scan` visits them, rows per (target, metric, label); an empty store
/// counts nothing. A store that keeps no replicate groups counts none.
///
/// # Errors
/// The first deviation.
pub fn stats_match_reads(factory: Factory<'_>) -> Result<(), Failure> {
    const C: &str = "stats_match_reads";
    let store = factory();
    let empty = ok(C, "stats of an empty store", store.stats())?;
    same(
        C,
        "counts of an empty store",
        &(empty.targets, empty.rows, empty.series),
        &(0, 0, 0),
    )?;
    let win = dims("Firefox", "x86", "Windows_NT", "6.1");
    let mac = dims("Firefox", "x86", "Darwin", "15.0");
    let t1 = target(Prefix::BuildId, "nightly", "42", "20150601");
    let t2 = target(Prefix::SubmissionDate, "beta", "41", "20150602");
    let t3 = target(Prefix::BuildId, "beta", "41", "20150601");
    let tables = vec![
        (
            t1,
            vec![
                // One row (A, ""), three series: two dims, and a second layout.
                (key("A", "", Process::Parent, &win), seeded(layout_a(), 1)),
                (key("A", "", Process::Parent, &mac), seeded(layout_a(), 2)),
                (key("A", "", Process::Parent, &win), seeded(layout_b(), 3)),
                // Two rows (K, x) and (K, y).
                (key("K", "x", Process::Content, &win), seeded(layout_a(), 4)),
                (key("K", "y", Process::Content, &win), seeded(layout_a(), 5)),
            ],
        ),
        (
            t2,
            vec![(key("A", "", Process::Gpu, &win), seeded(layout_a(), 6))],
        ),
        // A table without series still counts as a table.
        (t3, vec![]),
    ];
    ok(C, "write", store.write(&batch("20150602", tables)))?;
    let stats = ok(C, "stats", store.stats())?;
    same(
        C,
        "targets, rows, series",
        &(stats.targets, stats.rows, stats.series),
        &(3, 4, 6),
    )?;
    let scanned = dump(&*store)?.len() as u64;
    same(C, "series against the scan", &stats.series, &scanned)?;
    same(
        C,
        "replicate counts without replicates",
        &(stats.replicate_rows, stats.replicate_series),
        &(0, 0),
    )?;
    ensure(
        C,
        stats.bytes != Some(0),
        "a store with data reports 0 bytes on disk (None when it has no disk)",
    )
}

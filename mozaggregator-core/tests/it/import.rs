//! `import` reads `export` back: exact round trips (NDJSON and CSV, every layout kind, several
//! absorbed dates), bad rows counted by reason, idempotency, merging with what a store holds.

use std::collections::BTreeMap;

use mozaggregator_core::export::{absorbed_dates, export, ExportOptions, Format};
use mozaggregator_core::import::{import, ImportOptions, ImportReport, Importer};
use mozaggregator_core::testing::conformance::fixtures::{batch, date, dims, key, seeded, target};
use mozaggregator_core::{
    Date, Definitions, Error, Histogram, ImportReject, LayoutSpec, MemoryStore, Prefix, Process,
    Selection, SeriesKey, SqliteStore, Store, Target,
};

const BUILD: &str = "20150601";

fn defs() -> Definitions {
    let mut d = Definitions::new();
    d.add_histograms_json(
        r#"{"CAT_LABELS": {"kind": "categorical", "labels": ["a", "b,c"], "description": "d"}}"#,
    )
    .unwrap();
    d
}

fn layouts() -> Vec<LayoutSpec> {
    vec![
        LayoutSpec::exponential(1, 10_000, 50).unwrap(),
        LayoutSpec::exponential(1, 2, 5).unwrap(),
        LayoutSpec::linear(1, 100, 10).unwrap(),
        LayoutSpec::enumerated(20).unwrap(),
        LayoutSpec::categorical(6).unwrap(),
        LayoutSpec::boolean(),
        LayoutSpec::flag(),
        LayoutSpec::count(),
    ]
}

/// Rows of every layout kind, keyed and unkeyed, every process, a label that CSV must quote,
/// a `[[COUNT]]_` name and a categorical metric the definitions name the labels of.
fn rows(seed: u64) -> Vec<(SeriesKey, Histogram)> {
    let d1 = dims("Firefox", "x86-64", "Windows_NT", "10.0");
    let d2 = dims("Fennec", "arm", "Linux", "4.1");
    let mut out = Vec::new();
    for (i, layout) in layouts().into_iter().enumerate() {
        let metric = format!("M_{}_{i}", layout.kind());
        let s = seed + i as u64;
        out.push((key(&metric, "", Process::Parent, &d1), seeded(layout, s)));
        out.push((key(&metric, "", Process::Gpu, &d2), seeded(layout, s + 7)));
        out.push((
            key(&metric, "x,y \"z\" é", Process::Content, &d1),
            seeded(layout, s + 3),
        ));
    }
    // One key, two layouts: kept apart through the round trip.
    out.push((
        key("M_TWO_LAYOUTS", "", Process::Parent, &d1),
        seeded(LayoutSpec::linear(1, 100, 10).unwrap(), seed),
    ));
    out.push((
        key("M_TWO_LAYOUTS", "", Process::Parent, &d1),
        seeded(LayoutSpec::linear(1, 1000, 10).unwrap(), seed),
    ));
    out.push((
        key("[[COUNT]]_X", "", Process::Parent, &d2),
        seeded(LayoutSpec::scalar(), seed),
    ));
    out.push((
        key("CAT_LABELS", "", Process::Content, &d2),
        seeded(LayoutSpec::categorical(4).unwrap(), seed),
    ));
    out
}

/// A build-id table that absorbed three submission dates, another build-id table, and two
/// submission-date tables.
fn fill(store: &dyn Store) {
    let t_build = target(Prefix::BuildId, "nightly", "42", BUILD);
    for (i, day) in ["20150601", "20150602", "20150604"].into_iter().enumerate() {
        let mut b = batch(day, vec![(t_build.clone(), rows(i as u64 * 10))]);
        b.tables.insert(
            target(Prefix::SubmissionDate, "nightly", "42", day),
            rows(i as u64 * 10 + 1),
        );
        if i == 1 {
            b.tables
                .insert(target(Prefix::BuildId, "beta", "41", "20150530"), rows(100));
        }
        store.write(&b).unwrap();
    }
}

fn exported(store: &dyn Store, format: Format, with_absorbed: bool) -> String {
    let mut out = Vec::new();
    let options = ExportOptions {
        format,
        with_absorbed,
    };
    export(store, &Selection::default(), &defs(), &options, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn imported(store: &dyn Store, text: &str) -> ImportReport {
    import(store, &mut text.as_bytes(), &ImportOptions::default()).unwrap()
}

fn absorbed(store: &dyn Store) -> BTreeMap<Target, Vec<Date>> {
    absorbed_dates(store, &Selection::default()).unwrap()
}

fn stores() -> Vec<(&'static str, Box<dyn Store>)> {
    vec![
        ("memory", Box::new(MemoryStore::new())),
        ("sqlite", Box::new(SqliteStore::open_in_memory().unwrap())),
    ]
}

#[test]
fn ndjson_and_csv_round_trips_are_exact_for_every_store() {
    for (source_name, source) in stores() {
        fill(&*source);
        let want_absorbed = absorbed(&*source);
        let t_build = target(Prefix::BuildId, "nightly", "42", BUILD);
        assert_eq!(want_absorbed[&t_build].len(), 3);
        for format in [Format::Ndjson, Format::Csv] {
            let text = exported(&*source, format, true);
            assert!(text.contains("spill"), "categorical labels are exported");
            for (dest_name, dest) in stores() {
                let case = format!("{source_name} → {format:?} → {dest_name}");
                let report = imported(&*dest, &text);
                assert!(report.rows_rejected.is_empty(), "{case}: {report}");
                assert_eq!(report.targets_written, want_absorbed.len() as u64, "{case}");
                assert_eq!(report.rows_imported, report.rows_read, "{case}");
                assert!(report.rows_read > 100, "{case}");
                crate::common::sum_ok(&report);
                assert!(
                    exported(&*dest, format, true) == text,
                    "{case}: exports differ"
                );
                assert!(
                    exported(&*dest, Format::Ndjson, false)
                        == exported(&*source, Format::Ndjson, false),
                    "{case}: plain exports differ"
                );
                assert_eq!(absorbed(&*dest), want_absorbed, "{case}");
            }
        }
    }
}

#[test]
fn the_original_services_data_set_round_trips() {
    const TODAY: &str = "20240110";
    let source = crate::common::dataset_store(TODAY);
    let want = absorbed(&source);
    assert!(want.values().any(|dates| dates.len() > 1));
    for format in [Format::Ndjson, Format::Csv] {
        let text = exported(&source, format, true);
        let dest = SqliteStore::open_in_memory().unwrap();
        let report = imported(&dest, &text);
        assert!(report.rows_rejected.is_empty(), "{report}");
        assert!(exported(&dest, format, true) == text, "{format:?}");
        assert_eq!(absorbed(&dest), want);
    }
}

#[test]
fn importing_twice_writes_nothing_and_reports_the_tables_skipped() {
    let source = MemoryStore::new();
    fill(&source);
    let text = exported(&source, Format::Ndjson, true);
    let dest = SqliteStore::open_in_memory().unwrap();
    let first = imported(&dest, &text);
    let before = exported(&dest, Format::Ndjson, true);
    let version = dest.data_version().unwrap();
    let second = imported(&dest, &text);
    assert_eq!(second.rows_imported, 0);
    assert_eq!(second.targets_written, 0);
    assert_eq!(second.rows_skipped, first.rows_imported);
    assert_eq!(second.targets_skipped, first.targets_written);
    assert_eq!(second.skipped_tables.len() as u64, first.targets_written);
    assert!(second
        .skipped_tables
        .contains(&"build_id/nightly/42/20150601".to_string()));
    crate::common::sum_ok(&second);
    assert!(exported(&dest, Format::Ndjson, true) == before);
    assert_eq!(dest.data_version().unwrap(), version);
    // The same file twice in one run: the second copy is skipped the same way.
    let mut importer = Importer::new(&dest, ImportOptions::default());
    for name in ["a", "b"] {
        importer.import(name, &mut text.as_bytes()).unwrap();
    }
    let report = importer.finish();
    assert_eq!((report.rows_imported, report.inputs_read), (0, 2));
    assert_eq!(report.targets_skipped, 2 * first.targets_written);
}

/// [`rows`] without the layout whose bounds another layout has too: an export cannot tell
/// `exponential(1, 2, 5)` from `exponential(1, 4, 5)` (both `[0, 1, 2, 3, 4]`), so import
/// reads the one whose `high` is the last bound, and rows of the other one stored before would
/// be kept apart from it instead of merged.
fn unambiguous_rows(seed: u64) -> Vec<(SeriesKey, Histogram)> {
    let ambiguous = LayoutSpec::exponential(1, 2, 5).unwrap();
    rows(seed)
        .into_iter()
        .filter(|(_, h)| h.layout() != ambiguous)
        .collect()
}

#[test]
fn importing_merges_other_submission_dates_and_refuses_partly_absorbed_tables() {
    let t = target(Prefix::BuildId, "release", "40", "20150520");
    let day1 = batch("20150601", vec![(t.clone(), unambiguous_rows(1))]);
    let day2 = batch("20150602", vec![(t.clone(), unambiguous_rows(2))]);
    let day3 = batch("20150603", vec![(t.clone(), unambiguous_rows(3))]);
    // What the store holds: day 1. The import: days 2 and 3, from another store.
    let store = MemoryStore::new();
    store.write(&day1).unwrap();
    let other = MemoryStore::new();
    other.write(&day2).unwrap();
    other.write(&day3).unwrap();
    let report = imported(&store, &exported(&other, Format::Csv, true));
    assert!(report.rows_rejected.is_empty(), "{report}");
    assert_eq!(report.targets_written, 1);
    // As if every day had been written into one store: merged per the store's contract.
    let all = MemoryStore::new();
    for b in [&day1, &day2, &day3] {
        all.write(b).unwrap();
    }
    assert!(exported(&store, Format::Ndjson, true) == exported(&all, Format::Ndjson, true));
    assert_eq!(store.absorbed(&t).unwrap().len(), 3);

    // A store that absorbed day 2 only: adding days 2+3 would count day 2 twice.
    let partly = MemoryStore::new();
    partly.write(&day2).unwrap();
    let before = exported(&partly, Format::Ndjson, true);
    let report = imported(&partly, &exported(&other, Format::Ndjson, true));
    assert_eq!(report.rows_imported, 0);
    assert_eq!(
        report.rows_rejected.count(ImportReject::PartlyAbsorbed),
        unambiguous_rows(2).len() as u64
    );
    assert_eq!(
        report.partly_absorbed_tables,
        vec!["build_id/release/40/20150520".to_string()]
    );
    assert_eq!(report.rejected_examples[0].line, 1);
    crate::common::sum_ok(&report);
    assert!(exported(&partly, Format::Ndjson, true) == before);
}

/// A small valid export: its lines, without the header.
fn small_export(format: Format) -> (String, Vec<String>) {
    let store = MemoryStore::new();
    let t = target(Prefix::SubmissionDate, "beta", "41", "20150601");
    let d = dims("Firefox", "x86", "Linux", "4.1");
    let good = vec![
        (
            key("GOOD_A", "", Process::Parent, &d),
            seeded(LayoutSpec::scalar(), 1),
        ),
        (
            key("GOOD_B", "", Process::Parent, &d),
            seeded(LayoutSpec::flag(), 2),
        ),
    ];
    store.write(&batch("20150601", vec![(t, good)])).unwrap();
    let text = exported(&store, format, true);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = match format {
        Format::Csv => lines.remove(0),
        Format::Ndjson => String::new(),
    };
    (header, lines)
}

#[test]
fn bad_ndjson_rows_are_counted_by_reason_and_the_good_ones_imported() {
    let (_, good) = small_export(Format::Ndjson);
    let row = &good[0];
    let edit = |from: &str, to: &str| {
        assert!(row.contains(from), "{from}");
        row.replacen(from, to, 1)
    };
    let bounds = LayoutSpec::scalar().bounds();
    let first_bounds = format!("\"buckets\":[0,{}", bounds[1]);
    let bad = vec![
        (row[..row.len() / 2].to_string(), ImportReject::Malformed),
        ("[1,2,3]".to_string(), ImportReject::Malformed),
        (
            edit("\"sum\":", "\"sum\":\"x\",\"s\":"),
            ImportReject::WrongType,
        ),
        (edit("\"count\":", "\"count\":-"), ImportReject::WrongType),
        (
            edit("\"kind\":\"exponential\"", "\"kind\":\"gaussian\""),
            ImportReject::UnknownKind,
        ),
        (
            edit("\"prefix\":\"submission_date\"", "\"prefix\":\"day\""),
            ImportReject::UnknownPrefix,
        ),
        (
            edit("\"process\":\"parent\"", "\"process\":\"gpu2\""),
            ImportReject::UnknownProcess,
        ),
        (
            edit(&first_bounds, "\"buckets\":[0,3"),
            ImportReject::LayoutMismatch,
        ),
        (
            edit("\"kind\":\"exponential\"", "\"kind\":\"linear\""),
            ImportReject::LayoutMismatch,
        ),
        (
            edit("\"buckets\":[0,", "\"buckets\":["),
            ImportReject::LengthMismatch,
        ),
        (
            edit("\"histogram\":[", "\"histogram\":[0,"),
            ImportReject::LengthMismatch,
        ),
        (
            edit("\"date\":\"20150601\"", "\"date\":\"20150631\""),
            ImportReject::BadDate,
        ),
        (
            edit(
                "\"absorbed\":[\"20150601\"]",
                "\"absorbed\":[\"2015-06-01\"]",
            ),
            ImportReject::BadDate,
        ),
        (
            edit("\"absorbed\":[\"20150601\"]", "\"absorbed\":[]"),
            ImportReject::BadDate,
        ),
        (
            edit("\"metric\":\"GOOD_A\"", "\"metric\":\"BAD NAME\""),
            ImportReject::BadMetricName,
        ),
        (
            edit("\"label\":\"\"", "\"label\":\"a\\u0000b\""),
            ImportReject::NulInDimension,
        ),
        (
            edit("\"sum\":", "\"sum\":9223372036854775808,\"x\":"),
            ImportReject::SumOutOfRange,
        ),
    ];
    // count 0 with a sum and samples
    let zero = {
        let count_at = row.find("\"count\":").unwrap();
        format!(
            "{}\"count\":0,{}",
            &row[..count_at],
            &row[row.find(",\"absorbed\"").unwrap() + 1..]
        )
    };
    let mut lines = vec![good[0].clone()];
    let mut want = BTreeMap::new();
    for (line, reason) in bad
        .iter()
        .cloned()
        .chain([(zero, ImportReject::InconsistentCounts)])
    {
        lines.push(line);
        *want.entry(reason).or_insert(0u64) += 1;
    }
    lines.push(String::new()); // blank lines are not rows
    lines.push(good[1].clone());
    let text = lines.join("\n") + "\n";
    let store = MemoryStore::new();
    let report = imported(&store, &text);
    let got: BTreeMap<ImportReject, u64> = report.rows_rejected.iter().collect();
    assert_eq!(got, want, "{report}");
    assert_eq!(report.rows_imported, 2);
    assert_eq!(report.rows_read, lines.len() as u64 - 1);
    crate::common::sum_ok(&report);
    // The first rejected row is line 2, the truncated one.
    let first = &report.rejected_examples[0];
    assert_eq!((first.line, first.reason), (2, ImportReject::Malformed));
    assert!(first.detail.contains("EOF"), "{}", first.detail);
    assert_eq!(report.rejected_examples[2].line, 4);
    // The good rows are all there.
    let (_, good_again) = small_export(Format::Ndjson);
    assert_eq!(
        exported(&store, Format::Ndjson, true),
        good_again.join("\n") + "\n"
    );
    let shown = report.to_string();
    assert!(shown.contains("<input>:2: malformed: EOF"), "{shown}");
}

#[test]
fn bad_csv_rows_are_counted_by_reason_and_a_wrong_header_is_an_error() {
    let (header, good) = small_export(Format::Csv);
    let row = &good[0];
    let lines = [
        header.clone(),
        good[0].clone(),
        row.replacen(",submission_date,", ",", 1)
            .replacen("submission_date,", "", 1),
        row.replacen("exponential", "gaussian", 1),
        row.replacen(",beta,41,20150601,", ",beta,41,2015061,", 1),
        format!("{},oops", row),
        good[1].clone(),
    ];
    // sum not a number: replace the second-to-last unquoted field
    let mut fields: Vec<&str> = row.rsplitn(4, ',').collect();
    fields[2] = "12x";
    fields.reverse();
    let bad_sum = fields.join(",");
    let mut text = lines.join("\n") + "\n";
    text.push_str(&bad_sum);
    text.push('\n');
    let store = MemoryStore::new();
    let report = imported(&store, &text);
    assert_eq!(report.rows_imported, 2, "{report}");
    assert_eq!(
        report.rows_rejected.count(ImportReject::Malformed),
        2,
        "{report}"
    );
    assert_eq!(report.rows_rejected.count(ImportReject::UnknownKind), 1);
    assert_eq!(report.rows_rejected.count(ImportReject::BadDate), 1);
    assert_eq!(report.rows_rejected.count(ImportReject::WrongType), 1);
    assert_eq!(report.rejected_examples[0].line, 3);
    crate::common::sum_ok(&report);

    let wrong = text.replacen("os_version,kind", "os_version,type", 1);
    let err = import(&store, &mut wrong.as_bytes(), &ImportOptions::default()).unwrap_err();
    assert!(matches!(err, Error::Parse { .. }), "{err}");
    assert!(err.to_string().contains("os_version,type"), "{err}");
    // Told it is CSV, an NDJSON file has a wrong header too.
    let (_, ndjson) = small_export(Format::Ndjson);
    let options = ImportOptions {
        format: Some(Format::Csv),
        ..ImportOptions::default()
    };
    let err = import(&store, &mut ndjson.join("\n").as_bytes(), &options).unwrap_err();
    assert!(err.to_string().contains("CSV header"), "{err}");
}

#[test]
fn rows_without_absorbed_dates_need_a_submission_date_for_build_ids() {
    let source = MemoryStore::new();
    fill(&source);
    let plain = exported(&source, Format::Ndjson, false);
    let store = MemoryStore::new();
    let err = import(&store, &mut plain.as_bytes(), &ImportOptions::default()).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("--with-absorbed") && message.contains("--submission-date"));
    assert!(message.contains("line 1"), "{message}");

    // Submission-date rows alone absorb their own date.
    let submission: String = plain
        .lines()
        .filter(|l| l.contains("\"prefix\":\"submission_date\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let store = MemoryStore::new();
    imported(&store, &submission);
    let t = target(Prefix::SubmissionDate, "nightly", "42", "20150602");
    assert_eq!(store.absorbed(&t).unwrap(), [date("20150602")].into());
    assert!(exported(&store, Format::Ndjson, false) == submission);

    // With --submission-date, build-id rows absorb it.
    let options = ImportOptions {
        submission_date: Some("20150610".parse().unwrap()),
        ..ImportOptions::default()
    };
    let store = MemoryStore::new();
    import(&store, &mut plain.as_bytes(), &options).unwrap();
    let t = target(Prefix::BuildId, "nightly", "42", BUILD);
    assert_eq!(store.absorbed(&t).unwrap(), [date("20150610")].into());
    assert!(exported(&store, Format::Ndjson, false) == plain);
}

#[test]
fn a_table_whose_rows_come_apart_in_one_input_is_reported_not_lost() {
    let source = MemoryStore::new();
    fill(&source);
    let text = exported(&source, Format::Ndjson, true);
    let lines: Vec<&str> = text.lines().collect();
    // Move the first row of the file to the end: its table is written before it comes.
    let mut moved: Vec<&str> = lines[1..].to_vec();
    moved.push(lines[0]);
    // And repeat a row right after itself.
    moved.insert(1, lines[1]);
    let store = MemoryStore::new();
    let report = imported(&store, &(moved.join("\n") + "\n"));
    assert_eq!(report.rows_rejected.count(ImportReject::TargetRepeated), 1);
    assert_eq!(report.rows_rejected.count(ImportReject::DuplicateRow), 1);
    let repeated = report
        .rejected_examples
        .iter()
        .find(|r| r.reason == ImportReject::TargetRepeated)
        .unwrap();
    assert_eq!(repeated.line, moved.len() as u64);
    assert_eq!(report.rows_imported, lines.len() as u64 - 1);
    crate::common::sum_ok(&report);
}

#[test]
fn overlong_lines_are_rejected_without_being_kept() {
    let (_, good) = small_export(Format::Ndjson);
    let long = format!("{{\"x\":\"{}\"}}", "y".repeat(10_000));
    let text = format!("{}\n{long}\n{}\n", good[0], good[1]);
    let options = ImportOptions {
        max_line: 2_000,
        ..ImportOptions::default()
    };
    let store = MemoryStore::new();
    let report = import(&store, &mut text.as_bytes(), &options).unwrap();
    assert_eq!(report.rows_rejected.count(ImportReject::LineTooLong), 1);
    assert_eq!(report.rows_imported, 2);
    assert_eq!(report.rejected_examples[0].line, 2);
}

/// A count histogram's `[[COUNT]]_` series is exported with kind `count`, as the API serves
/// it; `import` reads it back into the exponential layout it is stored in, and so does an
/// export written before (kind `exponential`).
#[test]
fn count_series_are_exported_as_count_and_import_either_way() {
    let source = MemoryStore::new();
    fill(&source);
    let text = exported(&source, Format::Ndjson, true);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(r#""metric":"[[COUNT]]_X""#))
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l.contains(r#""kind":"count""#)),
        "{lines:?}"
    );
    // Everything else keeps the kind of its stored layout.
    assert!(text.contains(r#""metric":"M_exponential_0","label":"","process":"parent","application":"Firefox","architecture":"x86-64","os":"Windows_NT","os_version":"10.0","kind":"exponential""#));
    let older = text.replace(
        r#""metric":"[[COUNT]]_X","label":"","process":"parent","application":"Fennec","architecture":"arm","os":"Linux","os_version":"4.1","kind":"count""#,
        r#""metric":"[[COUNT]]_X","label":"","process":"parent","application":"Fennec","architecture":"arm","os":"Linux","os_version":"4.1","kind":"exponential""#,
    );
    assert_ne!(older, text);
    for input in [&text, &older] {
        let dest = MemoryStore::new();
        let report = imported(&dest, input);
        assert!(report.rows_rejected.is_empty(), "{report}");
        assert_eq!(exported(&dest, Format::Ndjson, true), text);
    }
}

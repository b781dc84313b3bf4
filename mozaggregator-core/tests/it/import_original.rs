//! `import --from-original`: the original service's database (tables written in its schema from
//! a store's content, on the private PostgreSQL cluster) read into SQLite and PostgreSQL stores
//! exactly; bad rows counted by reason; a second import is a no-op; connection failures are
//! clear errors without the password.

use std::collections::{BTreeMap, BTreeSet};

use mozaggregator_core::aggregate::stored_layout;
use mozaggregator_core::definitions::Definition;
use mozaggregator_core::export::{absorbed_dates, export, ExportOptions, Format};
use mozaggregator_core::import::{ImportReport, OriginalImport, OriginalOptions};
use mozaggregator_core::testing::{original, postgres};
use mozaggregator_core::{
    BucketLayout, Definitions, Error, ImportReject, LayoutSpec, MemoryStore, PostgresStore, Prefix,
    Process, Selection, SqliteStore, Store, StoreErrorKind, Target,
};

const TODAY: &str = "20240110";

/// Definitions giving every stored histogram that needs one the layout it is stored under
/// (use counters, scalars, simple measures and count histograms need none).
fn definitions_of(store: &dyn Store) -> Definitions {
    let none = Definitions::new();
    let mut layouts: BTreeMap<String, BTreeSet<LayoutSpec>> = BTreeMap::new();
    store
        .scan(&Selection::default(), &mut |_, key, h| {
            if stored_layout(&none, &key.metric).is_none() {
                layouts
                    .entry(key.metric.clone())
                    .or_default()
                    .insert(h.layout());
            }
            Ok(())
        })
        .unwrap();
    let mut defs = Definitions::new();
    for (name, specs) in layouts {
        assert_eq!(specs.len(), 1, "{name}: one layout per metric");
        let spec = specs.into_iter().next().unwrap();
        defs.insert(Definition {
            name,
            kind: spec.kind(),
            layout: BucketLayout::new(spec),
            description: String::new(),
            keyed: false,
        });
    }
    defs
}

fn exported(store: &dyn Store) -> String {
    let mut out = Vec::new();
    let options = ExportOptions {
        format: Format::Ndjson,
        with_absorbed: true,
    };
    export(
        store,
        &Selection::default(),
        &Definitions::new(),
        &options,
        &mut out,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

fn absorbed(store: &dyn Store) -> BTreeMap<Target, Vec<String>> {
    absorbed_dates(store, &Selection::default())
        .unwrap()
        .into_iter()
        .map(|(t, dates)| (t, dates.iter().map(ToString::to_string).collect()))
        .collect()
}

fn run(store: &dyn Store, url: &str, definitions: Definitions) -> ImportReport {
    let mut import = OriginalImport::new(store, OriginalOptions { definitions });
    import.run(url).unwrap();
    import.finish()
}

#[test]
fn the_original_database_imports_exactly_into_sqlite_and_postgres_and_again_is_a_no_op() {
    let Some(url) = postgres::database() else {
        return;
    };
    let source = crate::common::dataset_store(TODAY);
    let written = original::write_store(&url, &source, true).unwrap();
    assert!(written.rows > 1000 && written.tables > 10, "{written:?}");
    let want = exported(&source);
    let want_absorbed = absorbed(&source);
    assert!(want_absorbed.values().any(|d| d.len() > 1));
    let defs = definitions_of(&source);
    assert!(defs.get("EVENTLOOP_UI_ACTIVITY_EXP_MS").is_some());

    let mut dests: Vec<(&str, Box<dyn Store>)> =
        vec![("sqlite", Box::new(SqliteStore::open_in_memory().unwrap()))];
    if let Some(dest_url) = postgres::database() {
        dests.push((
            "postgres",
            Box::new(PostgresStore::open(&dest_url).unwrap()),
        ));
    }
    for (name, dest) in &dests {
        let report = run(dest.as_ref(), &url, defs.clone());
        assert!(report.rows_rejected.is_empty(), "{name}: {report}");
        assert_eq!(report.rows_read, written.rows, "{name}");
        assert_eq!(report.rows_imported, written.rows, "{name}");
        assert_eq!(report.inputs_read, written.tables, "{name}");
        assert_eq!(report.targets_written, written.tables, "{name}");
        assert!(report.tables_without_dates.is_empty(), "{name}");
        assert!(exported(dest.as_ref()) == want, "{name}: exports differ");
        assert_eq!(absorbed(dest.as_ref()), want_absorbed, "{name}");

        let again = run(dest.as_ref(), &url, defs.clone());
        assert_eq!(again.targets_written, 0, "{name}: {again}");
        assert_eq!(again.targets_skipped, written.tables, "{name}");
        assert_eq!(again.rows_skipped, written.rows, "{name}");
        assert_eq!(again.rows_imported, 0, "{name}");
        crate::common::sum_ok(&again);
        assert!(
            exported(dest.as_ref()) == want,
            "{name}: changed by a re-import"
        );
    }
}

#[test]
fn without_definitions_histograms_are_rejected_and_the_fixed_layouts_imported() {
    let Some(url) = postgres::database() else {
        return;
    };
    let source = crate::common::dataset_store(TODAY);
    let written = original::write_store(&url, &source, true).unwrap();
    let dest = MemoryStore::new();
    let report = run(&dest, &url, Definitions::new());
    crate::common::sum_ok(&report);
    let unknown = report.rows_rejected.count(ImportReject::UnknownMetric);
    assert!(unknown > 0, "{report}");
    assert_eq!(report.rows_rejected.total(), unknown, "{report}");
    assert_eq!(report.rows_imported + unknown, written.rows);
    // What was imported is what the source holds of those metrics.
    let mut kept = 0u64;
    dest.scan(&Selection::default(), &mut |target, key, h| {
        kept += 1;
        assert!(
            stored_layout(&Definitions::new(), &key.metric).is_some(),
            "{}",
            key.metric
        );
        let _ = (target, h);
        Ok(())
    })
    .unwrap();
    assert_eq!(kept, report.rows_imported);
}

/// Inserts one row (`dims` JSON text, `array` SQL text) into `table`.
fn insert(client: &mut ::postgres::Client, table: &str, dims: &str, array: &str) {
    original::create_table(client, table).unwrap();
    client
        .execute(
            &format!("INSERT INTO \"{table}\" VALUES ($1::text::jsonb, {array})"),
            &[&dims],
        )
        .unwrap();
}

fn dims(metric: &str, child: &str, extra: &str) -> String {
    format!(
        r#"{{"metric":"{metric}","label":"","child":{child},"application":"Firefox","architecture":"x86","os":"Linux","osVersion":"6.1"{extra}}}"#
    )
}

/// `n` zero buckets with one sample in the first, then sum and count.
fn array(n: usize, sum: i64, count: i64) -> String {
    let mut v = vec!["0".to_string(); n];
    v[0] = "1".into();
    v.push(sum.to_string());
    v.push(count.to_string());
    format!("ARRAY[{}]::bigint[]", v.join(","))
}

#[test]
fn bad_rows_are_counted_by_reason_and_the_good_ones_imported() {
    let Some(url) = postgres::database() else {
        return;
    };
    let mut client = original::client(&url).unwrap();
    let sd = "submission_date_nightly_42_20150601";
    let scalar = LayoutSpec::scalar().len();
    let simple = LayoutSpec::simple_measure().len();
    // Good rows.
    insert(
        &mut client,
        sd,
        &dims("SCALARS_A.B", "\"false\"", ""),
        &array(scalar, 5, 1),
    );
    insert(
        &mut client,
        sd,
        &dims("SIMPLE_MEASURES_UPTIME", "\"true\"", ""),
        &array(simple, 3, 1),
    );
    insert(
        &mut client,
        sd,
        &dims("[[COUNT]]_X", "\"gpu\"", ""),
        &array(scalar, 1, 1),
    );
    insert(
        &mut client,
        sd,
        &dims("USE_COUNTER2_Y_PAGE", "true", ""),
        &array(3, 0, 1),
    );
    // Two rows that differ only by e10sEnabled: one series.
    for e10s in ["true", "false"] {
        let extra = format!(r#","e10sEnabled":{e10s}"#);
        insert(
            &mut client,
            sd,
            &dims("SCALARS_E.F", "\"false\"", &extra),
            &array(scalar, 7, 2),
        );
    }
    // Bad rows.
    let bad = [
        (
            dims("GC_MS", "\"false\"", ""),
            array(50, 1, 1),
            ImportReject::UnknownMetric,
        ),
        (
            dims("SCALARS_C.D", "\"false\"", ""),
            array(50, 1, 1),
            ImportReject::ArrayLength,
        ),
        (
            r#"{"metric":"SCALARS_A.B","label":"","child":"false"}"#.to_string(),
            array(scalar, 1, 1),
            ImportReject::MalformedDimensions,
        ),
        (
            "[1, 2]".to_string(),
            array(scalar, 1, 1),
            ImportReject::MalformedDimensions,
        ),
        (
            dims("SCALARS_A.B", "\"extension\"", ""),
            array(scalar, 1, 1),
            ImportReject::UnknownChild,
        ),
        (
            dims("SCALARS_A.B", "\"false\"", ""),
            "NULL".to_string(),
            ImportReject::BadArray,
        ),
        (
            dims("SCALARS_A.B", "\"false\"", ""),
            array(scalar, -1, 1),
            ImportReject::BadArray,
        ),
        (
            dims("SCALARS_A.B", "\"false\"", ""),
            array(scalar, 5, 0),
            ImportReject::InconsistentCounts,
        ),
    ];
    for (d, a, _) in &bad {
        insert(&mut client, sd, d, a);
    }
    // A build_id table without recorded dates, and a table whose name has no valid date.
    let bid = "build_id_nightly_42_20150530";
    insert(
        &mut client,
        bid,
        &dims("SCALARS_A.B", "\"false\"", ""),
        &array(scalar, 5, 1),
    );
    insert(
        &mut client,
        "build_id_nightly_42_20151399",
        &dims("SCALARS_A.B", "\"false\"", ""),
        &array(scalar, 5, 1),
    );
    // No table_update_dates at all (the oldest databases).

    let dest = SqliteStore::open_in_memory().unwrap();
    let report = run(&dest, &url, Definitions::new());
    crate::common::sum_ok(&report);
    let mut want: BTreeMap<ImportReject, u64> = BTreeMap::new();
    for (_, _, reason) in &bad {
        *want.entry(*reason).or_default() += 1;
    }
    let got: BTreeMap<ImportReject, u64> = report.rows_rejected.iter().collect();
    assert_eq!(got, want, "{report}");
    assert_eq!(report.rows_read, 6 + bad.len() as u64 + 1, "{report}");
    assert_eq!(report.rows_imported, 7, "{report}");
    assert_eq!(report.targets_written, 2);
    assert_eq!(
        report.tables_without_dates,
        vec!["build_id/nightly/42/20150530".to_string()]
    );
    assert_eq!(report.tables_not_imported.len(), 1, "{report}");
    assert!(report.tables_not_imported[0].starts_with("build_id_nightly_42_20151399"));
    assert!(report.rejected_examples.iter().all(|r| r.input == sd));
    assert!(report
        .to_string()
        .contains("without recorded submission dates"));

    // Dates: a submission_date table absorbed its date, a build_id table its build date.
    let t = |prefix, date: &str| Target {
        prefix,
        channel: "nightly".into(),
        version: "42".into(),
        date: date.parse().unwrap(),
    };
    let got = absorbed(&dest);
    assert_eq!(got[&t(Prefix::SubmissionDate, "20150601")], ["20150601"]);
    assert_eq!(got[&t(Prefix::BuildId, "20150530")], ["20150530"]);
    // Processes decoded, and the e10s rows merged into one series.
    let mut series = BTreeMap::new();
    dest.scan(&Selection::default(), &mut |target, key, h| {
        if target.prefix == Prefix::SubmissionDate {
            series.insert(key.metric.clone(), (key.process, h.sum(), h.count()));
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(series["SCALARS_A.B"].0, Process::Parent);
    assert_eq!(series["SIMPLE_MEASURES_UPTIME"].0, Process::Content);
    assert_eq!(series["[[COUNT]]_X"].0, Process::Gpu);
    assert_eq!(series["USE_COUNTER2_Y_PAGE"].0, Process::Content);
    assert_eq!(series["SCALARS_E.F"], (Process::Parent, 14, 4));
    assert_eq!(series.len(), 5);

    // With a definition, the unknown histogram imports (into a new store).
    let defs = Definitions::from_histograms_json(
        r#"{"GC_MS": {"kind": "exponential", "high": 10000, "n_buckets": 50}}"#,
    )
    .unwrap();
    let dest = MemoryStore::new();
    let report = run(&dest, &url, defs);
    assert_eq!(report.rows_rejected.count(ImportReject::UnknownMetric), 0);
    assert_eq!(report.rows_imported, 8, "{report}");
}

#[test]
fn a_connection_failure_is_a_clear_error_without_the_password() {
    let store = MemoryStore::new();
    // Nothing listens on port 1.
    let mut import = OriginalImport::new(&store, OriginalOptions::default());
    let err = import
        .run("postgres://reader:s3cret-pw@127.0.0.1:1/telemetry?connect_timeout=5")
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cannot connect to the original database"),
        "{text}"
    );
    assert!(text.contains("reader:***@127.0.0.1:1/telemetry"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert_eq!(err.store_kind(), Some(StoreErrorKind::Unavailable));
    assert!(import.report().inputs_read == 0);

    let err = OriginalImport::new(&store, OriginalOptions::default())
        .run("postgres://reader:s3cret-pw@127.0.0.1:notaport/telemetry")
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert!(!err.to_string().contains("s3cret-pw"), "{err}");
}

#[test]
fn recorded_dates_are_absorbed_and_a_table_with_bad_ones_is_not_imported() {
    let Some(url) = postgres::database() else {
        return;
    };
    let mut client = original::client(&url).unwrap();
    let scalar = LayoutSpec::scalar().len();
    let good = "build_id_beta_41_20150530";
    let bad = "build_id_beta_41_20150531";
    for table in [good, bad] {
        insert(
            &mut client,
            table,
            &dims("SCALARS_A.B", "\"false\"", ""),
            &array(scalar, 5, 1),
        );
        insert(
            &mut client,
            table,
            &dims("SCALARS_A.B", "\"true\"", ""),
            &array(scalar, 5, 1),
        );
    }
    original::create_update_dates(&mut client).unwrap();
    client
        .execute(
            "INSERT INTO table_update_dates VALUES ($1, ARRAY['20150602', '20150601']), \
             ($2, ARRAY['2015-06-01'])",
            &[&good, &bad],
        )
        .unwrap();
    let dest = MemoryStore::new();
    let report = run(&dest, &url, Definitions::new());
    crate::common::sum_ok(&report);
    assert_eq!(report.rows_read, 4);
    assert_eq!(report.rows_imported, 2, "{report}");
    assert_eq!(
        report.rows_rejected.count(ImportReject::BadDate),
        2,
        "{report}"
    );
    assert_eq!(report.tables_not_imported.len(), 1, "{report}");
    assert!(report.tables_not_imported[0].starts_with(bad), "{report}");
    assert!(report.tables_without_dates.is_empty());
    let got = absorbed(&dest);
    assert_eq!(got.len(), 1);
    assert_eq!(got.values().next().unwrap(), &["20150601", "20150602"]);
}

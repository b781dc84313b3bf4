//! The Parquet export, read back with the `parquet` crate's reader: exactly the NDJSON export's
//! rows (every layout kind, both prefixes, two periods, a `[[COUNT]]_` name, whose brackets
//! Hive escapes, and a dotted scalar name), with tight limits that force many row groups and
//! files, and clear errors for outputs it must not write to.

use std::fs::File;
use std::path::{Path, PathBuf};

use mozaggregator_core::export::parquet::{export_parquet, ParquetLimits};
use mozaggregator_core::export::{export, ExportOptions, Format};
use mozaggregator_core::testing::conformance::fixtures::{batch, dims, key, seeded, target};
use mozaggregator_core::{
    Definitions, Error, Histogram, LayoutSpec, MemoryStore, Prefix, Process, Selection, SeriesKey,
    Store,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Map, Value};

fn defs() -> Definitions {
    let mut d = Definitions::new();
    d.add_histograms_json(
        r#"{"CAT_LABELS": {"kind": "categorical", "labels": ["a", "b,c"], "description": "d"}}"#,
    )
    .unwrap();
    d
}

fn rows(seed: u64) -> Vec<(SeriesKey, Histogram)> {
    let d1 = dims("Firefox", "x86-64", "Windows_NT", "10.0");
    let d2 = dims("Fennec", "arm", "Linux", "4.1");
    let layouts = [
        LayoutSpec::exponential(1, 10_000, 50).unwrap(),
        LayoutSpec::linear(1, 100, 10).unwrap(),
        LayoutSpec::enumerated(20).unwrap(),
        LayoutSpec::categorical(6).unwrap(),
        LayoutSpec::boolean(),
        LayoutSpec::flag(),
        LayoutSpec::count(),
    ];
    let mut out = Vec::new();
    for (i, layout) in layouts.into_iter().enumerate() {
        let metric = format!("M_{}_{i}", layout.kind());
        let s = seed + i as u64;
        out.push((key(&metric, "", Process::Parent, &d1), seeded(layout, s)));
        out.push((
            key(&metric, "x,y \"z\" é", Process::Content, &d2),
            seeded(layout, s + 3),
        ));
    }
    out.push((
        key("[[COUNT]]_X", "", Process::Gpu, &d2),
        seeded(LayoutSpec::scalar(), seed),
    ));
    out.push((
        key("SCALARS_A.B-C", "", Process::Parent, &d1),
        seeded(LayoutSpec::linear(1, 100, 10).unwrap(), seed + 1),
    ));
    out.push((
        key("CAT_LABELS", "", Process::Content, &d2),
        seeded(LayoutSpec::categorical(4).unwrap(), seed),
    ));
    out
}

/// Build-id and submission-date tables over two months (two periods).
fn filled() -> MemoryStore {
    let store = MemoryStore::new();
    for (i, day) in ["20150530", "20150601", "20150602"].into_iter().enumerate() {
        let mut b = batch(
            day,
            vec![(
                target(Prefix::BuildId, "nightly", "42", day),
                rows(i as u64),
            )],
        );
        b.tables.insert(
            target(Prefix::SubmissionDate, "nightly", "42", day),
            rows(i as u64 + 10),
        );
        b.tables.insert(
            target(Prefix::SubmissionDate, "beta", "41", day),
            rows(i as u64 + 20),
        );
        store.write(&b).unwrap();
    }
    store
}

/// The NDJSON export's rows, in the Parquet data set's columns.
fn ndjson_rows(store: &dyn Store) -> Vec<Value> {
    let mut out = Vec::new();
    let options = ExportOptions {
        format: Format::Ndjson,
        with_absorbed: false,
    };
    export(store, &Selection::default(), &defs(), &options, &mut out).unwrap();
    let mut rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            let r: Value = serde_json::from_str(line).unwrap();
            let date = r["date"].as_str().unwrap().to_string();
            let build = r["prefix"] == "build_id";
            let mut histogram = Map::new();
            for (b, c) in r["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .zip(r["histogram"].as_array().unwrap())
            {
                if c.as_u64().unwrap() != 0 {
                    let name = b.as_str().map_or_else(|| b.to_string(), str::to_string);
                    histogram.insert(name, c.clone());
                }
            }
            json!({
                "period": &date[..6],
                "aggregate_type": r["prefix"],
                "submission_date": if build { Value::Null } else { json!(date) },
                "channel": r["channel"],
                "version": r["version"],
                "build_id": if build { json!(date) } else { Value::Null },
                "application": r["application"],
                "architecture": r["architecture"],
                "os": r["os"],
                "os_version": r["os_version"],
                "metric": r["metric"],
                "key": r["label"],
                "process_type": r["process"],
                "count": r["count"],
                "sum": r["sum"],
                "histogram": histogram,
                "kind": r["kind"],
            })
        })
        .collect();
    rows.sort_by_key(Value::to_string);
    rows
}

/// Undoes Hive's `%XX` escapes.
fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every row of the data set under `dir`, the partition columns taken from the directories.
fn parquet_rows(dir: &Path) -> Vec<Value> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::Int64Type;
    use arrow_array::Array;
    let mut rows = Vec::new();
    for path in files(dir) {
        let relative = path.strip_prefix(dir).unwrap();
        let parts: Vec<String> = relative
            .iter()
            .map(|p| p.to_str().unwrap().to_string())
            .collect();
        assert_eq!(parts.len(), 4, "{}", relative.display());
        assert!(parts[3].starts_with("part-") && parts[3].ends_with(".parquet"));
        let mut partition = Map::new();
        for (part, name) in parts[..3]
            .iter()
            .zip(["metric", "aggregate_type", "period"])
        {
            let (column, value) = part.split_once('=').unwrap();
            assert_eq!(column, name);
            partition.insert(name.to_string(), json!(unescape(value)));
        }
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let schema = batch.schema();
            for row in 0..batch.num_rows() {
                let mut r = partition.clone();
                for (field, column) in schema.fields().iter().zip(batch.columns()) {
                    let value = match field.name().as_str() {
                        "count" | "sum" => json!(column.as_primitive::<Int64Type>().value(row)),
                        "histogram" => {
                            let entries = column.as_map().value(row);
                            let keys = entries.column(0).as_string::<i32>();
                            let values = entries.column(1).as_primitive::<Int64Type>();
                            let mut h = Map::new();
                            for j in 0..entries.len() {
                                h.insert(keys.value(j).to_string(), json!(values.value(j)));
                            }
                            Value::Object(h)
                        }
                        _ => {
                            let strings = column.as_string::<i32>();
                            if strings.is_null(row) {
                                Value::Null
                            } else {
                                json!(strings.value(row))
                            }
                        }
                    };
                    r.insert(field.name().clone(), value);
                }
                rows.push(Value::Object(r));
            }
        }
    }
    rows.sort_by_key(Value::to_string);
    rows
}

fn zstd_compressed(path: &Path) -> bool {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata();
    (0..meta.num_row_groups()).all(|g| {
        meta.row_group(g)
            .columns()
            .iter()
            .all(|c| matches!(c.compression(), parquet::basic::Compression::ZSTD(_)))
    })
}

#[test]
fn the_data_set_holds_exactly_the_ndjson_rows() {
    let store = filled();
    let want = ndjson_rows(&store);
    assert!(want.len() > 100);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("parquet");
    let summary = export_parquet(
        &store,
        &Selection::default(),
        &defs(),
        &out,
        &ParquetLimits::default(),
    )
    .unwrap();
    let got = parquet_rows(&out);
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    assert_eq!(summary.rows, want.len() as u64);
    let files = files(&out);
    assert_eq!(summary.files, files.len() as u64);
    assert!(files.iter().all(|f| zstd_compressed(f)));
    // Hive's escapes in the directory names (stored names have no other character Hive
    // escapes); two periods; both aggregate types.
    let names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(&out).unwrap().display().to_string())
        .collect();
    assert!(names
        .iter()
        .any(|n| n.starts_with("metric=%5B%5BCOUNT%5D%5D_X/")));
    assert!(
        names.iter().any(|n| n.starts_with("metric=SCALARS_A.B-C/")),
        "{names:?}"
    );
    assert!(names
        .iter()
        .any(|n| n.contains("/aggregate_type=build_id/period=201505/")));
    assert!(names
        .iter()
        .any(|n| n.contains("/aggregate_type=submission_date/period=201506/")));
    // Labels of categorical metrics from the definitions, as NDJSON's buckets.
    assert!(got.iter().any(|r| r["histogram"].get("spill").is_some()));
}

#[test]
fn tight_limits_write_many_row_groups_and_files_and_the_same_rows() {
    let store = filled();
    let want = ndjson_rows(&store);
    let dir = tempfile::tempdir().unwrap();
    let limits = ParquetLimits {
        batch_rows: 2,
        memory_budget: 4096,
        row_group_rows: 3,
        max_open_files: 2,
    };
    let summary =
        export_parquet(&store, &Selection::default(), &defs(), dir.path(), &limits).unwrap();
    assert_eq!(parquet_rows(dir.path()), want);
    assert!(
        summary.files > summary.partitions,
        "closed files continue in new ones: {summary:?}"
    );
    // Enough open files, and a budget that a few rows exceed: row groups as the rows come.
    let dir = tempfile::tempdir().unwrap();
    let limits = ParquetLimits {
        batch_rows: 1,
        memory_budget: 512,
        row_group_rows: 1000,
        max_open_files: 1000,
    };
    export_parquet(&store, &Selection::default(), &defs(), dir.path(), &limits).unwrap();
    assert_eq!(parquet_rows(dir.path()), want);
    let groups: Vec<usize> = files(dir.path())
        .iter()
        .map(|f| {
            SerializedFileReader::new(File::open(f).unwrap())
                .unwrap()
                .metadata()
                .num_row_groups()
        })
        .collect();
    assert!(groups.iter().any(|&g| g > 1), "{groups:?}");
}

#[test]
fn a_selection_exports_only_its_tables() {
    let store = filled();
    let dir = tempfile::tempdir().unwrap();
    let selection = Selection {
        prefix: Some(Prefix::SubmissionDate),
        channel: Some("beta".into()),
        version: None,
    };
    export_parquet(
        &store,
        &selection,
        &defs(),
        dir.path(),
        &ParquetLimits::default(),
    )
    .unwrap();
    let rows = parquet_rows(dir.path());
    assert!(!rows.is_empty());
    assert!(rows
        .iter()
        .all(|r| r["channel"] == "beta" && r["aggregate_type"] == "submission_date"));
}

#[test]
fn outputs_it_must_not_write_to_are_clear_errors() {
    let store = filled();
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &Path| {
        export_parquet(
            &store,
            &Selection::default(),
            &defs(),
            out,
            &ParquetLimits::default(),
        )
    };
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = run(&file).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert!(err.to_string().contains("not a directory"), "{err}");
    let err = run(&file.join("below")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("below"), "{err}");
    let full = dir.path().join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("old.parquet"), "x").unwrap();
    let err = run(&full).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    // An empty directory is fine, and an empty store writes no files.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let summary = export_parquet(
        &MemoryStore::new(),
        &Selection::default(),
        &defs(),
        &empty,
        &ParquetLimits::default(),
    )
    .unwrap();
    assert_eq!((summary.rows, summary.files), (0, 0));
    assert_eq!(files(&empty), Vec::<PathBuf>::new());
}

#[test]
fn a_count_beyond_a_signed_long_is_an_error_not_a_wrapped_number() {
    let store = MemoryStore::new();
    let h = Histogram::from_parts(LayoutSpec::flag(), vec![0, u64::MAX, 0], 1, u64::MAX).unwrap();
    let t = target(Prefix::BuildId, "nightly", "42", "20150601");
    let d = dims("Firefox", "x86-64", "Linux", "6.1");
    store
        .write(&batch(
            "20150601",
            vec![(t, vec![(key("BIG", "", Process::Parent, &d), h)])],
        ))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = export_parquet(
        &store,
        &Selection::default(),
        &defs(),
        dir.path(),
        &ParquetLimits::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("64-bit"), "{err}");
}

#[test]
fn partition_columns_stay_out_of_the_files() {
    let store = filled();
    let dir = tempfile::tempdir().unwrap();
    export_parquet(
        &store,
        &Selection::default(),
        &defs(),
        dir.path(),
        &ParquetLimits::default(),
    )
    .unwrap();
    let first = &files(dir.path())[0];
    let builder = ParquetRecordBatchReaderBuilder::try_new(File::open(first).unwrap()).unwrap();
    let names: Vec<String> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "submission_date",
            "channel",
            "version",
            "build_id",
            "application",
            "architecture",
            "os",
            "os_version",
            "key",
            "process_type",
            "count",
            "sum",
            "histogram",
            "kind"
        ]
    );
}

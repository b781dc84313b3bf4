//! Mobile-metrics pings: the shared sample ping and generated pings of every kind, through
//! aggregation, merging, the byte form and a store, with their rejects. Expected rows are
//! derived independently, from `serde_json::Value`.

use std::collections::BTreeMap;

use mozaggregator_core::export::{export, ExportOptions, Format};
use mozaggregator_core::generate::GenerateOptions;
use mozaggregator_core::ingest::{ingest, IngestOptions};
use mozaggregator_core::input::Input;
use mozaggregator_core::layout::bucket_index;
use mozaggregator_core::mobile::{MobileGenerator, MobileHistogram, MobileKey};
use mozaggregator_core::{
    Aggregates, Aggregator, BucketLayout, Definitions, DocType, LayoutSpec, MemoryStore, Options,
    Prefix, Selection, Store,
};
use serde_json::{json, Value};

const DATE: &str = "20240102";

fn options() -> Options {
    Options {
        doc_type: DocType::MobileMetrics,
        ..Options::default()
    }
}

fn aggregate(pings: &[String], options: Options) -> Aggregates {
    let mut aggregator = Aggregator::new(options);
    let mut out = Aggregates::new();
    for p in pings {
        aggregator.add_json(&mut out, p.as_bytes());
    }
    out
}

/// Every mobile row written into a memory store: (channel, version, key) → histogram.
fn rows(a: &Aggregates) -> BTreeMap<(String, String, MobileKey), MobileHistogram> {
    let store = MemoryStore::new();
    for batch in a.mobile().batches() {
        store.write_mobile(&batch).unwrap();
    }
    let mut out = BTreeMap::new();
    let selection = Selection {
        prefix: Some(Prefix::MobileMetrics),
        ..Selection::default()
    };
    store
        .scan_mobile(&selection, &mut |t, k, h| {
            assert_eq!(
                (t.prefix, t.date.to_string()),
                (Prefix::MobileMetrics, DATE.into())
            );
            let previous = out.insert((t.channel.clone(), t.version.clone(), k.clone()), h.clone());
            assert!(previous.is_none(), "one row per key and layout here");
            Ok(())
        })
        .unwrap();
    // No desktop table was made.
    assert!(store.channels(Prefix::BuildId).unwrap().is_empty());
    assert!(store.channels(Prefix::SubmissionDate).unwrap().is_empty());
    out
}

/// The shared sample ping with the pipeline's `meta`.
fn sample() -> Option<String> {
    let path = mozaggregator_core::testing::shared_file("pings/mobile-metrics.1.sample.pass.json")?;
    let mut ping: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    ping["meta"] = json!({"submissionDate": DATE, "normalizedChannel": "release",
        "appVersion": "68.1.0", "appBuildId": "20190912-GeckoView", "appName": "Fenix"});
    Some(ping.to_string())
}

/// A row as compared: count, sum, buckets, layout.
type Row = (u64, u64, Vec<(u64, u64)>, Option<LayoutSpec>);

#[test]
fn the_shared_sample_ping_makes_the_rows_its_metrics_say() {
    let Some(ping) = sample() else { return };
    let a = aggregate(&[ping.clone(), ping], options());
    let report = a.report();
    assert_eq!((report.pings_read, report.pings_used), (2, 2));
    // The two string scalars of each ping are not numbers.
    assert_eq!(report.scalars_rejected.get("not_numeric"), Some(&4));
    assert_eq!(report.histograms_rejected_total(), 0);
    let rows = rows(&a);
    let got: BTreeMap<(&str, &str, &str), Row> = rows
        .iter()
        .map(|((channel, version, k), h)| {
            assert_eq!((channel.as_str(), version.as_str()), ("release", "68.1.0"));
            assert_eq!(
                (
                    k.build_id.as_str(),
                    k.application.as_str(),
                    k.architecture.as_str()
                ),
                ("20190912-GeckoView", "Fenix", "arm")
            );
            assert_eq!((k.os.as_str(), k.os_version.as_str()), ("Android", "27"));
            let buckets = h.buckets().iter().map(|(b, n)| (*b, *n)).collect();
            (
                (k.metric.as_str(), k.key.as_str(), k.process.as_str()),
                (h.count(), h.sum(), buckets, h.layout()),
            )
        })
        .collect();
    let scalar = Some(LayoutSpec::scalar());
    let bound = |v: u64| {
        let l = BucketLayout::new(LayoutSpec::scalar());
        l.bounds()[bucket_index(l.bounds(), v)]
    };
    let expected = BTreeMap::from([
        (
            ("TELEMETRY_TEST_HISTOGRAM", "", "engine"),
            (2, 76, vec![(10, 4), (15, 2)], None),
        ),
        (
            ("TELEMETRY_TEST_KEYED_HISTOGRAM", "key1", "engine"),
            (2, 2, vec![(1, 2)], None),
        ),
        (
            ("TELEMETRY_TEST_KEYED_HISTOGRAM", "key2", "engine"),
            (2, 0, vec![], None),
        ),
        (
            ("SCALARS_TELEMETRY_TEST_SCALAR.UINT_KIND", "", "engine"),
            (2, 84, vec![(bound(42), 2)], scalar),
        ),
        (
            (
                "SCALARS_TELEMETRY_TEST_SCALAR.KEYED_UINT_KIND",
                "KEY1",
                "engine",
            ),
            (2, 42, vec![(bound(21), 2)], scalar),
        ),
        (
            (
                "SCALARS_TELEMETRY_TEST_SCALAR.KEYED_UINT_KIND",
                "KEY2",
                "engine",
            ),
            (2, 84, vec![(bound(42), 2)], scalar),
        ),
        (
            ("SCALARS_SESSIONS.COUNT", "", "application"),
            (2, 4, vec![(bound(2), 2)], scalar),
        ),
        (
            ("SCALARS_SESSIONS.TOTAL_TIME", "", "application"),
            (2, 844, vec![(bound(422), 2)], scalar),
        ),
    ]);
    assert_eq!(got, expected);
}

fn generated(n: u64, seed: u64) -> Vec<String> {
    let mut g = MobileGenerator::new(GenerateOptions {
        seed,
        submission_date: Some(DATE.parse().unwrap()),
        ..GenerateOptions::default()
    })
    .unwrap();
    (0..n).map(|_| g.ping()).collect()
}

/// The rows the pings should make without definitions, derived from their JSON: (version,
/// build id, metric, key, process) → (count, sum, buckets).
#[allow(clippy::type_complexity)]
fn expected_sparse(
    pings: &[String],
) -> BTreeMap<(String, String, String, String, String, String), (u64, u64, BTreeMap<u64, u64>)> {
    let scalar = BucketLayout::new(LayoutSpec::scalar());
    let mut out: BTreeMap<_, (u64, u64, BTreeMap<u64, u64>)> = BTreeMap::new();
    for p in pings {
        let v: Value = serde_json::from_str(p).unwrap();
        let meta = &v["meta"];
        let os_version = match &v["osversion"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut add = |metric: String, key: String, process: &str, sum: u64, b: Vec<(u64, u64)>| {
            let k = (
                format!(
                    "{}/{}",
                    meta["normalizedChannel"].as_str().unwrap(),
                    meta["appVersion"].as_str().unwrap()
                ),
                format!("{}/{}", meta["appBuildId"], os_version),
                metric,
                key,
                process.to_string(),
                v["arch"].as_str().unwrap().to_string(),
            );
            let row = out.entry(k).or_default();
            row.0 += 1;
            row.1 += sum;
            for (bound, n) in b {
                if n > 0 {
                    *row.2.entry(bound).or_default() += n;
                }
            }
        };
        let histogram = |h: &Value| {
            let buckets = h["values"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, n)| (k.parse::<u64>().unwrap(), n.as_u64().unwrap()))
                .collect::<Vec<_>>();
            (h["sum"].as_u64().unwrap(), buckets)
        };
        let scalar_value = |x: &Value| {
            x.as_u64()
                .unwrap_or(u64::from(x.as_bool().unwrap_or(false)))
        };
        for (process, sections) in v["metrics"].as_object().unwrap() {
            for (name, h) in sections["histograms"].as_object().unwrap() {
                let (sum, b) = histogram(h);
                add(name.clone(), String::new(), process, sum, b);
            }
            for (name, keys) in sections["keyedHistograms"].as_object().unwrap() {
                for (key, h) in keys.as_object().unwrap() {
                    let (sum, b) = histogram(h);
                    add(name.clone(), key.clone(), process, sum, b);
                }
            }
            let scalar_row = |x: &Value| {
                let x = scalar_value(x);
                (
                    x,
                    vec![(scalar.bounds()[bucket_index(scalar.bounds(), x)], 1)],
                )
            };
            for (name, x) in sections["scalars"].as_object().unwrap() {
                let (sum, b) = scalar_row(x);
                add(
                    format!("SCALARS_{}", name.to_uppercase()),
                    String::new(),
                    process,
                    sum,
                    b,
                );
            }
            for (name, keys) in sections["keyedScalars"].as_object().unwrap() {
                for (key, x) in keys.as_object().unwrap() {
                    let (sum, b) = scalar_row(x);
                    add(
                        format!("SCALARS_{}", name.to_uppercase()),
                        key.to_uppercase(),
                        process,
                        sum,
                        b,
                    );
                }
            }
        }
    }
    out
}

#[test]
fn generated_pings_of_every_kind_aggregate_without_rejects_into_the_rows_they_hold() {
    let pings = generated(300, 11);
    let a = aggregate(&pings, options());
    let report = a.report();
    assert_eq!(report.pings_used, 300, "{:?}", report.pings_rejected);
    assert_eq!(
        report.histograms_rejected_total(),
        0,
        "{:?}",
        report.histograms_rejected
    );
    assert_eq!(
        report.scalars_rejected_total(),
        0,
        "{:?}",
        report.scalars_rejected
    );
    assert_eq!((report.bad_keys, report.unplaced_total()), (0, 0));
    let got: Vec<_> = rows(&a)
        .into_iter()
        .map(|((channel, version, k), h)| {
            let key = (
                format!("{channel}/{version}"),
                format!("\"{}\"/{}", k.build_id, k.os_version),
                k.metric,
                k.key,
                k.process,
                k.architecture,
            );
            (key, (h.count(), h.sum(), h.buckets().clone()))
        })
        .collect();
    // The oracle keys rows without the application: sum the stored rows over it.
    let mut summed: BTreeMap<_, (u64, u64, BTreeMap<u64, u64>)> = BTreeMap::new();
    for (k, (c, s, b)) in got {
        let row = summed.entry(k).or_default();
        row.0 += c;
        row.1 += s;
        for (bound, n) in b {
            *row.2.entry(bound).or_default() += n;
        }
    }
    let expected = expected_sparse(&pings);
    let missing = expected.iter().find(|(k, v)| summed.get(*k) != Some(*v));
    assert_eq!(
        missing.map(|(k, _)| (k, summed.get(k))),
        None,
        "{missing:?}"
    );
    assert_eq!(summed.len(), expected.len());
    // Every kind of measurement is there, in several processes.
    let metrics: std::collections::BTreeSet<&str> = expected.keys().map(|k| k.2.as_str()).collect();
    for m in [
        "GC_MS",
        "TELEMETRY_TEST_KEYED_COUNT",
        "SCALARS_SESSIONS.COUNT",
        "SCALARS_MEDIA.PAGE_COUNT",
    ] {
        assert!(metrics.contains(m), "{m} missing");
    }
    let processes: std::collections::BTreeSet<&str> =
        expected.keys().map(|k| k.4.as_str()).collect();
    assert!(processes.len() >= 3, "{processes:?}");
}

#[test]
fn split_input_merges_to_the_same_rows_and_survives_the_byte_form() {
    let pings = generated(120, 5);
    let whole = aggregate(&pings, options());
    let mut parts: Vec<Aggregates> = pings.chunks(37).map(|c| aggregate(c, options())).collect();
    let last = parts.pop().unwrap();
    let mut one_by_one = Aggregates::from_bytes(&parts[0].to_bytes()).unwrap();
    for p in &parts[1..] {
        one_by_one.merge(Aggregates::from_bytes(&p.to_bytes()).unwrap());
    }
    one_by_one.merge(last.clone());
    parts.push(last);
    let all = Aggregates::merge_all(parts);
    assert_eq!(rows(&one_by_one), rows(&whole));
    assert_eq!(rows(&all), rows(&whole));
    assert_eq!(one_by_one.report().pings_used, 120);
    assert_eq!(all.report().pings_used, 120);
    // The parallel job (2 workers) agrees too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pings.ndjson");
    std::fs::write(&path, pings.join("\n")).unwrap();
    let ingested = ingest(
        &[Input::file(&path)],
        &Aggregator::new(options()),
        &IngestOptions {
            threads: 2,
            ..IngestOptions::default()
        },
        None,
    )
    .unwrap();
    assert_eq!(rows(&ingested), rows(&whole));
}

#[test]
fn definitions_lay_defined_histograms_out_and_count_histograms_become_count_series() {
    let Some(path) = mozaggregator_core::testing::shared_file("definitions/Histograms-2017.json")
    else {
        return;
    };
    let definitions = Definitions::load(Some(&path), &[] as &[&std::path::Path]).unwrap();
    let pings = generated(100, 2);
    let a = aggregate(
        &pings,
        Options {
            definitions: std::sync::Arc::new(definitions),
            ..options()
        },
    );
    assert_eq!(a.report().pings_used, 100);
    assert_eq!(
        a.report().unplaced_total(),
        0,
        "values sit on the definitions' bounds"
    );
    let rows = rows(&a);
    let layout_of = |metric: &str| {
        rows.iter()
            .find(|((_, _, k), _)| k.metric == metric)
            .map(|(_, h)| h.layout())
    };
    assert_eq!(
        layout_of("GC_MS"),
        Some(Some(LayoutSpec::exponential(1, 10_000, 50).unwrap()))
    );
    assert_eq!(
        layout_of("GECKOVIEW_PAGE_LOAD_MS"),
        Some(None),
        "undefined: sparse"
    );
    assert_eq!(
        layout_of("TELEMETRY_TEST_COUNT"),
        None,
        "a count histogram is renamed"
    );
    assert_eq!(
        layout_of("[[COUNT]]_TELEMETRY_TEST_COUNT"),
        Some(Some(LayoutSpec::scalar()))
    );
    assert!(rows.iter().any(
        |((_, _, k), _)| k.metric == "[[COUNT]]_TELEMETRY_TEST_KEYED_COUNT" && !k.key.is_empty()
    ));
}

/// A valid mobile ping with `edit` applied to its JSON.
fn ping_with(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = json!({
        "meta": {"submissionDate": DATE, "normalizedChannel": "beta", "appVersion": "68.0",
                 "appBuildId": "b1", "appName": "Focus"},
        "arch": "arm64-v8a", "os": "Android", "osversion": "28",
        "metrics": {"engine": {"histograms": {"H": {"sum": 3, "values": {"3": 1}}},
                                "scalars": {"s.x": 1}}}
    });
    edit(&mut v);
    v.to_string()
}

#[test]
fn bad_pings_and_bad_measurements_are_counted_by_reason() {
    let cases: Vec<(&str, String)> = vec![
        ("invalid_json", "{]".to_string()),
        ("not_a_ping_object", "[1]".to_string()),
        ("invalid_meta", ping_with(|v| v["meta"] = json!(3))),
        (
            "missing_channel",
            ping_with(|v| v["meta"]["normalizedChannel"] = Value::Null),
        ),
        (
            "unknown_channel",
            ping_with(|v| v["meta"]["normalizedChannel"] = json!("esr")),
        ),
        (
            "missing_version",
            ping_with(|v| {
                v["meta"].as_object_mut().unwrap().remove("appVersion");
            }),
        ),
        (
            "invalid_version",
            ping_with(|v| v["meta"]["appVersion"] = json!(68)),
        ),
        (
            "missing_build_id",
            ping_with(|v| {
                v["meta"].as_object_mut().unwrap().remove("appBuildId");
            }),
        ),
        (
            "missing_application",
            ping_with(|v| {
                v["meta"].as_object_mut().unwrap().remove("appName");
            }),
        ),
        (
            "missing_architecture",
            ping_with(|v| {
                v.as_object_mut().unwrap().remove("arch");
            }),
        ),
        ("invalid_os", ping_with(|v| v["os"] = json!(["Android"]))),
        (
            "invalid_os_version",
            ping_with(|v| v["osversion"] = json!(27.5)),
        ),
        (
            "invalid_submission_date",
            ping_with(|v| v["meta"]["submissionDate"] = json!("2024-01-02")),
        ),
        (
            "missing_submission_date",
            ping_with(|v| {
                v["meta"].as_object_mut().unwrap().remove("submissionDate");
            }),
        ),
        ("invalid_metrics", ping_with(|v| v["metrics"] = json!([]))),
    ];
    let pings: Vec<String> = cases.iter().map(|(_, p)| p.clone()).collect();
    let a = aggregate(&pings, options());
    let r = a.report();
    assert_eq!(r.pings_used, 0);
    for (reason, _) in &cases {
        assert_eq!(
            r.pings_rejected.get(reason),
            Some(&1),
            "{reason}: {:?}",
            r.pings_rejected
        );
    }
    assert!(a.mobile().is_empty());

    // Measurements: the ping is used, the bad measurement is counted and left out.
    let measurements = vec![
        (
            "histograms",
            "sum_not_integer",
            ping_with(|v| v["metrics"]["engine"]["histograms"]["H"]["sum"] = json!("3")),
        ),
        (
            "histograms",
            "negative_sum",
            ping_with(|v| v["metrics"]["engine"]["histograms"]["H"]["sum"] = json!(-3)),
        ),
        (
            "histograms",
            "values_not_an_object",
            ping_with(|v| v["metrics"]["engine"]["histograms"]["H"]["values"] = json!([1])),
        ),
        (
            "histograms",
            "negative_count",
            ping_with(|v| v["metrics"]["engine"]["histograms"]["H"]["values"]["3"] = json!(-1)),
        ),
        (
            "histograms",
            "not_an_object",
            ping_with(|v| v["metrics"]["engine"]["histograms"]["H"] = json!(1)),
        ),
        (
            "histograms",
            "section_not_an_object",
            ping_with(|v| v["metrics"]["engine"]["histograms"] = json!(1)),
        ),
        (
            "histograms",
            "section_not_an_object",
            ping_with(|v| v["metrics"]["engine"] = json!("x")),
        ),
        (
            "scalars",
            "negative",
            ping_with(|v| v["metrics"]["engine"]["scalars"]["s.x"] = json!(-1)),
        ),
        (
            "scalars",
            "not_numeric",
            ping_with(|v| v["metrics"]["engine"]["scalars"]["s.x"] = json!("x")),
        ),
        (
            "scalars",
            "section_not_an_object",
            ping_with(|v| v["metrics"]["engine"]["scalars"] = json!(1)),
        ),
        (
            "scalars",
            "not_an_object",
            ping_with(|v| v["metrics"]["engine"]["keyedScalars"] = json!({"k.s": 1})),
        ),
        (
            "scalars",
            "ignored_by_name",
            ping_with(|v| {
                v["metrics"]["engine"]["scalars"]["browser.engagement.navigation.urlbar"] = json!(1)
            }),
        ),
    ];
    for (section, reason, ping) in measurements {
        let a = aggregate(&[ping], options());
        let r = a.report();
        assert_eq!(r.pings_used, 1, "{reason}");
        let n = if section == "histograms" {
            r.histograms_rejected.get(reason).copied()
        } else {
            r.scalars_rejected.get(reason).copied()
        };
        assert_eq!(n, Some(1), "{reason}: {r:?}");
    }
    // Keys that are not integers are counted, their samples unplaced; the rest is kept.
    let a = aggregate(
        &[ping_with(|v| {
            v["metrics"]["engine"]["histograms"]["H"]["values"] = json!({"x": 2, "-1": 1, "4": 5})
        })],
        options(),
    );
    assert_eq!((a.report().bad_keys, a.report().unplaced_total()), (2, 3));
    let rows = rows(&a);
    let h = rows
        .iter()
        .find(|((_, _, k), _)| k.metric == "H")
        .unwrap()
        .1;
    assert_eq!(h.buckets().iter().collect::<Vec<_>>(), [(&4, &5)]);
}

#[test]
fn mobile_options_that_cannot_work_are_refused() {
    let with_groups = Options {
        replicates: Some(mozaggregator_core::ReplicateCount::new(10).unwrap()),
        ..options()
    };
    let err = with_groups.validate().unwrap_err().to_string();
    assert!(err.contains("mobile_metrics"), "{err}");
    // The channel and version selections apply (the version by its major part).
    let pings = generated(60, 9);
    let a = aggregate(
        &pings,
        Options {
            channels: vec!["beta".into()],
            versions: Some(vec!["68".into()]),
            ..options()
        },
    );
    let r = a.report();
    assert!(r
        .pings_rejected
        .get("channel_not_selected")
        .is_some_and(|n| *n > 0));
    assert_eq!(r.pings_used + r.pings_rejected_total(), 60);
    assert!(rows(&a).keys().all(|(_, v, _)| v.starts_with("68.")));
}

#[test]
fn the_export_lists_mobile_rows_with_their_build_id_and_only_when_asked() {
    let pings = generated(20, 4);
    let mut a = aggregate(&pings, options());
    let store = MemoryStore::new();
    let written = a.write_to(&store, |_| {}).unwrap();
    assert!(written.rows_written > 0);
    assert_eq!(written.rows_written, a.report().series_written);
    // Idempotent per submission date: the same write again changes nothing.
    let version = store.data_version().unwrap();
    let again = aggregate(&pings, options())
        .write_to(&store, |_| {})
        .unwrap();
    assert_eq!(again.targets_written, 0);
    assert!(!again.targets_skipped.is_empty());
    assert_eq!(store.data_version().unwrap(), version);
    let mut desktop = Vec::new();
    let ndjson = ExportOptions {
        format: Format::Ndjson,
        with_absorbed: false,
    };
    export(
        &store,
        &Selection::default(),
        &Definitions::new(),
        &ndjson,
        &mut desktop,
    )
    .unwrap();
    assert!(desktop.is_empty(), "a desktop export has no mobile row");
    let mobile = Selection::of_doc_type(DocType::MobileMetrics, None, None, None).unwrap();
    let mut out = Vec::new();
    export(&store, &mobile, &Definitions::new(), &ndjson, &mut out).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, written.rows_written);
    let first = &lines[0];
    assert_eq!(first["prefix"], "mobile_metrics");
    assert_eq!(first["date"], DATE);
    assert!(first["build_id"].as_str().unwrap().ends_with("-GeckoView"));
    let total: u64 = lines.iter().map(|l| l["count"].as_u64().unwrap()).sum();
    let samples: u64 = lines
        .iter()
        .flat_map(|l| {
            l["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_u64().unwrap())
        })
        .sum();
    assert!(total > 0 && samples > 0);
    let mut csv = Vec::new();
    let csv_options = ExportOptions {
        format: Format::Csv,
        with_absorbed: false,
    };
    export(&store, &mobile, &Definitions::new(), &csv_options, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.starts_with("prefix,channel,version,date,build_id,metric,"));
    assert_eq!(csv.lines().count(), lines.len() + 1);
}

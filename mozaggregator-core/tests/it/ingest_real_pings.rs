//! Real Firefox pings (../shared/data/pings, when present) aggregate, or are rejected, as the
//! data README says. The expected series are derived independently, from `serde_json::Value`.

use std::collections::BTreeMap;

use mozaggregator_core::{
    Aggregates, Aggregator, BucketLayout, Histogram, LayoutSpec, Options, Prefix, Process,
};
use serde_json::{json, Value};

fn data(name: &str) -> Option<Vec<u8>> {
    let path = mozaggregator_core::testing::shared_file(&format!("pings/{name}"))?;
    Some(std::fs::read(&path).unwrap())
}

fn options(date: &str) -> Options {
    Options {
        submission_date: Some(date.parse().unwrap()),
        ..Options::default()
    }
}

fn aggregate_one(json: &[u8], options: Options) -> Aggregates {
    let mut out = Aggregates::new();
    Aggregator::new(options).add_json(&mut out, json);
    out
}

/// Build-id series of the aggregate: (metric, label, process) → histogram.
fn series(a: &Aggregates) -> BTreeMap<(String, String, Process), Histogram> {
    let mut out = BTreeMap::new();
    for batch in a.batches().unwrap() {
        for (target, rows) in &batch.tables {
            if target.prefix != Prefix::BuildId {
                continue;
            }
            for (key, h) in rows {
                let k = (key.metric.clone(), key.label.clone(), key.process);
                assert!(out.insert(k, h.clone()).is_none());
            }
        }
    }
    out
}

/// (metric, label, process) → (count, sum) of every histogram the rules of docs/ingest.md ("What is extracted") read,
/// computed from the generic JSON tree. Real pings hold only valid histograms.
fn expected_histograms(ping: &Value) -> BTreeMap<(String, String, Process), (u64, u64)> {
    let mut out = BTreeMap::new();
    let mut add = |name: &str, label: &str, process: Process, h: &Value| {
        let sum = h["sum"].as_u64().expect("integer sum");
        let metric = if h["histogram_type"] == 4 {
            format!("[[COUNT]]_{name}")
        } else {
            name.to_string()
        };
        let e = out
            .entry((metric, label.to_string(), process))
            .or_insert((0, 0));
        e.0 += 1;
        e.1 += sum;
    };
    let mut section = |plain: &Value, keyed: &Value, process: Process| {
        for (name, h) in plain.as_object().into_iter().flatten() {
            add(name, "", process, h);
        }
        for (name, by_key) in keyed.as_object().into_iter().flatten() {
            if name == "MESSAGE_MANAGER_MESSAGE_SIZE"
                || name == "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION"
            {
                continue;
            }
            for (key, h) in by_key.as_object().unwrap() {
                add(name, key, process, h);
            }
        }
    };
    let p = &ping["payload"];
    section(&p["histograms"], &p["keyedHistograms"], Process::Parent);
    for (name, process) in [("content", Process::Content), ("gpu", Process::Gpu)] {
        let d = &p["processes"][name];
        section(&d["histograms"], &d["keyedHistograms"], process);
    }
    for child in p["childPayloads"].as_array().into_iter().flatten() {
        section(
            &child["histograms"],
            &child["keyedHistograms"],
            Process::Content,
        );
    }
    out
}

fn is_scalar_like(metric: &str) -> bool {
    metric.starts_with("SCALARS_") || metric.starts_with("SIMPLE_MEASURES_")
}

/// Checks a full ping: every histogram series has the count and sum the JSON implies, and
/// nothing else than scalars and simple measures is there.
fn check_full_ping(file: &str, date: &str) -> Option<Aggregates> {
    let bytes = data(file)?;
    let ping: Value = serde_json::from_slice(&bytes).unwrap();
    let a = aggregate_one(&bytes, options(date));
    assert_eq!(a.report().pings_used, 1, "{file}: {:?}", a.report());
    let actual = series(&a);
    let histograms: BTreeMap<_, _> = actual
        .iter()
        .filter(|(k, _)| !is_scalar_like(&k.0))
        .map(|(k, h)| (k.clone(), (h.count(), h.sum())))
        .collect();
    assert_eq!(histograms, expected_histograms(&ping), "{file}");
    assert!(a.report().histograms_rejected.is_empty(), "{file}");
    // Samples are placed or counted, never lost.
    let placed: u64 = actual
        .iter()
        .filter(|(k, _)| !is_scalar_like(&k.0) && !k.0.starts_with("[[COUNT]]_"))
        .map(|(_, h)| h.samples())
        .sum();
    let in_json: u64 = expected_sample_total(&ping);
    assert_eq!(placed + a.report().unplaced_total(), in_json, "{file}");
    Some(a)
}

fn expected_sample_total(ping: &Value) -> u64 {
    let mut total = 0;
    let mut visit = |h: &Value| {
        if h["histogram_type"] != 4 {
            total += h["values"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum::<u64>();
        }
    };
    let p = &ping["payload"];
    let mut sections = vec![(&p["histograms"], &p["keyedHistograms"])];
    for name in ["content", "gpu"] {
        let d = &p["processes"][name];
        sections.push((&d["histograms"], &d["keyedHistograms"]));
    }
    for child in p["childPayloads"].as_array().into_iter().flatten() {
        sections.push((&child["histograms"], &child["keyedHistograms"]));
    }
    for (plain, keyed) in sections {
        plain
            .as_object()
            .into_iter()
            .flatten()
            .for_each(|(_, h)| visit(h));
        for (name, by_key) in keyed.as_object().into_iter().flatten() {
            if name != "MESSAGE_MANAGER_MESSAGE_SIZE"
                && name != "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION"
            {
                by_key.as_object().unwrap().values().for_each(&mut visit);
            }
        }
    }
    total
}

fn get<'a>(
    s: &'a BTreeMap<(String, String, Process), Histogram>,
    metric: &str,
    label: &str,
    process: Process,
) -> &'a Histogram {
    s.get(&(metric.to_string(), label.to_string(), process))
        .unwrap_or_else(|| panic!("{metric}/{label}/{process} missing"))
}

#[test]
fn firefox_45_sample_ping_aggregates() {
    let Some(a) = check_full_ping("main.4.sample.pass.json", "20151105") else {
        return;
    };
    let batch = &a.batches().unwrap()[0];
    assert_eq!(batch.submission_date.to_string(), "20151105");
    let (target, rows) = batch.tables.iter().next().unwrap();
    assert_eq!(
        (
            target.channel.as_str(),
            target.version.as_str(),
            target.date.to_string().as_str()
        ),
        ("beta", "45", "20151103")
    );
    let dims = &rows[0].0.dims;
    assert_eq!(
        (dims.application.as_str(), dims.architecture.as_str()),
        ("Firefox", "x86-64")
    );
    assert_eq!(
        (dims.os.as_str(), dims.os_version.as_str()),
        ("Darwin", "14.5.0")
    );

    let s = series(&a);
    // Scalars: numbers and booleans, names and keys uppercased; the string scalar is skipped.
    let h = get(
        &s,
        "SCALARS_TELEMETRY.TEST.UNSIGNED_INT_KIND",
        "",
        Process::Parent,
    );
    assert_eq!((h.count(), h.sum()), (1, 2));
    let h = get(
        &s,
        "SCALARS_TELEMETRY.TEST.BOOLEAN_KIND",
        "",
        Process::Parent,
    );
    assert_eq!((h.count(), h.sum()), (1, 1));
    let h = get(
        &s,
        "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
        "SOME_KEY",
        Process::Parent,
    );
    assert_eq!((h.count(), h.sum(), h.counts()[28]), (1, 37, 0));
    assert_eq!(h.counts()[27], 1, "37 is label 37, index 27");
    let h = get(
        &s,
        "SCALARS_TELEMETRY.TEST.KEYED_BOOLEAN_KIND",
        "KEY1",
        Process::Parent,
    );
    assert_eq!((h.count(), h.sum(), h.counts()[0]), (1, 0, 1));
    assert!(!s.contains_key(&(
        "SCALARS_TELEMETRY.TEST.STRING_KIND".to_string(),
        String::new(),
        Process::Parent
    )));
    assert!(a.report().scalars_rejected["not_numeric"] > 0);
    // Simple measures: top level, one level deep, booleans as 0/1; parent and the child payload.
    let h = get(&s, "SIMPLE_MEASURES_UPTIME", "", Process::Parent);
    assert_eq!((h.count(), h.sum()), (1, 1318));
    let h = get(
        &s,
        "SIMPLE_MEASURES_ADDONMANAGER_XPIDB_PARSEDB_MS",
        "",
        Process::Parent,
    );
    assert_eq!(h.sum(), 2);
    let h = get(
        &s,
        "SIMPLE_MEASURES_ADDONMANAGER_DEFAULT_PROVIDERS",
        "",
        Process::Parent,
    );
    assert_eq!(h.sum(), 1);
    let h = get(&s, "SIMPLE_MEASURES_JS_CUSTOMITER", "", Process::Parent);
    assert_eq!(h.sum(), 23);
    assert!(s
        .keys()
        .any(|k| k.0.starts_with("SIMPLE_MEASURES_") && k.2 == Process::Content));
    assert!(!s
        .keys()
        .any(|k| k.0.starts_with("SIMPLE_MEASURES_UITELEMETRY_TOOLBARS_")));
    // A count histogram becomes a scalar-like series of its sum.
    assert!(s.keys().any(|k| k.0.starts_with("[[COUNT]]_")));

    // Without a submission date from the caller, a ping without `meta` cannot be placed.
    let bytes = data("main.4.sample.pass.json").unwrap();
    let a = aggregate_one(&bytes, Options::default());
    assert_eq!(a.report().pings_rejected["missing_submission_date"], 1);
}

#[test]
fn other_full_pings_aggregate() {
    for file in [
        "main.4.profile.pass.json",
        "main.4.latewrites.pass.json",
        "main.4.gc_sample_2.pass.json",
    ] {
        check_full_ping(file, "20180301");
    }
}

#[test]
fn extension_and_dynamic_processes_are_ignored() {
    let Some(a) = check_full_ping("main.4.gc_sample.pass.json", "20180301") else {
        return;
    };
    let bytes = data("main.4.gc_sample.pass.json").unwrap();
    let ping: Value = serde_json::from_slice(&bytes).unwrap();
    let s = series(&a);
    let extension_only: Vec<&String> = ping["payload"]["processes"]["extension"]["histograms"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| {
            ping["payload"]["histograms"].get(name.as_str()).is_none()
                && ping["payload"]["processes"]["content"]["histograms"]
                    .get(name.as_str())
                    .is_none()
        })
        .collect();
    assert!(!extension_only.is_empty());
    for name in extension_only {
        assert!(
            !s.keys().any(|k| &k.0 == name),
            "{name} comes from extension only"
        );
    }
    // browser.engagement.navigation.* keyed scalars are skipped by name.
    assert!(!s
        .keys()
        .any(|k| k.0.starts_with("SCALARS_BROWSER.ENGAGEMENT.NAVIGATION")));
    assert_eq!(a.report().scalars_rejected["ignored_by_name"], 1);
    let h = get(
        &s,
        "SCALARS_GFX.OMTP.PAINT_WAIT_RATIO",
        "",
        Process::Content,
    );
    assert_eq!(h.sum(), 200);
    let h = get(
        &s,
        "MEMORY_DISTRIBUTION_AMONG_CONTENT",
        "more tabs",
        Process::Parent,
    );
    assert_eq!((h.count(), h.sum()), (1, 39134));
}

/// The small pings have no `environment`: as they are, they lack the os dimension and are
/// rejected for it; with an os added, their histograms follow the README.
fn small_ping(file: &str) -> Option<(Aggregates, Aggregates)> {
    let bytes = data(file)?;
    let raw = aggregate_one(&bytes, options("20151105"));
    assert_eq!(raw.report().pings_rejected["missing_os"], 1, "{file}");
    let mut ping: Value = serde_json::from_slice(&bytes).unwrap();
    ping["environment"] = json!({"system": {"os": {"name": "Linux", "version": "4.2.0-1"}}});
    let patched = aggregate_one(ping.to_string().as_bytes(), options("20151105"));
    assert_eq!(patched.report().pings_used, 1, "{file}");
    Some((raw, patched))
}

#[test]
fn good_histogram_aggregates() {
    let Some((_, a)) = small_ping("main.4.good_histogram.pass.json") else {
        return;
    };
    let s = series(&a);
    let h = get(&s, "TEST", "", Process::Parent);
    assert_eq!(h.layout(), LayoutSpec::linear(1, 10, 11).unwrap());
    assert_eq!((h.count(), h.sum()), (1, 10));
    assert_eq!(h.counts()[1], 10);
    assert_eq!(h.samples(), 10);
    assert_eq!(
        a.batches().unwrap()[0].tables.keys().next().unwrap().date,
        "20151103".parse().unwrap()
    );
    let batches = a.batches().unwrap();
    let dims = &batches[0].tables.values().next().unwrap()[0].0.dims;
    assert_eq!(
        dims.os_version, "4.2",
        "Linux versions keep 3 characters by default"
    );
}

#[test]
fn non_integer_keys_are_dropped_and_counted() {
    let Some((_, a)) = small_ping("main.4.histogram.fail.json") else {
        return;
    };
    let s = series(&a);
    let h = get(&s, "INVALID_BUCKET_TYPE", "", Process::Parent);
    assert_eq!((h.count(), h.sum(), h.samples()), (1, 0, 0));
    assert_eq!(a.report().bad_keys, 2);
    assert_eq!(a.report().unplaced_samples["INVALID_BUCKET_TYPE"], 1);
}

#[test]
fn a_negative_count_rejects_that_histogram_only() {
    let Some(bytes) = data("main.4.negative_count.fail.json") else {
        return;
    };
    assert!(small_ping("main.4.negative_count.fail.json").is_some());
    // Add a valid histogram next to the negative one: it aggregates.
    let mut ping: Value = serde_json::from_slice(&bytes).unwrap();
    ping["environment"] = json!({"system": {"os": {"name": "Windows_NT", "version": "10.0"}}});
    ping["payload"]["histograms"]["GOOD"] = json!({"histogram_type": 2, "range": [1, 2],
        "bucket_count": 3, "sum": 1, "values": {"0": 0, "1": 1, "2": 0}});
    let a = aggregate_one(ping.to_string().as_bytes(), options("20151105"));
    assert_eq!(a.report().histograms_rejected["negative_count"], 1);
    let s = series(&a);
    assert!(!s.keys().any(|k| k.0 == "NEGATIVE_COUNT"));
    assert_eq!(get(&s, "GOOD", "", Process::Parent).counts(), &[0, 1, 0]);
}

#[test]
fn a_minimal_ping_has_no_series() {
    let Some((_, a)) = small_ping("main.4.min.pass.json") else {
        return;
    };
    assert!(a.is_empty());
    assert_eq!(a.series_len(), 0);
    assert_eq!(
        a.len(),
        1,
        "the ping is used: its aggregate key exists, empty"
    );
}

#[test]
fn a_mobile_ping_is_rejected_cleanly() {
    let Some(bytes) = data("mobile-metrics.1.sample.pass.json") else {
        return;
    };
    let a = aggregate_one(&bytes, options("20180301"));
    assert_eq!(a.report().pings_rejected_total(), 1);
    assert!(a.is_empty());
}

#[test]
fn definitions_layouts_follow_the_original_rule_when_asked() {
    let Some(definitions) = crate::common::subset_definitions() else {
        return;
    };
    let def = definitions.lookup("GC_MAX_PAUSE_MS_2").unwrap();
    let gc_layout = def.layout.spec();
    let pings = mozaggregator_core::testing::dataset::pings("20240110").unwrap();
    let mut a = Aggregates::new();
    let mut aggregator = Aggregator::new(Options {
        prefer_definitions: true,
        definitions: std::sync::Arc::new(definitions),
        ..Options::default()
    });
    for p in &pings[..3] {
        aggregator.add_json(&mut a, p.as_bytes());
    }
    let s = series(&a);
    // Under the exponential definition only keys 0 and 1 of the linear data are bounds.
    let h = get(&s, "GC_MAX_PAUSE_MS_2", "", Process::Parent);
    assert_eq!(h.layout(), gc_layout);
    let layout = BucketLayout::new(gc_layout);
    assert_eq!(h.counts()[layout.exact_index(1).unwrap()], 4 * 3);
    assert_eq!(h.samples(), 4 * 3);
    assert_eq!(h.sum(), 554 * 3);
    // The other samples (22:2, 43:1, 63:1, 272:1 per histogram) are counted, per metric:
    // 10 histograms of GC_MAX_PAUSE_MS_2 over 3 pings (3 parent, 5 content, 2 gpu).
    assert_eq!(a.report().unplaced_samples["GC_MAX_PAUSE_MS_2"], 5 * 10);
}

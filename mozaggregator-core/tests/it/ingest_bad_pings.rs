//! Bad pings, histograms and scalars: each is a counted reject with its reason, never a panic,
//! and never takes the rest of the ping down with it.

use std::collections::BTreeMap;

use mozaggregator_core::tally::Tally;
use mozaggregator_core::{
    Aggregates, Aggregator, BucketLayout, Histogram, LayoutSpec, Options, Prefix, Process, Reason,
};
use serde_json::{json, Value};

fn base() -> Value {
    json!({
        "clientId": "6fd3eb50-8bec-4b9c-8778-59406171312a",
        "meta": {"submissionDate": "20240102", "sampleId": 12},
        "application": {"channel": "nightly", "version": "120.0a1", "buildId": "20240101093000",
                        "name": "Firefox", "architecture": "x86-64"},
        "environment": {"system": {"os": {"name": "Windows_NT", "version": "10.0"}}},
        "payload": {"histograms": {}, "simpleMeasurements": {"uptime": 5}}
    })
}

fn run_with(options: Options, pings: &[Value]) -> Aggregates {
    let mut aggregator = Aggregator::new(options);
    let mut out = Aggregates::new();
    for p in pings {
        aggregator.add_json(&mut out, p.to_string().as_bytes());
    }
    out
}

fn run(pings: &[Value]) -> Aggregates {
    run_with(Options::default(), pings)
}

fn with_histogram(name: &str, h: Value) -> Value {
    let mut p = base();
    p["payload"]["histograms"][name] = h;
    p
}

fn series(a: &Aggregates) -> BTreeMap<(String, String, Process), Histogram> {
    let mut out = BTreeMap::new();
    for batch in a.batches().unwrap() {
        for (target, rows) in batch.tables {
            if target.prefix == Prefix::BuildId {
                for (k, h) in rows {
                    out.insert((k.metric, k.label, k.process), h);
                }
            }
        }
    }
    out
}

fn parent<'a>(s: &'a BTreeMap<(String, String, Process), Histogram>, m: &str) -> &'a Histogram {
    &s[&(m.to_string(), String::new(), Process::Parent)]
}

fn one_reason<R: Reason>(tally: &Tally<R>) -> &'static str {
    assert_eq!(tally.len(), 1, "{tally:?}");
    tally.keys().next().unwrap().name()
}

fn linear(values: Value, sum: Value) -> Value {
    json!({"histogram_type": 1, "range": [1, 10], "bucket_count": 11, "sum": sum,
           "values": values})
}

#[test]
fn each_bad_histogram_is_rejected_with_its_reason_and_the_ping_still_counts() {
    let cases = [
        (json!(null), "not_an_object"),
        (json!([1, 2]), "not_an_object"),
        (json!("x"), "not_an_object"),
        (linear(json!([1]), json!(1)), "values_not_an_object"),
        (
            json!({"histogram_type": 1, "sum": 1}),
            "values_not_an_object",
        ),
        (linear(json!({"1": 1}), json!(9362.0)), "sum_not_integer"),
        (linear(json!({"1": 1}), json!("12")), "sum_not_integer"),
        (
            json!({"histogram_type": 1, "values": {}}),
            "sum_not_integer",
        ),
        (linear(json!({"1": 1}), json!(-3)), "negative_sum"),
        (
            json!({"histogram_type": "1", "sum": 1, "values": {"1": 1}}),
            "type_not_integer",
        ),
        (
            json!({"histogram_type": 1.0, "sum": 1, "values": {"1": 1}}),
            "type_not_integer",
        ),
        (json!({"sum": 1, "values": {"1": 1}}), "type_not_integer"),
        (linear(json!({"1": 4, "2": -1}), json!(5)), "negative_count"),
        (linear(json!({"1": -0.5}), json!(5)), "negative_count"),
        (
            json!({"histogram_type": 0, "range": [0, 100], "bucket_count": 10, "sum": 1,
                   "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 0, "range": [1, 100], "bucket_count": 2, "sum": 1,
                   "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 1, "range": [10, 1], "bucket_count": 5, "sum": 1,
                   "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 1, "range": "1-10", "bucket_count": 5, "sum": 1,
                   "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 1, "range": [1, 10], "sum": 1, "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 9, "range": [1, 10], "bucket_count": 5, "sum": 1,
                   "values": {}}),
            "invalid_layout",
        ),
        (
            json!({"histogram_type": 0, "range": [1, 100], "bucket_count": 1_000_000,
                   "sum": 1, "values": {}}),
            "invalid_layout",
        ),
    ];
    for (h, reason) in cases {
        let a = run(&[with_histogram("BAD", h.clone())]);
        let r = a.report();
        assert_eq!(r.pings_used, 1, "{h}");
        assert_eq!(one_reason(&r.histograms_rejected), reason, "{h}");
        let s = series(&a);
        assert!(!s.keys().any(|k| k.0 == "BAD"), "{h}");
        // The rest of the ping aggregates.
        assert_eq!(parent(&s, "SIMPLE_MEASURES_UPTIME").sum(), 5, "{h}");
    }
}

#[test]
fn numbers_beyond_64_bits_are_rejected_not_wrapped() {
    let big = "18446744073709551616"; // 2^64
    for (h, reason) in [
        (
            format!(r#"{{"histogram_type":1,"range":[1,10],"bucket_count":11,"sum":{big},"values":{{}}}}"#),
            "number_out_of_range",
        ),
        (
            format!(r#"{{"histogram_type":1,"range":[1,10],"bucket_count":11,"sum":1,"values":{{"1":{big}}}}}"#),
            "number_out_of_range",
        ),
        (
            r#"{"histogram_type":1,"range":[1,10],"bucket_count":11,"sum":1,"values":{"1":18446744073709551615,"2":1}}"#.to_string(),
            "overflow",
        ),
    ] {
        let mut p = base().to_string();
        p = p.replacen(r#""histograms":{}"#, &format!(r#""histograms":{{"BIG":{h}}}"#), 1);
        let mut out = Aggregates::new();
        Aggregator::new(Options::default()).add_json(&mut out, p.as_bytes());
        assert_eq!(out.report().pings_used, 1, "{h}");
        assert_eq!(one_reason(&out.report().histograms_rejected), reason, "{h}");
    }
    // Across pings: a series that would overflow keeps its value; the addition is rejected.
    let h = r#"{"histogram_type":1,"range":[1,10],"bucket_count":11,"sum":1,"values":{"1":18446744073709551615}}"#;
    let p = base().to_string().replacen(
        r#""histograms":{}"#,
        &format!(r#""histograms":{{"BIG":{h}}}"#),
        1,
    );
    let mut out = Aggregates::new();
    let mut aggregator = Aggregator::new(Options::default());
    aggregator.add_json(&mut out, p.as_bytes());
    aggregator.add_json(&mut out, p.as_bytes());
    assert_eq!(out.report().histograms_rejected["overflow"], 1);
    let s = series(&out);
    assert_eq!(parent(&s, "BIG").count(), 1);
    assert_eq!(parent(&s, "BIG").counts()[1], u64::MAX);
}

#[test]
fn keys_are_completed_against_the_pings_own_layout() {
    let h = linear(
        json!({"0": 1, "1": 2, "01": 3, "0002": 4, "4": 5, "x": 6, "-1": 7, "1.0": 8,
               "3": 9, "7": "9", "8": 2.5, "9": true}),
        json!(100),
    );
    let a = run(&[with_histogram("H", h)]);
    let s = series(&a);
    let h = parent(&s, "H");
    // linear(1, 10, 11) bounds: 0, 1, 2, …, 10 (all integers up to 10).
    assert_eq!(h.layout(), LayoutSpec::linear(1, 10, 11).unwrap());
    let layout = BucketLayout::new(h.layout());
    assert_eq!(h.counts()[0], 1);
    assert_eq!(h.counts()[1], 2 + 3, "\"1\" and \"01\" are the same bucket");
    assert_eq!(h.counts()[2], 4);
    assert_eq!(h.counts()[layout.exact_index(3).unwrap()], 9);
    assert_eq!(
        h.counts()[layout.exact_index(7).unwrap()],
        0,
        "a string count is 0"
    );
    assert_eq!((h.count(), h.sum()), (1, 100));
    let r = a.report();
    assert_eq!(r.bad_keys, 2, "\"x\" and \"1.0\" are not integers");
    assert_eq!(r.non_integer_counts, 3, "\"9\", 2.5 and true count as 0");
    // Samples not placed: x (6), -1 (7), 1.0 (8).
    assert_eq!(r.unplaced_samples["H"], 6 + 7 + 8);

    // Keys that are integers but not bounds of an exponential layout are counted per metric.
    let h = json!({"histogram_type": 0, "range": [1, 10000], "bucket_count": 50, "sum": 7,
                   "values": {"0": 1, "10": 2, "11": 3, "10000": 4}});
    let a = run(&[with_histogram("E", h)]);
    let s = series(&a);
    let e = parent(&s, "E");
    let layout = BucketLayout::new(e.layout());
    assert_eq!(e.counts()[layout.exact_index(10).unwrap()], 2);
    assert_eq!(e.counts()[49], 4);
    assert_eq!(a.report().unplaced_samples["E"], 3);
}

#[test]
fn count_histograms_are_scalar_like_series_of_their_sum() {
    let mut p = base();
    p["payload"]["histograms"]["C"] = json!({"histogram_type": 4, "range": [1, 2],
        "bucket_count": 3, "sum": 42, "values": {"0": 42, "1": 0}});
    p["payload"]["keyedHistograms"] = json!({"K": {"a": {"histogram_type": 4, "sum": 3,
        "values": {"0": 3}}}, "MESSAGE_MANAGER_MESSAGE_SIZE": {"x": {"histogram_type": 4,
        "sum": 3, "values": {}}}});
    let a = run(&[p.clone(), p]);
    let s = series(&a);
    let c = parent(&s, "[[COUNT]]_C");
    assert_eq!(c.layout(), LayoutSpec::scalar());
    assert_eq!((c.count(), c.sum(), c.counts()[28]), (2, 84, 2));
    let k = &s[&("[[COUNT]]_K".to_string(), "a".to_string(), Process::Parent)];
    assert_eq!((k.count(), k.sum(), k.counts()[3]), (2, 6, 2));
    assert_eq!(a.report().histograms_rejected["ignored_by_name"], 2);
}

#[test]
fn scalar_values_are_recorded_or_counted() {
    let mut p = base();
    p["payload"]["processes"] = json!({
        "parent": {"scalars": {"a.neg": -1, "a.float": 42.9, "a.bool": true, "a.str": "x",
                               "a.null": null, "a.list": [1], "a.big": 1e30,
                               "browser.engagement.navigation.x": 3, "ok.Mixed_Case": 7},
                   "keyedScalars": {"k.s": {"low_key": 3, "neg": -2}, "k.bad": 5}},
        "content": {"scalars": {"c.x": 1}},
        "extension": {"scalars": {"e.x": 1}},
        "gpu": "not an object"
    });
    p["payload"]["simpleMeasurements"] = json!({"uptime": 5, "nested": {"a": 1, "deep": {"b": 2},
        "t": false}, "s": "str", "f": 1.5});
    let a = run(&[p]);
    let s = series(&a);
    let float = parent(&s, "SCALARS_A.FLOAT");
    assert_eq!(
        (float.sum(), float.counts()[28]),
        (42, 1),
        "floored for bucket and sum"
    );
    assert_eq!(parent(&s, "SCALARS_A.BOOL").sum(), 1);
    assert_eq!(parent(&s, "SCALARS_OK.MIXED_CASE").sum(), 7);
    let k = &s[&(
        "SCALARS_K.S".to_string(),
        "LOW_KEY".to_string(),
        Process::Parent,
    )];
    assert_eq!(k.sum(), 3);
    assert!(s.contains_key(&("SCALARS_C.X".to_string(), String::new(), Process::Content)));
    assert!(!s.keys().any(|k| k.0 == "SCALARS_E.X"));
    assert_eq!(parent(&s, "SIMPLE_MEASURES_NESTED_A").sum(), 1);
    assert_eq!(parent(&s, "SIMPLE_MEASURES_NESTED_T").count(), 1);
    assert_eq!(parent(&s, "SIMPLE_MEASURES_F").sum(), 1);
    let sm = parent(&s, "SIMPLE_MEASURES_NESTED_T");
    assert_eq!(sm.layout(), LayoutSpec::simple_measure());
    assert!(!s.keys().any(|k| k.0.contains("DEEP")));
    let expected: BTreeMap<String, u64> = [
        ("negative", 2),
        ("not_numeric", 5),
        ("out_of_range", 1),
        ("ignored_by_name", 1),
        ("not_an_object", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(a.report().scalars_rejected, expected);
    assert_eq!(a.report().histograms_rejected["section_not_an_object"], 1);
}

#[test]
fn each_unusable_ping_is_rejected_with_its_reason() {
    let set = |path: &[&str], v: Value| {
        let mut p = base();
        let mut node = &mut p;
        for k in &path[..path.len() - 1] {
            node = &mut node[*k];
        }
        node[path[path.len() - 1]] = v;
        p
    };
    let drop = |path: &[&str]| {
        let mut p = base();
        let mut node = &mut p;
        for k in &path[..path.len() - 1] {
            node = &mut node[*k];
        }
        node.as_object_mut().unwrap().remove(path[path.len() - 1]);
        p
    };
    let cases = [
        (
            set(&["meta", "sampleId"], json!(100)),
            "sample_id_out_of_range",
        ),
        (
            set(&["meta", "sampleId"], json!(100.5)),
            "sample_id_out_of_range",
        ),
        (set(&["meta", "sampleId"], json!(true)), "invalid_sample_id"),
        (set(&["meta", "sampleId"], json!("1")), "invalid_sample_id"),
        (
            set(&["meta", "submissionDate"], json!("2024-01-02")),
            "invalid_submission_date",
        ),
        (
            set(&["meta", "submissionDate"], json!(20240102)),
            "invalid_submission_date",
        ),
        (set(&["meta"], json!([])), "invalid_meta"),
        (
            set(&["application", "channel"], json!("esr")),
            "unknown_channel",
        ),
        (
            set(&["application", "channel"], json!(1)),
            "invalid_channel",
        ),
        (drop(&["application", "channel"]), "missing_channel"),
        (drop(&["application"]), "missing_channel"),
        (
            set(&["application"], json!("Firefox")),
            "invalid_application",
        ),
        (drop(&["application", "version"]), "missing_version"),
        (
            set(&["application", "version"], json!(".1")),
            "invalid_version",
        ),
        (drop(&["application", "buildId"]), "missing_build_id"),
        (
            set(&["application", "buildId"], json!("2024010")),
            "invalid_build_id",
        ),
        (
            set(&["application", "buildId"], json!("+2024010100")),
            "invalid_build_id",
        ),
        (
            set(&["application", "buildId"], json!("20241301000000")),
            "invalid_build_id",
        ),
        (
            set(&["application", "buildId"], json!("2024é1010000")),
            "invalid_build_id",
        ),
        (drop(&["application", "name"]), "missing_application"),
        (
            drop(&["application", "architecture"]),
            "missing_architecture",
        ),
        (drop(&["environment"]), "missing_os"),
        (set(&["environment", "system"], json!(null)), "missing_os"),
        (drop(&["environment", "system", "os", "name"]), "missing_os"),
        (
            set(&["environment", "system", "os", "version"], json!(10)),
            "invalid_os_version",
        ),
        (
            drop(&["environment", "system", "os", "version"]),
            "missing_os_version",
        ),
    ];
    for (p, reason) in cases {
        let a = run(std::slice::from_ref(&p));
        assert_eq!(a.report().pings_used, 0, "{p}");
        assert_eq!(one_reason(&a.report().pings_rejected), reason, "{p}");
        assert!(a.is_empty());
    }
}

#[test]
fn submission_date_channel_and_sample_id_come_from_the_caller_when_needed() {
    // Out of scope for the requested date.
    let a = run_with(
        Options {
            submission_date: Some("20240103".parse().unwrap()),
            ..Options::default()
        },
        &[base()],
    );
    assert_eq!(a.report().pings_rejected["other_submission_date"], 1);
    // No meta: the caller's date, and crc32(clientId) % 100 as the sample id.
    let mut p = base();
    p.as_object_mut().unwrap().remove("meta");
    let a = run_with(
        Options {
            submission_date: Some("20240105".parse().unwrap()),
            ..Options::default()
        },
        &[p.clone()],
    );
    assert_eq!(a.report().pings_used, 1);
    assert_eq!(
        a.submission_dates().unwrap(),
        vec!["20240105".parse().unwrap()]
    );
    let a = run(&[p.clone()]);
    assert_eq!(a.report().pings_rejected["missing_submission_date"], 1);
    p.as_object_mut().unwrap().remove("clientId");
    let a = run_with(
        Options {
            submission_date: Some("20240105".parse().unwrap()),
            ..Options::default()
        },
        &[p],
    );
    assert_eq!(a.report().pings_rejected["missing_client_id"], 1);
    // Channels selected by the caller.
    let a = run_with(
        Options {
            channels: vec!["beta".into()],
            ..Options::default()
        },
        &[base()],
    );
    assert_eq!(a.report().pings_rejected["channel_not_selected"], 1);
    // Versions selected by the caller: the major version, as stored, decides.
    let mut other = base();
    other["application"]["version"] = json!("121.0b2");
    let a = run_with(
        Options {
            versions: Some(vec!["121".into(), "122".into()]),
            ..Options::default()
        },
        &[base(), other.clone(), base()],
    );
    assert_eq!(a.report().pings_used, 1);
    assert_eq!(a.report().pings_rejected["version_not_selected"], 2);
    // Without a selection every version is used.
    assert_eq!(run(&[base(), other]).report().pings_used, 2);
}

#[test]
fn linux_versions_are_truncated_unless_asked_not_to() {
    let mut p = base();
    p["environment"]["system"]["os"] = json!({"name": "Linux", "version": "5.10.3-arch1"});
    let os_version = |full: bool| {
        let a = run_with(
            Options {
                full_os_version: full,
                ..Options::default()
            },
            &[p.clone()],
        );
        let batch = a.batches().unwrap().remove(0);
        let rows = batch.tables.into_values().next().unwrap();
        rows[0].0.dims.os_version.clone()
    };
    assert_eq!(os_version(false), "5.1");
    assert_eq!(os_version(true), "5.10.3-arch1");
    // Other systems keep their version.
    let a = run(&[base()]);
    let batch = a.batches().unwrap().remove(0);
    assert_eq!(
        batch.tables.into_values().next().unwrap()[0]
            .0
            .dims
            .os_version,
        "10.0"
    );
}

#[test]
fn documents_that_are_not_json_pings_are_rejected_with_their_reason() {
    let mut deep = String::new();
    for _ in 0..200 {
        deep.push('[');
    }
    for _ in 0..200 {
        deep.push(']');
    }
    let deep =
        base()
            .to_string()
            .replacen(r#""payload":{"#, &format!(r#""payload":{{"x":{deep},"#), 1);
    let mut not_utf8 = base().to_string().into_bytes();
    let at = not_utf8.iter().position(|&b| b == b'W').unwrap(); // inside "Windows_NT"
    not_utf8[at] = 0xff;
    let good = base().to_string();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (not_utf8, "invalid_utf8"),
        (b"{\"meta\": }".to_vec(), "invalid_json"),
        (good.as_bytes()[..good.len() / 2].to_vec(), "truncated_json"),
        (format!("{good} {good}").into_bytes(), "invalid_json"),
        (
            good.replacen("\"sampleId\":12", "\"sampleId\":1e400", 1)
                .into_bytes(),
            "number_out_of_range",
        ),
        (b"[1, 2]".to_vec(), "not_a_ping_object"),
        (b"42".to_vec(), "not_a_ping_object"),
        (b"".to_vec(), "truncated_json"),
    ];
    // Deep nesting inside parts the aggregation skips is skipped without recursion (serde_json
    // ignores values iteratively): no stack overflow, no failure, the ping counts.
    let mut out = Aggregates::new();
    Aggregator::new(Options::default()).add_json(&mut out, deep.as_bytes());
    assert_eq!(out.report().pings_used, 1);
    let deep_everywhere = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    Aggregator::new(Options::default()).add_json(&mut out, deep_everywhere.as_bytes());
    assert_eq!(out.report().pings_rejected["not_a_ping_object"], 1);
    for (doc, reason) in cases {
        let mut out = Aggregates::new();
        Aggregator::new(Options::default()).add_json(&mut out, &doc);
        let r = out.report();
        assert_eq!(r.pings_read, 1);
        assert_eq!(
            one_reason(&r.pings_rejected),
            reason,
            "{}",
            String::from_utf8_lossy(&doc)
        );
    }
}

#[test]
fn nothing_of_a_ping_counts_unless_all_of_it_is_usable() {
    // The payload is aggregated while it is parsed: a ping that turns out to be truncated, or
    // whose dimensions (after the payload, as Firefox orders them) are unusable, must leave no
    // trace but its reject.
    let mut p = base();
    p["payload"]["histograms"]["H"] = linear(json!({"1": 4}), json!(4));
    let text = p.to_string();
    let truncated = &text[..text.len() - 3];
    let mut out = Aggregates::new();
    let mut aggregator = Aggregator::new(Options::default());
    aggregator.add_json(&mut out, truncated.as_bytes());
    let mut bad_dims = p.clone();
    bad_dims["application"]["channel"] = json!("esr");
    // Put the payload first so that it is parsed before the dimensions are known.
    let reordered = format!(
        "{{\"payload\":{},\"application\":{},\"environment\":{},\"meta\":{},\"clientId\":\"c\"}}",
        bad_dims["payload"], bad_dims["application"], bad_dims["environment"], bad_dims["meta"]
    );
    aggregator.add_json(&mut out, reordered.as_bytes());
    let r = out.report();
    assert_eq!((r.pings_read, r.pings_used), (2, 0));
    assert_eq!(r.pings_rejected["truncated_json"], 1);
    assert_eq!(r.pings_rejected["unknown_channel"], 1);
    assert_eq!((r.histograms_used, r.scalars_used), (0, 0));
    assert!(r.histograms_rejected.is_empty() && r.scalars_rejected.is_empty());
    assert!(out.is_empty());
    // The same ping, usable, in either field order.
    let good = reordered.replace("\"esr\"", "\"nightly\"");
    aggregator.add_json(&mut out, good.as_bytes());
    aggregator.add_json(&mut out, text.as_bytes());
    let s = series(&out);
    assert_eq!(parent(&s, "H").count(), 2);
    assert_eq!(out.report().pings_used, 2);
}

#[test]
fn escaped_names_and_duplicate_payloads() {
    let text = base()
        .to_string()
        .replacen(
            r#""histograms":{}"#,
            r#""histograms":{"GC\u005fMS":{"histogram_type":2,"range":[1,2],"bucket_count":3,"sum":1,"values":{"\u0031":1}}}"#,
            1,
        );
    let mut out = Aggregates::new();
    let mut aggregator = Aggregator::new(Options::default());
    aggregator.add_json(&mut out, text.as_bytes());
    let s = series(&out);
    assert_eq!(parent(&s, "GC_MS").counts(), &[0, 1, 0]);
    let twice = text.replacen(r#""payload":"#, r#""payload":{},"payload":"#, 1);
    aggregator.add_json(&mut out, twice.as_bytes());
    assert_eq!(out.report().pings_rejected["duplicate_field"], 1);
    let twice = text.replacen(
        r#""channel":"nightly""#,
        r#""channel":"nightly","channel":"beta""#,
        1,
    );
    aggregator.add_json(&mut out, twice.as_bytes());
    assert_eq!(out.report().pings_rejected["duplicate_field"], 2);
}

/// Issue 13: two valid pings of the same dimensions but different build ids, one with a
/// histogram `sum` of 2^64 - 1, used to fail the whole job when the submission-date family
/// summed the build ids. The submission-date row is now refused and counted; everything else
/// is written, and the answer does not depend on the order of the pings.
#[test]
fn build_ids_that_overflow_when_summed_are_refused_and_counted_not_fatal() {
    let h = |sum: u64| {
        json!({"histogram_type": 1, "range": [1, 10], "bucket_count": 11, "sum": sum,
               "values": {"1": 1}})
    };
    let mut big = with_histogram("H", h(u64::MAX));
    big["application"]["buildId"] = json!("20240101093000");
    let mut small = with_histogram("H", h(5));
    small["application"]["buildId"] = json!("20231231120000");
    for pings in [[big.clone(), small.clone()], [small, big]] {
        let mut a = run(&pings);
        assert_eq!(a.report().pings_used, 2);
        let batches = a.batches().expect("never fatal");
        let refused: u64 = batches
            .iter()
            .filter_map(|b| b.rows_refused.get("merge_overflow"))
            .sum();
        assert_eq!(refused, 1, "the one submission-date row of H/parent");
        let sub_date_rows: Vec<_> = batches
            .iter()
            .flat_map(|b| &b.tables)
            .filter(|(t, _)| t.prefix == Prefix::SubmissionDate)
            .flat_map(|(_, rows)| rows)
            .filter(|(k, _)| k.metric == "H")
            .collect();
        assert!(sub_date_rows.is_empty(), "{sub_date_rows:?}");

        // The job's write step counts it with the store's own rejects and goes on.
        let store = mozaggregator_core::MemoryStore::new();
        let written = a.write_to(&store, |_| {}).expect("never fatal");
        assert_eq!(written.rows_rejected.get("merge_overflow"), Some(&1));
        assert_eq!(a.report().rows_rejected.get("merge_overflow"), Some(&1));
        // The build-id rows were offered to the store: the huge sum is the store's reject.
        assert_eq!(written.rows_rejected.get("sum_out_of_range"), Some(&1));
        assert!(written.rows_written >= 2, "{written:?}");
    }
}

/// Issue 13: one date rule everywhere. A build id or submission date that is not a calendar
/// date (February 31st) is a counted reject at ingest, as it is an error for stores and queries.
#[test]
fn dates_that_are_not_on_the_calendar_are_rejected() {
    let mut p = base();
    p["application"]["buildId"] = json!("20150231093000");
    let a = run(&[p]);
    assert_eq!(a.report().pings_rejected["invalid_build_id"], 1);
    let mut p = base();
    p["meta"]["submissionDate"] = json!("20230229");
    let a = run(&[p]);
    assert_eq!(a.report().pings_used, 0);
    assert_eq!(a.report().pings_rejected.values().sum::<u64>(), 1);
}

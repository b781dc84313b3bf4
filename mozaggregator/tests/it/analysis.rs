//! The Analysis API over HTTP (poem's TestClient): statistics, OR filters, group-by, date
//! ranges, top-K, evolution, compare, labels and POST — and every error they can answer.

use std::sync::Arc;

use crate::common::*;
use mozaggregator_core::*;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::{json, Value};

const BASE: &str = "/aggregates_by/submission_date/channels/nightly/";
const GC: &str = "version=41&dates=20150601,20150602&metric=GC_MS";
const KEYED: &str = "version=42&dates=20150601,20150602&metric=KEYED_MS";

/// The common store plus version 42 with a keyed metric of 20 labels: label `Lnn` has `nn + 1`
/// pings per date (so `L19` has the most).
pub(crate) fn analysis_client() -> TestClient<mozaggregator_http::App> {
    let store = store();
    for date in [D1, D2] {
        let mut batch = Batch::new(date.parse().unwrap());
        let target = Target {
            prefix: Prefix::SubmissionDate,
            channel: "nightly".into(),
            version: "42".into(),
            date: date.parse().unwrap(),
        };
        let mut rows = Vec::new();
        for i in 0..20u64 {
            let mut h = Histogram::empty(gc_layout());
            let mut counts = vec![0; 50];
            counts[(i as usize) % 50] = 3;
            h.add_dense(&counts, 10 * (i + 1)).unwrap();
            let mut total = Histogram::empty(gc_layout());
            for _ in 0..=i {
                total.merge(&h).unwrap();
            }
            let label = format!("L{i:02}");
            rows.push((
                key("KEYED_MS", &label, Process::Parent, ("Linux", "3.1"), "x86"),
                total,
            ));
        }
        batch.tables.insert(target, rows);
        store.write(&batch).unwrap();
    }
    let (_, client) = app_with(store as Arc<dyn Store>, config(None));
    client
}

pub(crate) async fn get(c: &TestClient<mozaggregator_http::App>, url: &str) -> (StatusCode, Value) {
    let r = c.get(url).send().await;
    status_json(r).await
}

/// The JSON answer to a GET of `url`, which must succeed.
pub(crate) async fn get_ok(c: &TestClient<mozaggregator_http::App>, url: &str) -> Value {
    let (s, v) = get(c, url).await;
    assert_eq!(s, StatusCode::OK, "{url}: {v}");
    v
}

pub(crate) async fn status_json(r: TestResponse) -> (StatusCode, Value) {
    let status = r.0.status();
    let bytes = r.0.into_body().into_bytes().await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, v)
}

pub(crate) async fn raw(c: &TestClient<mozaggregator_http::App>, url: &str) -> Vec<u8> {
    let r = c.get(url).send().await;
    r.0.into_body().into_bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn without_new_parameters_the_answer_is_unchanged() {
    let c = analysis_client();
    let body = raw(&c, &format!("{BASE}?{GC}")).await;
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with(r#"{"buckets":[0,1,"#), "{text}");
    assert!(
        text.contains(r#"{"date":"20150601","label":"","count":4,"sum":400,"histogram":[0,16,"#),
        "{text}"
    );
    for new_key in ["stats", "group", "stats_buckets", "ci"] {
        assert!(!text.contains(new_key), "{new_key} in {text}");
    }
}

#[tokio::test]
async fn stats_add_samples_mean_and_percentiles_with_buckets() {
    let c = analysis_client();
    let v = get_ok(
        &c,
        &format!("{BASE}?{GC}&stats=mean,p50,p99.9,p100&pct_method=nearest"),
    )
    .await;
    let entry = &v["data"][0];
    // 4 rows of {bucket 1: 4, bucket 9: 2}, sum 100 each.
    assert_eq!(entry["stats"]["samples"], 24);
    assert_eq!(entry["stats"]["mean"], json!(400.0 / 24.0));
    let bounds: Vec<u64> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert_eq!(entry["stats"]["p50"], json!(bounds[1] as f64));
    assert_eq!(entry["stats"]["p100"], json!(bounds[9] as f64));
    assert_eq!(entry["stats_buckets"]["p50"], json!([bounds[1], bounds[2]]));
    let keys: Vec<&str> = entry["stats"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(keys.contains(&"p99.9"));

    // interp lies inside its bucket.
    let (_, v) = get(&c, &format!("{BASE}?{GC}&stats=p50")).await;
    let p50 = v["data"][0]["stats"]["p50"].as_f64().unwrap();
    let b = &v["data"][0]["stats_buckets"]["p50"];
    assert!(p50 >= b[0].as_f64().unwrap() && p50 <= b[1].as_f64().unwrap());

    // tmo adds telemetry.js's mean.
    let (_, v) = get(&c, &format!("{BASE}?{GC}&stats=mean&pct_method=tmo")).await;
    assert!(v["data"][0]["stats"].get("tmo_mean").is_some(), "{v}");
}

#[tokio::test]
async fn percentiles_of_categorical_kinds_are_null_not_errors() {
    let c = analysis_client();
    let v = get_ok(
        &c,
        &format!("{BASE}?version=41&dates=20150601&metric=USE_COUNTER2_X_PAGE&stats=mean,p50"),
    )
    .await;
    assert_eq!(v["kind"], "boolean");
    assert_eq!(v["data"][0]["stats"]["p50"], Value::Null);
    assert_eq!(v["data"][0]["stats"]["mean"], Value::Null);
    assert_eq!(v["data"][0]["stats_buckets"]["p50"], Value::Null);
}

#[tokio::test]
async fn a_repeated_filter_is_an_or() {
    let c = analysis_client();
    let (_, linux) = get(&c, &format!("{BASE}?{GC}&os=Linux")).await;
    let (_, windows) = get(&c, &format!("{BASE}?{GC}&os=Windows_NT")).await;
    let (_, both) = get(&c, &format!("{BASE}?{GC}&os=Linux&os=Windows_NT")).await;
    let (_, all) = get(&c, &format!("{BASE}?{GC}")).await;
    for i in 0..2 {
        let count = |v: &Value| v["data"][i]["count"].as_u64().unwrap();
        assert_eq!(count(&both), count(&linux) + count(&windows));
        assert_eq!(both["data"][i], all["data"][i]);
    }
    // child values are ORed too, legacy spellings included.
    let (_, pc) = get(&c, &format!("{BASE}?{GC}&child=true&child=parent")).await;
    assert_eq!(pc["data"][0], all["data"][0]);
}

#[tokio::test]
async fn group_by_returns_one_tagged_entry_per_value() {
    let c = analysis_client();
    let v = get_ok(&c, &format!("{BASE}?{GC}&group_by=os")).await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 4); // 2 dates x 2 OS
    let groups: Vec<&str> = data.iter().map(|p| p["group"].as_str().unwrap()).collect();
    assert_eq!(groups, ["Linux", "Windows_NT", "Linux", "Windows_NT"]);
    let (_, all) = get(&c, &format!("{BASE}?{GC}")).await;
    let sum: u64 = data[..2].iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, all["data"][0]["count"].as_u64().unwrap());

    // A filter restricts the groups.
    let (_, v) = get(&c, &format!("{BASE}?{GC}&group_by=child&child=parent")).await;
    let groups: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["parent", "parent"]);
}

#[tokio::test]
async fn date_ranges_equal_their_lists_and_count_against_the_limit() {
    let c = analysis_client();
    let a = raw(
        &c,
        &format!("{BASE}?version=41&dates=20150601..20150602&metric=GC_MS"),
    )
    .await;
    let b = raw(&c, &format!("{BASE}?{GC}")).await;
    assert_eq!(a, b);
    // 401 copies of one date are one date.
    let many = vec!["20150601"; 401].join(",");
    get_ok(&c, &format!("{BASE}?version=41&dates={many}&metric=GC_MS")).await;
    // A range of 401 days is 401 dates: over the default limit of 400.
    let (s, v) = get(
        &c,
        &format!("{BASE}?version=41&dates=20150101..20160205&metric=GC_MS"),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["description"]
            .as_str()
            .unwrap()
            .contains("401 distinct dates"),
        "{v}"
    );
}

#[tokio::test]
async fn top_keeps_the_labels_with_most_pings_and_sums_the_rest() {
    let c = analysis_client();
    let v = get_ok(&c, &format!("{BASE}?{KEYED}&top=5")).await;
    let labels: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["date"] == D1)
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["L15", "L16", "L17", "L18", "L19", "__other__"]);
    let other = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["label"] == "__other__")
        .unwrap();
    // L00..L14 have 1..15 pings.
    assert_eq!(other["count"], (1..=15).sum::<u64>());
    // top larger than the number of labels: no __other__.
    let (_, v) = get(&c, &format!("{BASE}?{KEYED}&top=50")).await;
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["label"] != "__other__"));
}

#[tokio::test]
async fn labels_are_listed_most_pings_first_and_paged() {
    let c = analysis_client();
    let v = get_ok(&c, &format!("{BASE}labels/?{KEYED}&per_page=3&page=2")).await;
    assert_eq!(v["total"], 20);
    assert_eq!(v["page"], 2);
    let labels: Vec<&str> = v["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["L16", "L15", "L14"]);
    assert_eq!(v["labels"][0]["pings"], 2 * 17);
    assert_eq!(v["labels"][0]["samples"], 2 * 17 * 3);
}

#[tokio::test]
async fn evolution_gives_compact_per_date_series() {
    let c = analysis_client();
    let v = get_ok(&c, &format!("{BASE}evolution/?{GC}")).await;
    assert_eq!(v["series"].as_array().unwrap().len(), 1);
    let data = v["series"][0]["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["date"], D1);
    assert_eq!(data[0]["pings"], 4);
    assert_eq!(data[0]["samples"], 24);
    for stat in ["mean", "p5", "p25", "p50", "p75", "p95"] {
        assert!(data[0]["stats"].get(stat).is_some(), "{stat}");
    }
    assert!(v.get("buckets").is_none());
    let (_, v) = get(&c, &format!("{BASE}evolution/?{GC}&group_by=os&stats=p50")).await;
    let groups: Vec<&str> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["Linux", "Windows_NT"]);
    assert_eq!(
        v["series"][0]["data"][0]["stats"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    let (_, v) = get(&c, &format!("{BASE}evolution/?{KEYED}&top=2")).await;
    let labels: Vec<&str> = v["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["L18", "L19", "__other__"]);
}

#[tokio::test]
async fn compare_gives_both_sides_deltas_and_distances() {
    let c = analysis_client();
    let v = get_ok(
        &c,
        &format!("{BASE}compare/?{GC}&os=Linux&b.os=Windows_NT&stats=mean,p50"),
    )
    .await;
    // Both OS have identical rows: zero deltas and distances.
    assert_eq!(v["a"], v["b"]);
    assert_eq!(v["deltas"]["mean"]["absolute"], 0.0);
    assert_eq!(v["distances"]["ks"], 0.0);
    assert_eq!(v["a"]["pings"], 4);
    assert_eq!(v["a"]["proportions"].as_array().unwrap().len(), 50);
    // b.os=* removes the filter: B has twice the pings.
    let (_, v) = get(&c, &format!("{BASE}compare/?{GC}&os=Linux&b.os=*")).await;
    assert_eq!(v["b"]["pings"], 8);
    assert_eq!(v["deltas"]["pings"]["relative"], 1.0);
    // Keyed: label L00 against L19 differ in where their samples are.
    let (_, v) = get(&c, &format!("{BASE}compare/?{KEYED}&label=L00&b.label=L19")).await;
    assert!(v["distances"]["ks"].as_f64().unwrap() > 0.99, "{v}");
    assert!(
        v["distances"]["cdf_squared"].as_f64().unwrap() > 0.0,
        "B moved up: {v}"
    );
    assert!(
        v["distances"]["bhattacharyya"].as_f64().unwrap() > 0.99,
        "{v}"
    );
}

#[tokio::test]
async fn post_answers_as_the_get() {
    let c = analysis_client();
    let get_body = raw(
        &c,
        &format!("{BASE}?{GC}&os=Linux&os=Windows_NT&group_by=child&stats=mean,p95"),
    )
    .await;
    let r = c
        .post(BASE)
        .content_type("application/json")
        .body(
            json!({"version": 41, "metric": "GC_MS", "dates": ["20150601..20150602"],
                   "filters": {"os": ["Linux", "Windows_NT"]}, "group_by": "child",
                   "stats": ["mean", "p95"]})
            .to_string(),
        )
        .send()
        .await;
    r.assert_status_is_ok();
    let post_body = r.0.into_body().into_bytes().await.unwrap().to_vec();
    assert_eq!(
        String::from_utf8(post_body).unwrap(),
        String::from_utf8(get_body).unwrap()
    );
    // Malformed and unknown fields are 400.
    for body in [
        "{",
        r#"{"version": "41", "colour": 1}"#,
        r#"{"version": [1]}"#,
    ] {
        let r = c
            .post(BASE)
            .content_type("application/json")
            .body(body)
            .send()
            .await;
        let (s, v) = status_json(r).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
    }
    // POST only on the metric route.
    let r = c.post(format!("{BASE}evolution/")).body("{}").send().await;
    r.assert_status(StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bad_parameters_are_clear_400s() {
    let c = analysis_client();
    let cases = [
        (format!("{BASE}?{GC}&stats=p101"), "p101"),
        (format!("{BASE}?{GC}&stats=mean,pNaN"), "pNaN"),
        (format!("{BASE}?{GC}&stats=median"), "median"),
        (format!("{BASE}?{GC}&stats=p50&pct_method=linear"), "linear"),
        (format!("{BASE}?{GC}&group_by=metric"), "metric"),
        (format!("{BASE}?{GC}&group_by=colour"), "colour"),
        (
            format!("{BASE}?version=41&dates=20150602..20150601&metric=GC_MS"),
            "ends before",
        ),
        (format!("{BASE}?{GC}&top=5"), "keyed"),
        (format!("{BASE}?{GC}&top=0"), "top"),
        (format!("{BASE}?{GC}&child=plugin"), "plugin"),
        (
            format!("{BASE}compare/?{GC}&b.metric=SCALARS_A.B"),
            "layouts",
        ),
        (format!("{BASE}labels/?{KEYED}&per_page=100000"), "per_page"),
    ];
    for (url, needle) in cases {
        let (s, v) = get(&c, &url).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{url}: {v}");
        assert_eq!(v["code"], "bad_request");
        assert!(
            v["description"].as_str().unwrap().contains(needle),
            "{url}: {v}"
        );
    }
    // Unknown parameters on new routes: 405 with Allow, as on the metric route.
    let r = c.get(format!("{BASE}labels/?{KEYED}&top=3")).send().await;
    r.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    let (s, _) = get(&c, &format!("{BASE}evolution/?version=41&metric=GC_MS")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = get(&c, &format!("{BASE}evolution/?{GC}&os=Plan9")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn release_gating_applies_to_every_new_route() {
    let c = analysis_client();
    let release = "/aggregates_by/submission_date/channels/release/";
    for route in ["", "evolution/", "compare/", "labels/"] {
        let (s, _) = get(&c, &format!("{release}{route}?{GC}")).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{route}");
        let r = get_with_token(&c, format!("{release}{route}?{GC}")).await;
        r.assert_status_is_ok();
    }
    // Side B on release needs authorization too.
    let (s, _) = get(&c, &format!("{BASE}compare/?{GC}&b.channel=release")).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // Deny-listed metrics stay hidden.
    let (s, _) = get(
        &c,
        &format!("{BASE}evolution/?version=41&dates=20150601&metric=SEARCH_COUNTS"),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

//! `ci=` over HTTP: intervals on the metric route (GET and POST), evolution and compare (with
//! its verdict and `threshold`), the same bytes as the core computes, and the clear errors of
//! a bad level and of data without replicate groups.

use std::sync::Arc;

use crate::analysis::{analysis_client, get, get_ok, raw, status_json};
use crate::common::*;
use crate::core_common::replicates::{histogram, key_on, nightly_42, replicated_batch};
use mozaggregator_core::analysis::MetricRequest;
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::params::{Accepts, ParsedParams};
use mozaggregator_core::*;
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{json, Value};

const BASE: &str = "/aggregates_by/submission_date/channels/nightly/";
const Q: &str = "version=42&dates=20240101,20240102&metric=GC_MS";

/// GC_MS of nightly 42 on two dates, R = 4: group g has one ping on Linux and one on
/// Windows_NT, whose values are 8 buckets higher.
fn replicated_store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    for date in ["20240101", "20240102"] {
        let groups = (0..4u64)
            .map(|g| {
                ["Linux", "Windows_NT"]
                    .iter()
                    .zip([0, 8])
                    .map(|(os, shift)| {
                        let h = histogram(gc_layout(), &[(3 + shift, g + 1), (10 + shift, 2)], 40);
                        (key_on("GC_MS", "", os), h)
                    })
                    .collect()
            })
            .collect();
        store
            .write(&replicated_batch(&nightly_42(date), groups, vec![]))
            .unwrap();
    }
    store
}

fn client_of(store: Arc<MemoryStore>) -> TestClient<mozaggregator_http::App> {
    let (_, client) = app_with(store as Arc<dyn Store>, config(None));
    client
}

fn assert_interval(v: &Value, what: &str) {
    for key in ["estimate", "lower", "upper", "se"] {
        assert!(v[key].is_f64(), "{what}: {key} in {v}");
    }
    assert!(v["lower"].as_f64() <= v["upper"].as_f64(), "{what}: {v}");
}

#[tokio::test]
async fn the_metric_route_adds_an_interval_to_each_statistic() {
    let store = replicated_store();
    let c = client_of(store.clone());
    let url = format!("{BASE}?{Q}&stats=mean,p50&ci=0.95&group_by=os");
    let v = get_ok(&c, &url).await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 4);
    for entry in data {
        let ci = &entry["ci"];
        assert_eq!(ci["level"], json!(0.95));
        assert_eq!(ci["replicates"], 4);
        assert_eq!(ci["pings"], entry["count"]);
        let stats = ci["stats"].as_object().unwrap();
        assert_eq!(stats.keys().collect::<Vec<_>>(), ["mean", "p50"]);
        for (name, interval) in stats {
            assert_interval(interval, name);
            // Every ping is in a group: the estimate is the plain statistic.
            assert_eq!(interval["estimate"], entry["stats"][name], "{name}");
        }
    }
    // The handler serves what the core computes, byte for byte.
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let parsed = ParsedParams::from_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        Accepts::METRIC,
    )
    .unwrap();
    let core = MetricRequest::from_params(&parsed.params, Prefix::SubmissionDate, "nightly")
        .unwrap()
        .run(store.as_ref(), &Definitions::new())
        .unwrap()
        .unwrap()
        .to_json();
    assert_eq!(raw(&c, &url).await, core);

    // POST takes ci as a number or a string, and answers as the GET.
    let get_body = raw(&c, &format!("{BASE}?{Q}&stats=mean&ci=0.9")).await;
    for ci in [json!(0.9), json!("0.9")] {
        let r = c
            .post(BASE)
            .content_type("application/json")
            .body(
                json!({"version": "42", "metric": "GC_MS", "dates": ["20240101..20240102"],
                       "stats": ["mean"], "ci": ci})
                .to_string(),
            )
            .send()
            .await;
        r.assert_status_is_ok();
        let body = r.0.into_body().into_bytes().await.unwrap().to_vec();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            String::from_utf8(get_body.clone()).unwrap()
        );
    }
}

#[tokio::test]
async fn evolution_points_carry_intervals() {
    let c = client_of(replicated_store());
    let url = format!("{BASE}evolution/?{Q}&os=Linux&ci=0.99");
    let v = get_ok(&c, &url).await;
    let points = v["series"][0]["data"].as_array().unwrap();
    assert_eq!(points.len(), 2);
    for point in points {
        assert_eq!(point["ci"]["level"], json!(0.99));
        assert_eq!(point["ci"]["pings"], point["pings"]);
        // The default statistics, each with its interval.
        for name in ["mean", "p5", "p25", "p50", "p75", "p95"] {
            assert_interval(&point["ci"]["stats"][name], name);
        }
    }
    // In the order of `stats`.
    let text = String::from_utf8(raw(&c, &url).await).unwrap();
    assert!(
        text.contains(
            r#""ci":{"level":0.99,"replicates":4,"pings":4,"stats":{"mean":{"estimate":"#
        ),
        "{text}"
    );
    let at = |key: &str| text.find(&format!(r#""{key}":{{"estimate""#)).unwrap();
    assert!(at("p5") < at("p25") && at("p25") < at("p50"), "{text}");
}

#[tokio::test]
async fn compare_gives_delta_intervals_and_a_verdict() {
    let c = client_of(replicated_store());
    let url = format!("{BASE}compare/?{Q}&os=Linux&b.os=Windows_NT&stats=mean,p50&ci=0.95");
    let v = get_ok(&c, &url).await;
    let ci = &v["ci"];
    assert_eq!(ci["level"], json!(0.95));
    assert_eq!(ci["replicates"], 4);
    assert_eq!(ci["threshold"], json!(0.01));
    assert_eq!(ci["verdict"], "differs");
    assert_eq!(ci["triggered_by"], json!(["p50"]));
    assert_eq!(ci["checked"]["p50"]["excludes_zero"], true);
    assert_eq!(ci["checked"]["mean"]["excludes_zero"], false);
    assert_eq!(
        ci["proportions"].as_array().unwrap().len(),
        v["buckets"].as_array().unwrap().len()
    );
    let p50 = &v["deltas"]["p50"]["ci"];
    assert_interval(&p50["absolute"], "p50 absolute");
    assert_eq!(p50["absolute"]["estimate"], v["deltas"]["p50"]["absolute"]);
    assert!(v["deltas"]["samples"].get("ci").is_none());
    for side in ["a", "b"] {
        assert_eq!(v[side]["ci"]["pings"], v[side]["pings"]);
        assert_interval(&v[side]["ci"]["percentiles"]["p50"], side);
        assert_interval(&v[side]["ci"]["mean"], side);
    }
    // The threshold is a parameter, reported back; a change below it is the same.
    let v = get_ok(&c, &format!("{url}&threshold=100")).await;
    assert_eq!(v["ci"]["threshold"], json!(100.0));
    assert_eq!(v["ci"]["verdict"], "same");
    // The same selection on both sides.
    let v = get_ok(&c, &format!("{BASE}compare/?{Q}&os=Linux&ci=0.95")).await;
    assert_eq!(v["ci"]["verdict"], "same");
    assert_eq!(v["ci"]["triggered_by"], json!([]));
}

#[tokio::test]
async fn bad_levels_and_thresholds_are_400s_naming_what_is_allowed() {
    let c = client_of(replicated_store());
    for route in ["", "evolution/", "compare/"] {
        for bad in ["0.8", "95", "", "0.95x"] {
            let (s, v) = get(&c, &format!("{BASE}{route}?{Q}&ci={bad}")).await;
            assert_eq!(s, StatusCode::BAD_REQUEST, "{route} ci={bad}: {v}");
            assert_eq!(v["code"], "bad_request");
            let text = v["description"].as_str().unwrap();
            assert!(text.contains("0.9, 0.95 or 0.99"), "{text}");
        }
    }
    let r = c
        .post(BASE)
        .content_type("application/json")
        .body(
            json!({"version": "42", "metric": "GC_MS", "dates": ["20240101"], "ci": 0.5})
                .to_string(),
        )
        .send()
        .await;
    let (s, v) = status_json(r).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    for (query, needle) in [
        ("ci=0.95&threshold=-1", "relative change"),
        ("ci=0.95&threshold=NaN", "relative change"),
        ("threshold=x", "relative change"),
    ] {
        let (s, v) = get(&c, &format!("{BASE}compare/?{Q}&{query}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert!(v["description"].as_str().unwrap().contains(needle), "{v}");
    }
    // Without ci the threshold has nothing to set; the answer is the plain comparison.
    let v = get_ok(&c, &format!("{BASE}compare/?{Q}&threshold=0.05")).await;
    assert!(v.get("ci").is_none());
    // Routes without statistics do not take ci; only compare takes threshold.
    let (s, _) = get(&c, &format!("{BASE}labels/?{Q}&ci=0.95")).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    let (s, _) = get(&c, &format!("{BASE}?{Q}&ci=0.95&threshold=0.1")).await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn ci_on_a_store_without_replicates_is_a_409_not_numbers() {
    // The common store was written without replicate groups.
    let c = analysis_client();
    let gc = "version=41&dates=20150601,20150602&metric=GC_MS";
    for route in ["", "evolution/", "compare/"] {
        let (s, v) = get(&c, &format!("{BASE}{route}?{gc}&ci=0.95")).await;
        assert_eq!(s, StatusCode::CONFLICT, "{route}: {v}");
        assert_eq!(v["code"], "no_replicates");
        let text = v["description"].as_str().unwrap();
        assert!(text.contains("--replicates"), "{text}");
        // Without ci the same query answers.
        get_ok(&c, &format!("{BASE}{route}?{gc}")).await;
    }
    // Replicate counts that differ between the two sides of a comparison.
    let store = replicated_store();
    let target = nightly_42("20240103");
    let groups = (0..2)
        .map(|_| {
            vec![(
                key_on("GC_MS", "", "Linux"),
                histogram(gc_layout(), &[(3, 1)], 2),
            )]
        })
        .collect();
    store
        .write(&replicated_batch(&target, groups, vec![]))
        .unwrap();
    let c = client_of(store);
    let (s, v) = get(&c, &format!("{BASE}compare/?{Q}&b.dates=20240103&ci=0.95")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["description"].as_str().unwrap().contains("same count"),
        "{v}"
    );
}

//! The checks of the original service's own test suite (test_service.py), re-done over HTTP
//! against a SQLite store filled by the real ingest from the original test data set.
//!
//! Expected numbers follow from the data set's facts: per (channel, version, date) 32
//! aggregate keys are merged; histograms count 320 (parent 96, content 160, gpu 64), simple
//! measures 384 (parent 96, content 288), scalars 224 (96 / 64 / 64). One deliberate difference
//! from the original (docs/api.md, "Differences from the original service, on purpose"): GC_MAX_PAUSE_MS_2 is served over the layout its pings declare
//! (linear 1..1000, 50 buckets), with every sample, where the original dropped the samples that
//! did not fit its (exponential) definition.

use crate::common;
use std::sync::{Arc, OnceLock};

use crate::common::{app_with, bearer, claims, config, jwt_config, keys, sign, TOKEN};
use mozaggregator_core::definitions::{Definition, Definitions};
use mozaggregator_core::testing::dataset;
use mozaggregator_core::*;
use mozaggregator_http::App;
use poem::http::StatusCode;
use poem::test::TestClient;
use serde_json::{json, Value};

const TODAY: &str = "20240110";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    submission_dates: [String; 2],
    build_ids: [String; 2],
}

/// The data set aggregated by the real ingest and written to a SQLite store, once.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(common::dataset_store(dir.path(), TODAY));
        Fixture {
            _dir: dir,
            store,
            submission_dates: dataset::submission_dates(TODAY).unwrap(),
            build_ids: dataset::build_ids(TODAY)
                .unwrap()
                .map(|b| b[..8].to_string()),
        }
    })
}

fn def(name: &str, kind: Kind, layout: BucketLayout, description: &str, keyed: bool) -> Definition {
    Definition {
        name: name.into(),
        kind,
        layout,
        description: description.into(),
        keyed,
    }
}

/// Definitions of the data set's metrics, written by hand from the research notes.
fn definitions() -> Definitions {
    let mut d = Definitions::new();
    let exp = |lo, hi, n| BucketLayout::exponential(lo, hi, n).unwrap();
    d.insert(def(
        "EVENTLOOP_UI_ACTIVITY_EXP_MS",
        Kind::Exponential,
        exp(50, 60000, 20),
        "UI activity",
        false,
    ));
    d.insert(def(
        "GC_MAX_PAUSE_MS_2",
        Kind::Exponential,
        exp(1, 10000, 50),
        "Longest GC slice in a GC (ms)",
        false,
    ));
    let labels = vec!["CommonLabel".to_string(), "Label2".into(), "Label3".into()];
    d.insert(def(
        "TELEMETRY_TEST_CATEGORICAL",
        Kind::Categorical,
        BucketLayout::categorical(labels, None).unwrap(),
        "A categorical test histogram",
        false,
    ));
    for name in [
        "UPDATE_PING_COUNT_EXTERNAL",
        "CONTENT_DOCUMENTS_DESTROYED",
        "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED",
    ] {
        d.insert(def(
            name,
            Kind::Count,
            BucketLayout::count(),
            "A count",
            false,
        ));
    }
    d.insert(def(
        "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED",
        Kind::Boolean,
        BucketLayout::boolean(),
        "Features",
        true,
    ));
    for (name, keyed) in [
        ("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT", false),
        ("SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT", false),
        ("SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT", true),
        ("SCALARS_TELEMETRY.TEST.KEYED_RELEASE_OPTOUT", true),
        ("SCALARS_TELEMETRY.EVENT_COUNTS", true),
        ("SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS", true),
    ] {
        d.insert(def(
            name,
            Kind::Exponential,
            BucketLayout::new(LayoutSpec::scalar()),
            "A scalar",
            keyed,
        ));
    }
    d
}

fn client() -> (App, TestClient<App>) {
    let f = fixture();
    let app = App::new(
        f.store.clone(),
        Arc::new(definitions()),
        config(Some(jwt_config())),
    );
    (app.clone(), TestClient::new(app))
}

async fn get(c: &TestClient<App>, url: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut req = c.get(url);
    if let Some(t) = token {
        req = req.header("authorization", bearer(t));
    }
    let r = req.send().await;
    let status = r.0.status();
    let bytes = r.0.into_body().into_bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn ok(c: &TestClient<App>, url: &str) -> Value {
    let (status, v) = get(c, url, None).await;
    assert_eq!(status, StatusCode::OK, "{url}");
    v
}

fn metric_url(prefix: &str, channel: &str, version: &str, dates: &str, metric: &str) -> String {
    format!("/aggregates_by/{prefix}/channels/{channel}/?version={version}&dates={dates}&metric={metric}")
}

/// Dense expectation: `(index, value)` pairs over `n` buckets.
fn dense(n: usize, entries: &[(usize, u64)]) -> Value {
    let mut v = vec![0u64; n];
    for &(i, x) in entries {
        v[i] = x;
    }
    json!(v)
}

fn index_of(buckets: &Value, bound: u64) -> usize {
    buckets
        .as_array()
        .unwrap()
        .iter()
        .position(|b| b == &json!(bound))
        .unwrap()
}

#[tokio::test]
async fn status_channels_and_dates() {
    let (_, c) = client();
    let r = c.get("/status").send().await;
    r.assert_status_is_ok();
    r.assert_text("OK").await;
    let f = fixture();
    for prefix in ["build_id", "submission_date"] {
        let v = ok(&c, &format!("/aggregates_by/{prefix}/channels/")).await;
        assert_eq!(v, json!(["beta", "nightly"]));
        let (status, v) = get(
            &c,
            &format!("/aggregates_by/{prefix}/channels/"),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v, json!(["beta", "nightly", "release"]));
        let dates = if prefix == "build_id" {
            &f.build_ids
        } else {
            &f.submission_dates
        };
        for channel in ["nightly", "beta"] {
            let v = ok(
                &c,
                &format!("/aggregates_by/{prefix}/channels/{channel}/dates/"),
            )
            .await;
            let entries = v.as_array().unwrap();
            assert_eq!(entries.len(), 4);
            for e in entries {
                let keys: Vec<&String> = e.as_object().unwrap().keys().collect();
                assert_eq!(keys, ["date", "version"]);
                assert!(dates.iter().any(|d| e["date"] == json!(d)));
                assert!(e["version"] == "40" || e["version"] == "41");
            }
            // Newest first.
            assert_eq!(entries[0]["date"], json!(dates[1]));
        }
    }
}

#[tokio::test]
async fn filters_unauthorized_and_authorized() {
    let (_, c) = client();
    for channel in ["nightly", "beta"] {
        for version in ["40", "41"] {
            let url = format!("/filters/?channel={channel}&version={version}");
            for token in [None, Some(TOKEN)] {
                let (status, v) = get(&c, &url, token).await;
                assert_eq!(status, StatusCode::OK);
                let metrics = v["metric"].as_array().unwrap();
                for denied in [
                    "SEARCH_COUNTS",
                    "SCALARS_BROWSER.SEARCH.TEST_SCALAR",
                    "SCALARS_BROWSER.SEARCH.ANOTHER",
                ] {
                    assert!(!metrics.contains(&json!(denied)));
                }
                for private in [
                    "SCALARS_TELEMETRY.EVENT_COUNTS",
                    "SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS",
                ] {
                    assert_eq!(
                        metrics.contains(&json!(private)),
                        token.is_some(),
                        "{private}"
                    );
                }
                assert!(metrics.contains(&json!("UPDATE_PING_COUNT_EXTERNAL")));
                assert!(!metrics
                    .iter()
                    .any(|m| m.as_str().unwrap().starts_with("[[COUNT]]")));
                let set = |k: &str| {
                    let mut s: Vec<String> = v[k]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_string())
                        .collect();
                    s.sort();
                    s
                };
                assert_eq!(set("application"), ["Fennec", "Firefox"]);
                assert_eq!(set("architecture"), ["x86", "x86-64"]);
                assert_eq!(set("child"), ["content", "gpu", "parent"]);
                assert_eq!(
                    set("os"),
                    [
                        "Linux,3.1",
                        "Linux,6.1",
                        "Windows_NT,3.1.12",
                        "Windows_NT,6.1"
                    ]
                );
            }
        }
    }
}

/// test_submission_dates_metrics / test_build_id_metrics: every metric of the data set, for
/// both prefixes, nightly and beta, versions 40 and 41, both dates at once.
#[tokio::test]
async fn every_metric_on_both_prefixes() {
    let (_, c) = client();
    let f = fixture();
    for prefix in ["submission_date", "build_id"] {
        let dates = if prefix == "build_id" {
            &f.build_ids
        } else {
            &f.submission_dates
        };
        let dates = dates.join(",");
        for channel in ["nightly", "beta"] {
            for version in ["40", "41"] {
                let url = |m: &str| metric_url(prefix, channel, version, &dates, m);
                let check =
                    |v: &Value, count: u64, sum: u64, hist: &Value, kind: &str, n: usize| {
                        assert_eq!(v["kind"], kind, "{v}");
                        assert_eq!(v["buckets"].as_array().unwrap().len(), n);
                        let data = v["data"].as_array().unwrap();
                        assert_eq!(data.len(), 2);
                        for d in data {
                            assert_eq!(d["count"], count);
                            assert_eq!(d["sum"], sum);
                            assert_eq!(&d["histogram"], hist);
                            assert_eq!(d["label"], "");
                        }
                    };

                let v = ok(&c, &url("EVENTLOOP_UI_ACTIVITY_EXP_MS")).await;
                let at = |b| index_of(&v["buckets"], b);
                let h = dense(
                    20,
                    &[
                        (at(50), 5760),
                        (at(74), 5120),
                        (at(110), 5120),
                        (at(163), 2560),
                        (at(242), 1600),
                        (at(359), 640),
                        (at(789), 320),
                    ],
                );
                check(&v, 320, 2_995_840, &h, "exponential", 20);
                assert_eq!(v["description"], "UI activity");

                let v = ok(&c, &url("GC_MAX_PAUSE_MS_2")).await;
                assert_eq!(v["buckets"], json!(linear_buckets(1, 1000, 50).unwrap()));
                let at = |b| index_of(&v["buckets"], b);
                let h = dense(
                    50,
                    &[
                        (at(1), 1280),
                        (at(22), 640),
                        (at(43), 320),
                        (at(63), 320),
                        (at(272), 320),
                    ],
                );
                check(&v, 320, 177_280, &h, "linear", 50);

                let v = ok(&c, &url("TELEMETRY_TEST_CATEGORICAL")).await;
                assert_eq!(
                    v["buckets"],
                    json!(["CommonLabel", "Label2", "Label3", "spill"])
                );
                check(&v, 320, 960, &json!([320, 320, 320, 0]), "categorical", 4);

                let v = ok(&c, &url("USE_COUNTER_PROPERTY_FILL_DOCUMENT")).await;
                check(&v, 320, 320, &json!([0, 320, 0]), "boolean", 3);
                let v = ok(&c, &url("USE_COUNTER2_PROPERTY_FILL_PAGE")).await;
                check(&v, 320, 640, &json!([19 * 320 - 640, 640, 0]), "boolean", 3);
                let v = ok(&c, &url("USE_COUNTER2_PROPERTY_FILL_DOCUMENT")).await;
                check(&v, 320, 320, &json!([17 * 320 - 320, 320, 0]), "boolean", 3);

                for (name, index, sum) in [
                    ("UPDATE_PING_COUNT_EXTERNAL", 28, 42 * 320),
                    ("CONTENT_DOCUMENTS_DESTROYED", 17, 17 * 320),
                    ("TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED", 19, 19 * 320),
                ] {
                    let v = ok(&c, &url(name)).await;
                    check(&v, 320, sum, &dense(100, &[(index, 320)]), "count", 100);
                    assert_eq!(v["description"], "A count");
                }

                for name in [
                    "SIMPLE_MEASURES_UPTIME",
                    "SIMPLE_MEASURES_ADDONMANAGER_XPIDB_PARSEDB_MS",
                ] {
                    let v = ok(&c, &url(name)).await;
                    check(
                        &v,
                        384,
                        42 * 384,
                        &dense(50, &[(15, 384)]),
                        "exponential",
                        50,
                    );
                }
                for name in [
                    "SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT",
                    "SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT",
                ] {
                    let v = ok(&c, &url(name)).await;
                    check(
                        &v,
                        224,
                        42 * 224,
                        &dense(100, &[(28, 224)]),
                        "exponential",
                        100,
                    );
                    assert_ne!(v["description"], "");
                }

                // Keyed scalars: one entry per key and date; one key with a label filter.
                for (name, keys) in [
                    (
                        "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
                        vec!["FIRST", "SECOND"],
                    ),
                    (
                        "SCALARS_TELEMETRY.TEST.KEYED_RELEASE_OPTOUT",
                        vec!["SEARCH_ENTER"],
                    ),
                ] {
                    let v = ok(&c, &url(name)).await;
                    assert_eq!(v["data"].as_array().unwrap().len(), keys.len() * 2);
                    for key in keys {
                        let v = ok(&c, &format!("{}&label={key}", url(name))).await;
                        let data = v["data"].as_array().unwrap();
                        assert_eq!(data.len(), 2);
                        for d in data {
                            assert_eq!(
                                (d["count"].clone(), d["sum"].clone()),
                                (json!(224), json!(42 * 224))
                            );
                            assert_eq!(d["histogram"], dense(100, &[(28, 224)]));
                            assert_eq!(d["label"], key);
                        }
                        assert_ne!(v["description"], "");
                    }
                }

                // Keyed histogram, label in its original case.
                let name = "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED";
                let v = ok(&c, &url(name)).await;
                assert_eq!(v["data"].as_array().unwrap().len(), 2);
                let v = ok(&c, &format!("{}&label=withMarkers", url(name))).await;
                assert_eq!(v["kind"], "boolean");
                for d in v["data"].as_array().unwrap() {
                    assert_eq!(d["histogram"], json!([0, 320, 0]));
                    assert_eq!(
                        (d["count"].clone(), d["sum"].clone()),
                        (json!(320), json!(320))
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn dimension_filters_split_the_counts() {
    let (_, c) = client();
    let d = &fixture().submission_dates[1];
    let base = |m: &str| metric_url("submission_date", "nightly", "41", d, m);
    let count = |v: Value| v["data"][0]["count"].as_u64().unwrap();
    for (filter, n) in [
        ("&child=parent", 96),
        ("&child=content", 160),
        ("&child=true", 160),
        ("&child=false", 96),
        ("&child=gpu", 64),
        ("&application=Firefox", 160),
        ("&architecture=x86", 160),
        ("&os=Linux&osVersion=3.1", 80),
        ("&os=Windows_NT&osVersion=3.1.12", 80),
    ] {
        assert_eq!(
            count(
                ok(
                    &c,
                    &format!("{}{filter}", base("EVENTLOOP_UI_ACTIVITY_EXP_MS"))
                )
                .await
            ),
            n,
            "{filter}"
        );
    }
    for (filter, n) in [
        ("&child=parent", 96),
        ("&child=content", 64),
        ("&child=gpu", 64),
    ] {
        assert_eq!(
            count(
                ok(
                    &c,
                    &format!(
                        "{}{filter}",
                        base("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT")
                    )
                )
                .await
            ),
            n
        );
    }
    assert_eq!(
        count(
            ok(
                &c,
                &format!("{}&child=content", base("SIMPLE_MEASURES_UPTIME"))
            )
            .await
        ),
        288
    );
    let (status, _) = get(
        &c,
        &format!("{}&child=gpu", base("SIMPLE_MEASURES_UPTIME")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn absent_use_counter_and_missing_things() {
    let (_, c) = client();
    let f = fixture();
    let v = ok(
        &c,
        &metric_url(
            "build_id",
            "nightly",
            "40",
            &f.build_ids[0],
            "USE_COUNTER2_SIR_NOT_APPEARING_IN_THIS_DOCUMENT",
        ),
    )
    .await;
    let d = &v["data"][0];
    assert_eq!(d["histogram"], json!([17 * 320, 0, 0]));
    assert_eq!(
        (d["count"].clone(), d["sum"].clone()),
        (json!(320), json!(0))
    );

    let (status, _) = get(
        &c,
        &metric_url(
            "build_id",
            "nightly",
            "41",
            &f.build_ids[1],
            "SCALARS_NONEXISTENT",
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    for metric in [
        "SEARCH_COUNTS",
        "SCALARS_BROWSER.SEARCH.TEST_SCALAR",
        "SCALARS_BROWSER.SEARCH.ANOTHER",
    ] {
        let (status, _) = get(
            &c,
            &metric_url("build_id", "nightly", "41", &f.build_ids[1], metric),
            Some(TOKEN),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{metric}");
    }
}

#[tokio::test]
async fn caching_headers_and_etag() {
    let (_, c) = client();
    let f = fixture();
    let url = metric_url(
        "submission_date",
        "nightly",
        "41",
        &f.submission_dates[1],
        "GC_MAX_PAUSE_MS_2",
    );
    let r = c.get(&url).send().await;
    r.assert_status_is_ok();
    r.assert_header("cache-control", "max-age=86400");
    let etag = common::header(&r, "etag");
    let version = f.store.data_version().unwrap();
    assert_eq!(
        etag.trim_matches('"'),
        format!("submission_date_v{version}")
    );
    c.get(&url)
        .header("if-none-match", etag.trim_matches('"'))
        .send()
        .await
        .assert_status(StatusCode::NOT_MODIFIED);
    c.get(&url)
        .header("if-none-match", format!("{}_", etag.trim_matches('"')))
        .send()
        .await
        .assert_status_is_ok();

    let url = metric_url(
        "build_id",
        "nightly",
        "41",
        &f.build_ids[1],
        "GC_MAX_PAUSE_MS_2",
    );
    let r = c.get(&url).header("if-none-match", &etag).send().await;
    r.assert_status_is_ok();
    r.assert_header_is_not_exist("etag");
    let cc = common::header(&r, "cache-control");
    let age: u64 = cc.strip_prefix("max-age=").unwrap().parse().unwrap();
    assert!(age > 0 && age < 86_400 + 3600 + 1);

    for child in ["true", "content", "parent", "gpu"] {
        let url = metric_url(
            "submission_date",
            "nightly",
            "41",
            &f.submission_dates[1],
            "GC_MAX_PAUSE_MS_2",
        );
        ok(&c, &format!("{url}&child={child}")).await;
    }
}

#[tokio::test]
async fn invalid_filter_is_405_with_allow() {
    let (_, c) = client();
    let f = fixture();
    let query = serde_urlencoded::to_string([
        ("application", "Firefox"),
        ("architecture", "x86"),
        ("child", "content"),
        ("dates", f.build_ids[1].as_str()),
        ("metric", "GC_MAX_PAUSE_MS_2"),
        ("os", "Windows_NT"),
        ("osVersion", "6.1"),
        ("version", "41"),
    ])
    .unwrap();
    let url = format!("/aggregates_by/build_id/channels/nightly/?{query}");
    ok(&c, &url).await;
    for extra in ["&e10sEnabled=true", "&foo=bar"] {
        let r = c.get(format!("{url}{extra}")).send().await;
        r.assert_status(StatusCode::METHOD_NOT_ALLOWED);
        let allow = common::header(&r, "allow");
        let (_, q) = allow.split_once('?').unwrap();
        let mut keys = common::query_keys(q);
        keys.sort();
        assert_eq!(keys, common::METRIC_PARAMS);
    }
}

#[tokio::test]
async fn release_authorization() {
    let (_, c) = client();
    let f = fixture();
    let date = &f.build_ids[1];
    let mut names: Vec<&str> = dataset::HISTOGRAMS.iter().map(|h| h.name).collect();
    names.push(dataset::NULL_HISTOGRAM);
    assert!(names.len() >= 10);
    // An expired token of another issuer (test_auth_header).
    let mut foreign = claims();
    foreign["iss"] = json!("https://auth.mozilla.auth0.com/");
    foreign["exp"] = json!(1);
    let foreign = sign(&foreign, keys(), Some("key-1"));
    let valid = common::valid_jwt();
    for name in names {
        let url = metric_url("build_id", "release", "41", date, name);
        for token in [TOKEN, valid.as_str()] {
            let (status, _) = get(&c, &url, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "{name}");
        }
        let (status, _) = get(&c, &url, Some(&foreign)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let (status, _) = get(&c, &url, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    let (status, _) = get(
        &c,
        &metric_url(
            "build_id",
            "release",
            "41",
            date,
            "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
        ),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for metric in [
        "SCALARS_TELEMETRY.EVENT_COUNTS",
        "SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS",
    ] {
        let url = metric_url("build_id", "nightly", "41", date, metric);
        assert_eq!(get(&c, &url, None).await.0, StatusCode::FORBIDDEN);
        let (status, v) = get(&c, &url, Some(TOKEN)).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(v["data"][0]["count"], 224);
    }
}

#[tokio::test]
async fn response_cache_and_clear_cache() {
    let f = fixture();
    let (app, c) = app_with(f.store.clone(), config(None));
    let url = "/aggregates_by/build_id/channels/";
    let (_, anonymous) = get(&c, url, None).await;
    let (_, authed) = get(&c, url, Some(TOKEN)).await;
    assert!(!anonymous.as_array().unwrap().contains(&json!("release")));
    assert!(authed.as_array().unwrap().contains(&json!("release")));
    assert_eq!(app.cache().len(), 2);
    let (status, _) = get(&c, "/clear-cache", Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.cache().is_empty());
}

/// The same answers with the real definition files of the data set (skipped without
/// ../shared/data).
#[tokio::test]
async fn real_definition_files_give_the_same_kinds_and_buckets() {
    use mozaggregator_core::testing::shared_file;
    let Some(histograms) = shared_file("definitions/Histograms-test-subset.json") else {
        return;
    };
    let Some(scalars) = shared_file("definitions/Scalars-test-subset.yaml") else {
        return;
    };
    let definitions = Definitions::load(Some(&histograms), &[scalars]).unwrap();
    let f = fixture();
    let app = App::new(f.store.clone(), Arc::new(definitions), config(None));
    let c = TestClient::new(app);
    let d = &f.submission_dates[1];
    let url = |m: &str| metric_url("submission_date", "nightly", "41", d, m);
    let v = ok(&c, &url("TELEMETRY_TEST_CATEGORICAL")).await;
    assert_eq!(v["kind"], "categorical");
    assert_eq!(
        v["buckets"],
        json!(["CommonLabel", "Label2", "Label3", "spill"])
    );
    assert_eq!(v["data"][0]["histogram"], json!([320, 320, 320, 0]));
    let v = ok(&c, &url("UPDATE_PING_COUNT_EXTERNAL")).await;
    assert_eq!(v["kind"], "count");
    assert_ne!(v["description"], "");
    let v = ok(&c, &url("EVENTLOOP_UI_ACTIVITY_EXP_MS")).await;
    assert_eq!(v["kind"], "exponential");
    assert_ne!(v["description"], "");
    let v = ok(&c, &url("GC_MAX_PAUSE_MS_2")).await;
    assert_eq!(v["description"], "Longest GC slice in a GC (ms)");
    let v = ok(&c, &url("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT")).await;
    assert_ne!(v["description"], "");
}

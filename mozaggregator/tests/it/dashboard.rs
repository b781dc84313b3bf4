//! The embedded dashboard: its page and assets, their headers, and that the API around them is
//! unchanged. (The dashboard itself is tested in a browser by `dashboard/tests`.)

use crate::common;
use mozaggregator_http::headers::{CSP, DASHBOARD_CSP};

fn client() -> poem::test::TestClient<mozaggregator_http::App> {
    common::app_with(common::store(), common::config(None)).1
}

#[tokio::test]
async fn the_page_is_served_at_the_root_with_its_own_csp() {
    let c = client();
    for path in ["/", "/index.html", "/dashboard", "/dashboard/"] {
        let r = c.get(path).send().await;
        r.assert_status_is_ok();
        r.assert_header("content-type", "text/html; charset=utf-8");
        r.assert_header("cache-control", "no-cache");
        r.assert_header("content-security-policy", DASHBOARD_CSP);
        r.assert_header("x-frame-options", "DENY");
        let body = r.0.into_body().into_string().await.unwrap();
        assert!(body.contains("/dashboard/assets/"), "{path}: {body}");
        assert!(!body.contains("<script>"), "no inline script: {body}");
    }
}

#[tokio::test]
async fn assets_are_immutable_and_revalidate_with_etags() {
    let c = client();
    let r = c.get("/").send().await;
    let etag = common::header(&r, "etag");
    let html = r.0.into_body().into_string().await.unwrap();
    let not_modified = c.get("/").header("if-none-match", &etag).send().await;
    not_modified.assert_status(poem::http::StatusCode::NOT_MODIFIED);

    let start = html.find("/dashboard/assets/").unwrap();
    let end = start + html[start..].find('"').unwrap();
    let js = &html[start..end];
    assert!(js.ends_with(".js"), "{js}");
    let r = c.get(js).send().await;
    r.assert_status_is_ok();
    r.assert_header("content-type", "text/javascript; charset=utf-8");
    r.assert_header("cache-control", "public, max-age=31536000, immutable");
    let head = c.head(js).send().await;
    head.assert_status_is_ok();

    c.get("/dashboard/assets/nothing.js")
        .send()
        .await
        .assert_status(poem::http::StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_api_keeps_its_policy_and_methods() {
    let c = client();
    let r = c.get("/status").send().await;
    r.assert_status_is_ok();
    r.assert_header("content-security-policy", CSP);
    // Other methods on the dashboard's paths are the API's (an error, with the API's policy).
    let post = c.post("/").send().await;
    assert!(post.0.status().is_client_error(), "{:?}", post.0.status());
    post.assert_header("content-security-policy", CSP);
    c.options("/")
        .send()
        .await
        .assert_status(poem::http::StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn definitions_are_served_for_the_metric_search() {
    let mut definitions = mozaggregator_core::definitions::Definitions::new();
    definitions
        .add_histograms_json(
            r#"{"GC_MS": {"kind": "exponential", "high": "10000", "n_buckets": 50, "description": "Time spent running JS GC (ms)"}}"#,
        )
        .unwrap();
    let app = mozaggregator_http::App::new(
        common::store(),
        std::sync::Arc::new(definitions),
        common::config(None),
    );
    let c = poem::test::TestClient::new(app);
    let r = c.get("/dashboard/definitions.json").send().await;
    r.assert_status_is_ok();
    r.assert_header("content-type", "application/json");
    let etag = r.0.headers().get("etag").unwrap().clone();
    let body: serde_json::Value =
        serde_json::from_str(&r.0.into_body().into_string().await.unwrap()).unwrap();
    assert_eq!(
        body["GC_MS"],
        serde_json::json!({"kind": "exponential", "description": "Time spent running JS GC (ms)", "keyed": false})
    );
    let again = c
        .get("/dashboard/definitions.json")
        .header("if-none-match", etag)
        .send()
        .await;
    again.assert_status(poem::http::StatusCode::NOT_MODIFIED);
    // Without definition files: an empty object.
    let r = client().get("/dashboard/definitions.json").send().await;
    r.assert_status_is_ok();
    assert_eq!(r.0.into_body().into_string().await.unwrap(), "{}");
}

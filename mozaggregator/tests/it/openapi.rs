//! `/openapi.json` matches the real behaviour: every documented path, called with its example
//! parameters, answers a documented status (200 when authorized), with the documented content
//! type; and every route the server has is documented.

use crate::common::*;
use serde_json::Value;

fn example_url(path: &str, op: &Value) -> String {
    let mut url = path.to_string();
    let mut query = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let name = p["name"].as_str().unwrap();
        // Examples are strings, or numbers for integer parameters.
        let example = match &p["example"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let example = example.as_str();
        match p["in"].as_str().unwrap() {
            "path" => url = url.replace(&format!("{{{name}}}"), example),
            "query" if p["required"] == true => query.push((name.to_string(), example.to_string())),
            _ => {}
        }
    }
    if !query.is_empty() {
        url.push('?');
        url.push_str(&serde_urlencoded::to_string(&query).unwrap());
    }
    url
}

#[tokio::test]
async fn every_documented_path_answers_as_documented() {
    let (_, c) = client();
    let r = c.get("/openapi.json").send().await;
    r.assert_status_is_ok();
    let doc: Value = serde_json::from_slice(&r.0.into_body().into_bytes().await.unwrap()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 11);
    for (path, item) in paths {
        let op = &item["get"];
        let documented: Vec<u16> = op["responses"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.parse().unwrap())
            .collect();
        let url = example_url(path, op);
        for authorized in [false, true] {
            let mut req = c.get(&url);
            if authorized {
                req = req.header("authorization", bearer(TOKEN));
            }
            let r = req.send().await;
            let status = r.0.status().as_u16();
            assert!(
                documented.contains(&status),
                "{url}: {status} not in {documented:?}"
            );
            if authorized {
                assert_eq!(status, 200, "{url} with authorization");
                if let Some(content) = op["responses"]["200"]["content"].as_object() {
                    let ct = r.0.content_type().unwrap_or("").to_string();
                    assert!(
                        content.keys().any(|k| ct.starts_with(k.as_str())),
                        "{url}: content type {ct}, documented {:?}",
                        content.keys().collect::<Vec<_>>()
                    );
                }
            }
        }
        // Every documented path answers without its trailing slash too.
        if path.ends_with('/') && path.len() > 1 {
            let trimmed = example_url(path.trim_end_matches('/'), op);
            let r = get_with_token(&c, &trimmed).await;
            assert_eq!(r.0.status().as_u16(), 200, "{trimmed}");
        }
    }
    // Every route the server has is documented.
    for route in [
        "/status",
        "/authed",
        "/clear-cache",
        "/__heartbeat__",
        "/__lbheartbeat__",
        "/__version__",
        "/openapi.json",
        "/filters/",
        "/aggregates_by/{prefix}/channels/",
        "/aggregates_by/{prefix}/channels/{channel}/",
        "/aggregates_by/{prefix}/channels/{channel}/dates/",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
}

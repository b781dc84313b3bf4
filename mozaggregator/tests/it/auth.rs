//! Authorization over HTTP: RS256 JWTs against a JWKS (every failure mode → 403, never 5xx),
//! static tokens, and loading the JWKS and token files.

use crate::common::*;
use mozaggregator_http::auth::{load_jwks, load_tokens};
use poem::http::StatusCode;

const GATED: [&str; 4] = [
    "/authed",
    "/aggregates_by/build_id/channels/release/?version=41&dates=20150601&metric=GC_MS",
    "/aggregates_by/build_id/channels/release/dates/",
    "/filters/?channel=release&version=41",
];

#[tokio::test]
async fn valid_jwt_and_static_token_authorize() {
    let (_, c) = client();
    for token in [valid_jwt(), TOKEN.to_string()] {
        for url in GATED {
            c.get(url)
                .header("authorization", bearer(&token))
                .send()
                .await
                .assert_status_is_ok();
        }
        let r = c
            .get("/authed")
            .header("authorization", bearer(&token))
            .send()
            .await;
        r.assert_text("Authenticated").await;
    }
    // A token without a kid is accepted when the JWKS has a single key.
    let no_kid = sign(&claims(), keys(), None);
    c.get("/authed")
        .header("authorization", bearer(&no_kid))
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn every_bad_token_is_403() {
    let (_, c) = client();
    let mut cases: Vec<(&str, Option<String>, &str)> = Vec::new();
    cases.push(("missing header", None, "authorization_header_missing"));
    cases.push((
        "not bearer",
        Some(format!("Basic {TOKEN}")),
        "invalid_header",
    ));
    cases.push(("bearer alone", Some("Bearer".into()), "invalid_header"));
    cases.push((
        "three parts",
        Some(format!("Bearer {TOKEN} x")),
        "invalid_header",
    ));
    cases.push(("garbage token", Some(bearer("not.a.jwt")), "improper_token"));
    cases.push((
        "unknown static token",
        Some(bearer("nope")),
        "improper_token",
    ));

    let mut c1 = claims();
    c1["exp"] = serde_json::json!(now() - 3600);
    cases.push((
        "expired",
        Some(bearer(&sign(&c1, keys(), Some("key-1")))),
        "token_expired",
    ));
    let mut c2 = claims();
    c2["iss"] = serde_json::json!("https://auth.mozilla.auth0.com/");
    cases.push((
        "wrong issuer",
        Some(bearer(&sign(&c2, keys(), Some("key-1")))),
        "invalid_claims",
    ));
    let mut c3 = claims();
    c3["aud"] = serde_json::json!("https://elsewhere.test/");
    cases.push((
        "wrong audience",
        Some(bearer(&sign(&c3, keys(), Some("key-1")))),
        "invalid_claims",
    ));
    let mut c4 = claims();
    c4["scope"] = serde_json::json!("openid read:aggregates-extra");
    cases.push((
        "wrong scope",
        Some(bearer(&sign(&c4, keys(), Some("key-1")))),
        "access_denied",
    ));
    let mut c5 = claims();
    c5.as_object_mut().unwrap().remove("scope");
    cases.push((
        "no scope",
        Some(bearer(&sign(&c5, keys(), Some("key-1")))),
        "access_denied",
    ));
    let mut c6 = claims();
    c6.as_object_mut().unwrap().remove("exp");
    cases.push((
        "no expiry",
        Some(bearer(&sign(&c6, keys(), Some("key-1")))),
        "invalid_claims",
    ));
    cases.push((
        "forged (other key, same kid)",
        Some(bearer(&sign(&claims(), other_keys(), Some("key-1")))),
        "invalid_header",
    ));
    cases.push((
        "unknown kid",
        Some(bearer(&sign(&claims(), keys(), Some("key-9")))),
        "invalid_header",
    ));
    // A valid token with its signature cut off, and one with a tampered payload.
    let valid = valid_jwt();
    let unsigned = valid.rsplit_once('.').unwrap().0.to_string() + ".";
    cases.push(("no signature", Some(bearer(&unsigned)), "invalid_header"));
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered = format!("{}.{}x.{}", parts[0], parts[1], parts[2]);
    cases.push(("tampered", Some(bearer(&tampered)), ""));
    // alg=none and HS256 tokens are refused.
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    cases.push(("alg none", Some(bearer(&none)), ""));
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    cases.push(("HS256", Some(bearer(&hs)), ""));

    for (name, header, code) in &cases {
        for url in GATED {
            let mut req = c.get(url);
            if let Some(h) = header {
                req = req.header("authorization", h);
            }
            let r = req.send().await;
            assert_eq!(r.0.status(), StatusCode::FORBIDDEN, "{name} on {url}");
            let body = r.0.into_body().into_string().await.unwrap();
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            if !code.is_empty() {
                assert_eq!(v["code"], *code, "{name}: {body}");
            }
        }
        // Ungated routes ignore a bad token.
        let mut req = c.get("/aggregates_by/build_id/channels/");
        if let Some(h) = header {
            req = req.header("authorization", h);
        }
        let r = req.send().await;
        r.assert_status_is_ok();
        assert_eq!(
            r.0.into_body().into_string().await.unwrap(),
            r#"["beta","nightly"]"#,
            "{name}"
        );
    }
}

#[tokio::test]
async fn without_any_auth_configured_nothing_is_authorized() {
    let mut cfg = config(None);
    cfg.auth = mozaggregator_http::auth::Authenticator::default();
    let (_, c) = app_with(store(), cfg);
    for token in [TOKEN.to_string(), valid_jwt()] {
        c.get("/authed")
            .header("authorization", bearer(&token))
            .send()
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
}

#[test]
fn jwks_and_tokens_files() {
    let dir = tempfile::tempdir().unwrap();
    let jwks_path = dir.path().join("jwks.json");
    let set = serde_json::json!({"keys": [keys().jwk]});
    std::fs::write(&jwks_path, set.to_string()).unwrap();
    let loaded = load_jwks(jwks_path.to_str().unwrap()).unwrap();
    assert!(loaded.find("key-1").is_some());
    std::fs::write(&jwks_path, "{not json").unwrap();
    assert!(load_jwks(jwks_path.to_str().unwrap()).is_err());
    assert!(load_jwks(dir.path().join("missing.json").to_str().unwrap()).is_err());

    let tokens_path = dir.path().join("tokens");
    std::fs::write(&tokens_path, "# team tokens\n\nabc \n  def\n").unwrap();
    assert_eq!(load_tokens(&tokens_path).unwrap(), vec!["abc", "def"]);
}

/// Issue 13: a request's token is verified once, however many checks the route makes (its
/// channel, its metric, the error to answer), valid or not.
#[tokio::test]
async fn a_request_verifies_its_token_once() {
    let cfg = config(Some(jwt_config()));
    let auth = cfg.auth.clone();
    let (_, c) = app_with(store(), cfg);
    let bad = format!("{}x", valid_jwt());
    for (token, status) in [
        (valid_jwt(), StatusCode::OK),
        (bad, StatusCode::FORBIDDEN),
        (TOKEN.to_string(), StatusCode::OK),
    ] {
        for url in GATED {
            let before = auth.checks();
            c.get(url)
                .header("authorization", bearer(&token))
                .send()
                .await
                .assert_status(status);
            assert_eq!(auth.checks() - before, 1, "{url}");
        }
    }
}

/// A verified JWT is remembered until it expires: the same token on many requests has its
/// signature verified once; a bad or expired token is never remembered as good.
#[tokio::test]
async fn a_verified_token_is_remembered_until_it_expires() {
    let cfg = config(Some(jwt_config()));
    let auth = cfg.auth.clone();
    let (_, c) = app_with(store(), cfg);
    let token = valid_jwt();
    for _ in 0..5 {
        c.get("/authed")
            .header("authorization", bearer(&token))
            .send()
            .await
            .assert_status_is_ok();
    }
    assert_eq!(auth.signatures(), 1);
    let forged = format!("{token}x");
    let mut expired = claims();
    expired["exp"] = serde_json::json!(now() - 3600);
    let expired = sign(&expired, keys(), Some("key-1"));
    for bad in [forged, expired] {
        for _ in 0..2 {
            c.get("/authed")
                .header("authorization", bearer(&bad))
                .send()
                .await
                .assert_status(StatusCode::FORBIDDEN);
        }
    }
    assert_eq!(auth.signatures(), 5, "bad tokens are verified every time");
}

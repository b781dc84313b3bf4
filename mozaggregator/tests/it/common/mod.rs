//! Shared fixtures of the server tests: a small hand-made store, configurations, RSA keys and
//! signed tokens.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cli;

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mozaggregator_core::definitions::Definitions;
use mozaggregator_core::*;
use mozaggregator_http::auth::{Authenticator, JwtConfig};
use mozaggregator_http::{App, ServerConfig};
use poem::test::{TestClient, TestResponse};
use rsa::pkcs1::EncodeRsaPrivateKey;

pub const D1: &str = "20150601";
pub const D2: &str = "20150602";
pub const TOKEN: &str = "static-test-token";
pub const ISSUER: &str = "https://issuer.test/";
pub const AUDIENCE: &str = "https://aggregates.test/";
pub const CHANNELS: [&str; 3] = ["beta", "nightly", "release"];

pub fn key(metric: &str, label: &str, process: Process, os: (&str, &str), arch: &str) -> SeriesKey {
    SeriesKey {
        metric: metric.into(),
        label: label.into(),
        process,
        dims: Dims {
            application: "Firefox".into(),
            architecture: arch.into(),
            os: os.0.into(),
            os_version: os.1.into(),
        },
    }
}

pub fn scalar(value: u64, times: u64) -> Histogram {
    let mut h = Histogram::empty(LayoutSpec::scalar());
    for _ in 0..times {
        h.record(value).unwrap();
    }
    h
}

pub fn gc_layout() -> LayoutSpec {
    LayoutSpec::exponential(1, 10000, 50).unwrap()
}

/// One (process, dims) worth of rows for a target.
fn rows() -> Vec<(SeriesKey, Histogram)> {
    let mut out = Vec::new();
    for (os, arch) in [(("Linux", "3.1"), "x86"), (("Windows_NT", "6.1"), "x86-64")] {
        for process in [Process::Parent, Process::Content] {
            let k = |m: &str, l: &str| key(m, l, process, os, arch);
            let mut gc = Histogram::empty(gc_layout());
            gc.add_dense(
                &{
                    let mut c = vec![0; 50];
                    c[1] = 4;
                    c[9] = 2;
                    c
                },
                100,
            )
            .unwrap();
            out.push((k("GC_MS", ""), gc));
            out.push((k("SCALARS_A.B", ""), scalar(42, 1)));
            out.push((k("[[COUNT]]_SEARCH_COUNTS", "ddg.urlbar"), scalar(1, 1)));
            out.push((
                k("SCALARS_TELEMETRY.EVENT_COUNTS", "SOME#EVENT"),
                scalar(42, 1),
            ));
            out.push((
                k("SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT", "FIRST"),
                scalar(42, 1),
            ));
            out.push((k("SCALARS_BROWSER.SEARCH.TEST_SCALAR", ""), scalar(42, 1)));
            out.push((k("[[COUNT]]_PING_COUNT", ""), scalar(42, 1)));
            let mut uc = Histogram::empty(LayoutSpec::boolean());
            uc.add_dense(&[0, 2, 0], 2).unwrap();
            out.push((k("USE_COUNTER2_X_PAGE", ""), uc));
            out.push((
                k("[[COUNT]]_TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED", ""),
                scalar(19, 1),
            ));
        }
    }
    out
}

/// The batch of one submission date: every channel, versions 40 and 41, both prefixes (the
/// build-id date equals the submission date).
pub fn batch(date: &str) -> Batch {
    let mut batch = Batch::new(date.parse().unwrap());
    for prefix in Prefix::ALL {
        for channel in CHANNELS {
            for version in ["40", "41"] {
                let target = Target {
                    prefix,
                    channel: channel.into(),
                    version: version.into(),
                    date: date.parse().unwrap(),
                };
                batch.tables.insert(target, rows());
            }
        }
    }
    batch
}

pub fn store() -> Arc<MemoryStore> {
    let store = Arc::new(MemoryStore::new());
    store.write(&batch(D1)).unwrap();
    store.write(&batch(D2)).unwrap();
    store
}

/// A configuration with the static token and (optionally) JWT keys, re-reading the data
/// version on every request.
pub fn config(jwt: Option<JwtConfig>) -> ServerConfig {
    ServerConfig {
        auth: Authenticator::new(jwt, vec![TOKEN.into()]),
        data_version_poll: std::time::Duration::ZERO,
        ..ServerConfig::default()
    }
}

pub fn app_with(store: Arc<dyn Store>, config: ServerConfig) -> (App, TestClient<App>) {
    let app = App::new(store, Arc::new(Definitions::new()), config);
    (app.clone(), TestClient::new(app))
}

pub fn client() -> (Arc<MemoryStore>, TestClient<App>) {
    let store = store();
    let (_, client) = app_with(store.clone(), config(Some(jwt_config())));
    (store, client)
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// A GET of `url` with the static token [`TOKEN`].
pub async fn get_with_token(c: &TestClient<App>, url: impl Into<String>) -> TestResponse {
    c.get(url)
        .header("authorization", bearer(TOKEN))
        .send()
        .await
}

/// The value of `resp`'s header `name` (present, and text).
pub fn header(resp: &poem::test::TestResponse, name: &str) -> String {
    resp.0
        .headers()
        .get(name)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string()
}

/// Every parameter of a metric query, sorted.
pub const METRIC_PARAMS: [&str; 8] = [
    "application",
    "architecture",
    "child",
    "dates",
    "metric",
    "os",
    "osVersion",
    "version",
];

/// The parameter names of a URL's `query` (after the `?`), in their order.
pub fn query_keys(query: &str) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

// ---- JWT ----

pub struct Keys {
    pub encoding: EncodingKey,
    pub jwk: Jwk,
}

/// An RSA key pair generated once per test binary.
pub fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| new_keys("key-1"))
}

/// A second, unrelated key pair (for forged tokens).
pub fn other_keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| new_keys("key-1"))
}

fn new_keys(kid: &str) -> Keys {
    let mut rng = rsa::rand_core::OsRng;
    let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    let encoding = EncodingKey::from_rsa_der(der.as_bytes());
    let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::RS256).unwrap();
    jwk.common.key_id = Some(kid.into());
    Keys { encoding, jwk }
}

pub fn jwt_config() -> JwtConfig {
    JwtConfig {
        jwks: JwkSet {
            keys: vec![keys().jwk.clone()],
        },
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        scope: "read:aggregates".into(),
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims of a valid token.
pub fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": now() + 3600,
        "sub": "tester",
        "scope": "openid read:aggregates profile",
    })
}

pub fn sign(claims: &serde_json::Value, keys: &Keys, kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, &keys.encoding).unwrap()
}

pub fn valid_jwt() -> String {
    sign(&claims(), keys(), Some("key-1"))
}

/// The original service's test data set ("today" = `today`), aggregated by the real ingest
/// and written to a SQLite store in `dir`.
pub fn dataset_store(dir: &std::path::Path, today: &str) -> SqliteStore {
    let store = SqliteStore::open(dir.join("aggregates.sqlite")).unwrap();
    let mut aggregator = Aggregator::new(Options::default());
    let mut aggregates = Aggregates::new();
    for ping in mozaggregator_core::testing::dataset::pings(today).unwrap() {
        aggregator.add_json(&mut aggregates, ping.as_bytes());
    }
    for batch in aggregates.batches().unwrap() {
        store.write(&batch).unwrap();
    }
    store
}

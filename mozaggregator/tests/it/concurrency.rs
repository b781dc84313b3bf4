//! Store reads run off the executor, in parallel, under the request timeout. The store here
//! blocks on a gate the test controls, so outcomes do not depend on timing.

use std::collections::BTreeSet;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::common::*;
use mozaggregator_core::*;
use poem::http::StatusCode;
use poem::{Endpoint, Request};

/// A MemoryStore whose metric queries wait until `need` of them are running at once (or the
/// gate is opened).
struct GatedStore {
    inner: MemoryStore,
    need: usize,
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl GatedStore {
    fn new(need: usize) -> Self {
        let inner = MemoryStore::new();
        inner.write(&batch(D1)).unwrap();
        Self {
            inner,
            need,
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        }
    }

    fn open(&self) {
        self.state.lock().unwrap().1 = true;
        self.changed.notify_all();
    }
}

impl Store for GatedStore {
    fn write(&self, batch: &Batch) -> Result<WriteReport> {
        self.inner.write(batch)
    }
    fn channels(&self, prefix: Prefix) -> Result<Vec<String>> {
        self.inner.channels(prefix)
    }
    fn dates(&self, prefix: Prefix, channel: &str) -> Result<Vec<DateVersion>> {
        self.inner.dates(prefix, channel)
    }
    fn filter_options(&self, channel: &str, version: &str) -> Result<Option<FilterOptions>> {
        self.inner.filter_options(channel, version)
    }
    fn query(&self, query: &SeriesQuery) -> Result<Vec<QueryRow>> {
        let mut state = self.state.lock().unwrap();
        state.0 += 1;
        self.changed.notify_all();
        // Safety net only: a test that never opens the gate fails instead of hanging.
        let (state, timeout) = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(20), |s| s.0 < self.need && !s.1)
            .unwrap();
        drop(state);
        if timeout.timed_out() {
            return Err(Error::invalid("test gate", "never opened"));
        }
        self.inner.query(query)
    }
    fn replicates(
        &self,
        query: &SeriesQuery,
    ) -> Result<Option<mozaggregator_core::store::ReplicateRows>> {
        self.inner.replicates(query)
    }
    fn absorbed(&self, target: &Target) -> Result<BTreeSet<mozaggregator_core::Date>> {
        self.inner.absorbed(target)
    }
    fn trim(&self, cutoff: mozaggregator_core::Date, dry_run: bool) -> Result<Vec<Target>> {
        self.inner.trim(cutoff, dry_run)
    }
    fn data_version(&self) -> Result<u64> {
        self.inner.data_version()
    }
    fn scan(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(&Target, &SeriesKey, &Histogram) -> Result<()>,
    ) -> Result<()> {
        self.inner.scan(selection, visit)
    }
    fn write_mobile(&self, batch: &mozaggregator_core::mobile::MobileBatch) -> Result<WriteReport> {
        self.inner.write_mobile(batch)
    }
    fn scan_mobile(
        &self,
        selection: &Selection,
        visit: &mut dyn FnMut(
            &Target,
            &mozaggregator_core::mobile::MobileKey,
            &mozaggregator_core::mobile::MobileHistogram,
        ) -> Result<()>,
    ) -> Result<()> {
        self.inner.scan_mobile(selection, visit)
    }
}

/// A GET of `uri`.
fn request(uri: &str) -> Request {
    Request::builder().uri(uri.parse().unwrap()).finish()
}

/// A metric query of the common store, on the OS `os`.
fn metric_request(os: &str) -> Request {
    request(&format!(
        "/aggregates_by/build_id/channels/nightly/?version=41&dates=20150601&metric=GC_MS&os={os}"
    ))
}

/// The status of the app's answer to `/status` (a route that does not read the store).
async fn status_route(app: &mozaggregator_http::App) -> StatusCode {
    app.call(request("/status")).await.unwrap().status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_reads_run_in_parallel() {
    const N: usize = 6;
    let store = Arc::new(GatedStore::new(N));
    let (app, _) = app_with(store.clone(), config(None));
    let mut tasks = Vec::new();
    for i in 0..N {
        let app = app.clone();
        // Distinct URLs so no answer comes from the cache.
        let os = if i % 2 == 0 { "Linux" } else { "Windows_NT" };
        let req = request(&format!("/aggregates_by/build_id/channels/nightly/?version=41&dates=20150601&metric=GC_MS&os={os}&application=Firefox&label=&child={}", ["parent", "content", "true"][i % 3]));
        tasks.push(tokio::spawn(async move {
            app.call(req).await.unwrap().status()
        }));
    }
    for t in tasks {
        // Every query waited for all N to be running at once: they ran in parallel.
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
}

#[tokio::test]
async fn a_slow_request_times_out_with_408() {
    let store = Arc::new(GatedStore::new(usize::MAX));
    let mut cfg = config(None);
    cfg.limits.request_timeout = Duration::from_millis(50);
    let (app, _) = app_with(store.clone(), cfg);
    let resp = app.call(metric_request("Linux")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    let body = resp.into_body().into_string().await.unwrap();
    assert!(body.contains("\"timeout\""), "{body}");
    // Other routes still answer while the store is stuck.
    assert_eq!(status_route(&app).await, StatusCode::OK);
    store.open();
}

/// A lone read runs inline on a worker (reads.rs); while it is stuck, the other worker still
/// answers, and a second read goes to the blocking pool instead of waiting behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_lone_read_leaves_the_server_answering() {
    let store = Arc::new(GatedStore::new(2));
    let (app, _) = app_with(store.clone(), config(None));
    let first = {
        let app = app.clone();
        tokio::spawn(async move { app.call(metric_request("Linux")).await.unwrap().status() })
    };
    // The status route answers while the first read waits at the gate.
    for _ in 0..3 {
        assert_eq!(status_route(&app).await, StatusCode::OK);
    }
    // The gate needs two reads running at once: the second must run beside the stuck first.
    let second = app
        .call(metric_request("Windows_NT"))
        .await
        .unwrap()
        .status();
    assert_eq!(second, StatusCode::OK);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
}

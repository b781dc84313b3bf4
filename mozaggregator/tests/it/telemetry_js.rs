//! Mozilla's telemetry.js (the dashboards' client) against a real server on 127.0.0.1, driven
//! by tests/js/telemetry_check.js under Node. Optional: runs only when `TELEMETRY_JS` names a
//! local copy of telemetry.js (it is not part of this repository, and nothing is fetched).

use crate::common;
use std::sync::Arc;

use mozaggregator_core::definitions::Definitions;
use mozaggregator_http::App;
use poem::listener::{Acceptor, Listener, TcpListener};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telemetry_js_reads_the_api() {
    let Ok(telemetry_js) = std::env::var("TELEMETRY_JS") else {
        mozaggregator_core::testing::skip("set TELEMETRY_JS=/path/to/telemetry.js to run");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(common::dataset_store(dir.path(), "20240110"));
    let app = App::new(store, Arc::new(Definitions::new()), common::config(None));
    let acceptor = TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .unwrap();
    let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async {
                    let _ = stop_rx.await;
                },
                None,
            )
            .await
    });
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/js/telemetry_check.js"
    );
    let base = format!("http://{addr}/");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .env("TELEMETRY_JS", &telemetry_js)
            .env("BASE_URL", base)
            .output()
            .expect("node must be installed to run this check")
    })
    .await
    .unwrap();
    let _ = stop_tx.send(());
    server.await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "telemetry.js check failed:\n{stdout}"
    );
    assert!(stdout.contains(" passed, 0 failed"));
}

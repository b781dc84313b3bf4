//! The real server over TCP (issue 16): very long URLs get the documented answer, and `serve`
//! and `demo` bind before they do anything else.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mozaggregator");

/// A server process, killed on drop, with its stderr lines arriving on `lines`.
struct Server {
    child: Child,
    lines: Receiver<String>,
    addr: String,
    seen: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Waits (at most `deadline`) for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str, deadline: Duration) -> Option<String> {
        let end = Instant::now() + deadline;
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Some(line);
                    }
                }
                Err(_) => return None,
            }
        }
        None
    }
}

fn spawn(args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove("MOZAGGREGATOR_DB")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// `mozaggregator serve` of an empty store on a free port, once it listens.
fn serve(dir: &std::path::Path) -> Server {
    let db = dir.join("empty.sqlite");
    drop(mozaggregator_core::SqliteStore::open(&db).unwrap());
    serve_db(&db, &[])
}

/// `mozaggregator serve --db DB EXTRA…` on a free port, once it listens.
fn serve_db(db: &std::path::Path, extra: &[&str]) -> Server {
    let mut args = vec![
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ];
    args.extend_from_slice(extra);
    let (child, lines) = spawn(&args);
    let mut server = Server {
        child,
        lines,
        addr: String::new(),
        seen: Vec::new(),
    };
    let line = server
        .wait_for("listening", Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no `listening` line: {:?}", server.seen));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    server.addr = v["fields"]["bind"].as_str().unwrap().to_string();
    server
}

/// One HTTP/1.1 response read off `reader`: (status, headers lowercased, body). One reader
/// serves a whole connection: a pipelined response may already sit in its buffer.
fn read_response(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>, String) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').unwrap();
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, headers, String::from_utf8(body).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Issue 16, bug 5: a URL of 8–64 KB and one far above 64 KiB both get the JSON 414 with every
/// common header and a log line, and the connection goes on serving the next request.
#[test]
fn very_long_urls_get_the_documented_414() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = serve(dir.path());
    for length in [20_000usize, 70_000, 1_000_000] {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let url = format!("/status?x={}", "a".repeat(length));
        let request = format!(
            "GET {url} HTTP/1.1\r\nHost: test\r\n\r\nGET /status HTTP/1.1\r\nHost: test\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut reader = BufReader::new(&mut stream);
        let (status, headers, body) = read_response(&mut reader);
        assert_eq!(status, 414, "{length}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("{length}: body {body:?} is not JSON: {e}"));
        assert_eq!(v["code"], "uri_too_long", "{length}");
        assert!(v["description"].as_str().unwrap().contains("8192"), "{v}");
        assert_eq!(header(&headers, "access-control-allow-origin"), Some("*"));
        assert_eq!(header(&headers, "x-frame-options"), Some("DENY"));
        assert!(header(&headers, "content-security-policy").is_some());
        assert_eq!(
            header(&headers, "content-type").map(|t| t.starts_with("application/json")),
            Some(true)
        );
        let log = server
            .wait_for("414", Duration::from_secs(10))
            .unwrap_or_else(|| panic!("{length}: no log line for the 414: {:?}", server.seen));
        assert!(
            log.len() < 1500,
            "the log line holds the whole URL: {}",
            log.len()
        );
        // The same connection serves the next request.
        let (status, _, body) = read_response(&mut reader);
        assert_eq!((status, body.as_str()), (200, "OK"), "{length}");
    }
}

/// Issue 16, bug 6: `serve` on a busy port fails with a message naming the address, without
/// logging `listening` first.
#[test]
fn serve_on_a_busy_port_fails_without_listening() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.sqlite");
    drop(mozaggregator_core::SqliteStore::open(&db).unwrap());
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    for bind in [addr.as_str(), "not-an-address"] {
        let out = Command::new(BIN)
            .args(["serve", "--db", db.to_str().unwrap(), "--bind", bind])
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bind}: {err}");
        assert!(err.contains(&format!("cannot listen on {bind}")), "{err}");
        assert!(!err.contains("listening"), "{bind}: {err}");
    }
}

/// Issue 16, bug 6: `demo` on a busy port fails at once, before generating or writing anything.
#[test]
fn demo_on_a_busy_port_fails_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.sqlite");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = Command::new(BIN)
        .args(["demo", "--db", db.to_str().unwrap(), "--bind", &addr])
        .args(["--pings", "50", "--days", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!stdout.contains("generating"), "{stdout}");
    assert!(!db.exists(), "the store was created before the bind failed");
}

/// Issue 13: `serve` answers a steady stream of queries while `aggregate` writes a new day
/// into the same store. No 5xx and no busy store surface; the new day is visible within the
/// poll interval once the job ends; the ETag changes when the batches land and never goes
/// back to an earlier value.
#[test]
fn serve_keeps_answering_while_aggregate_writes_a_new_day() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.sqlite");
    // The data set's two submission dates, one file each.
    let [day1, day2] = mozaggregator_core::testing::dataset::submission_dates("20240110").unwrap();
    let mut files = Vec::new();
    for day in [&day1, &day2] {
        let path = dir.path().join(format!("{day}.ndjson"));
        let pings: Vec<String> = mozaggregator_core::testing::dataset::pings("20240110")
            .unwrap()
            .into_iter()
            .filter(|p| p.contains(&format!("\"submissionDate\":\"{day}\"")))
            .collect();
        assert!(!pings.is_empty(), "{day}");
        std::fs::write(&path, pings.join("\n")).unwrap();
        files.push(path);
    }
    let aggregate = |file: &std::path::Path| {
        let out = Command::new(BIN)
            .args([
                "aggregate",
                "--db",
                db.to_str().unwrap(),
                file.to_str().unwrap(),
            ])
            .env_remove("MOZAGGREGATOR_DB")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    aggregate(&files[0]);

    const POLL_MS: u64 = 200;
    let poll = POLL_MS.to_string();
    let server = serve_db(
        &db,
        &["--data-version-poll-ms", &poll, "--cache-max-entries", "0"],
    );

    let url = format!(
        "/aggregates_by/submission_date/channels/nightly/?version=41&dates={day1},{day2}&metric=SIMPLE_MEASURES_UPTIME"
    );
    let stop = Arc::new(AtomicBool::new(false));
    // Each client: (status, etag, body has day 2) of every answer, in order.
    let clients: Vec<_> = (0..2)
        .map(|_| {
            let (addr, url, stop) = (server.addr.clone(), url.clone(), Arc::clone(&stop));
            let day2 = day2.clone();
            std::thread::spawn(move || {
                let stream = TcpStream::connect(&addr).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    write!(writer, "GET {url} HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
                    let (status, headers, body) = read_response(&mut reader);
                    let etag = header(&headers, "etag").map(str::to_string);
                    seen.push((status, etag, body.contains(&format!("\"{day2}\""))));
                }
                seen
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    aggregate(&files[1]);
    let landed = Instant::now();
    // Visible within the poll interval (plus scheduling slack on a shared machine).
    let visible = loop {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        write!(
            stream,
            "GET {url} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let (status, _, body) = read_response(&mut BufReader::new(stream));
        assert_eq!(status, 200);
        if body.contains(&format!("\"{day2}\"")) {
            break landed.elapsed();
        }
        assert!(
            landed.elapsed() < Duration::from_secs(10),
            "day 2 never appeared"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        let seen = client.join().unwrap();
        assert!(seen.len() > 20, "only {} answers", seen.len());
        assert!(
            seen.iter().all(|(s, _, _)| *s == 200),
            "{:?}",
            seen.iter().map(|s| s.0).collect::<BTreeSet<_>>()
        );
        // ETags: present, and once one is replaced it never comes back.
        let mut order: Vec<String> = Vec::new();
        for (_, etag, _) in &seen {
            let etag = etag.clone().expect("an ETag on every answer");
            if order.last() != Some(&etag) {
                assert!(
                    !order.contains(&etag),
                    "ETag went back to {etag}: {order:?}"
                );
                order.push(etag);
            }
        }
        assert!(
            order.len() >= 2,
            "the ETag changed when day 2 landed: {order:?}"
        );
        // Day 2, once seen, stays.
        let first = seen
            .iter()
            .position(|s| s.2)
            .expect("day 2 reached this client");
        assert!(seen[first..].iter().all(|s| s.2));
    }
    assert!(
        visible <= Duration::from_millis(POLL_MS + 800),
        "day 2 visible {visible:?} after the job ended (poll {POLL_MS} ms)"
    );
    let busy = server
        .seen
        .iter()
        .chain(
            std::iter::from_fn(|| server.lines.try_recv().ok())
                .collect::<Vec<_>>()
                .iter(),
        )
        .filter(|l| l.contains("locked") || l.contains("BUSY") || l.contains("\"status\":5"))
        .count();
    assert_eq!(busy, 0);
}

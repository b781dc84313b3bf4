//! The real server over TCP (issue 16): very long URLs get the documented answer, and `serve`
//! and `demo` bind before they do anything else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

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
    let (child, lines) = spawn(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--bind",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ]);
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

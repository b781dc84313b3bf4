//! The PostgreSQL store end to end, against a real private cluster (see
//! `mozaggregator_core::testing::postgres`): concurrent jobs, two servers on one database, a
//! database that goes away and comes back, a job killed during its writes, connection errors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use mozaggregator_core::testing::postgres::{self, Cluster};

use crate::common::cli::{command, ok, s, start, succeeded};

const DAY1: &str = "20240117";
const DAY2: &str = "20240118";

/// Generated pings of one submission date, as an NDJSON file in `dir`.
fn day_file(dir: &Path, day: &str, pings: u32, seed: u32) -> PathBuf {
    let path = dir.join(format!("{day}-{pings}-{seed}.ndjson"));
    ok(&[
        "generate",
        "--pings",
        &pings.to_string(),
        "--seed",
        &seed.to_string(),
        "--submission-date",
        day,
        "--out",
        s(&path),
    ]);
    path
}

fn export(db: &str) -> Vec<u8> {
    ok(&["export", "--db", db]).stdout
}

/// A server process on a free port, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(db: &str, extra: &[&str]) -> Server {
    let mut args = vec![
        "serve",
        "--db",
        db,
        "--bind",
        "127.0.0.1:0",
        "--log-format",
        "json",
    ];
    args.extend_from_slice(extra);
    let mut child = command(&args)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        // Every line reaches the test's output once the server listens (for failures).
        let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
        for line in lines.by_ref() {
            let done = line.contains("listening");
            if tx.send(line).is_err() || done {
                break;
            }
        }
        for line in lines {
            eprintln!("server: {line}");
        }
    });
    let addr = listening(&rx);
    Server { child, addr }
}

fn listening(lines: &Receiver<String>) -> String {
    let end = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = end.checked_duration_since(Instant::now()) {
        let Ok(line) = lines.recv_timeout(left) else {
            break;
        };
        if line.contains("listening") {
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            return v["fields"]["bind"].as_str().unwrap().to_string();
        }
        seen.push(line);
    }
    panic!("the server did not listen: {seen:?}");
}

/// One GET: (status, ETag, body).
fn get(addr: &str, path: &str) -> (u16, Option<String>, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: not an HTTP response: {text:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let etag = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("etag").then(|| v.trim().to_string())
    });
    (status, etag, body.to_string())
}

/// Polls `check` every 50 ms until it holds, for at most `limit`.
fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// URLs covering every read route, on a metric, channel and version the store holds (looked
/// up through `addr`).
fn urls(addr: &str) -> Vec<String> {
    let json = |path: &str| -> serde_json::Value {
        let (status, _, body) = get(addr, path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let dates = json("/aggregates_by/submission_date/channels/nightly/dates/");
    let version = dates[0]["version"].as_str().unwrap().to_string();
    let options = json(&format!("/filters/?channel=nightly&version={version}"));
    let metric = options["metric"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .find(|m| !m.starts_with("SCALARS_") && !m.starts_with("SIMPLE_"))
        .unwrap()
        .to_string();
    let os = options["os"][0]
        .as_str()
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    let build_dates: Vec<String> = json("/aggregates_by/build_id/channels/nightly/dates/")
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["version"] == version.as_str())
        .map(|d| d["date"].as_str().unwrap().to_string())
        .collect();
    let mut urls = vec![
        "/aggregates_by/submission_date/channels/".to_string(),
        "/aggregates_by/build_id/channels/".to_string(),
        "/aggregates_by/submission_date/channels/nightly/dates/".to_string(),
    ];
    for (prefix, dates) in [
        ("submission_date", format!("{DAY1},{DAY2}")),
        ("build_id", build_dates.join(",")),
    ] {
        let base = format!(
            "/aggregates_by/{prefix}/channels/nightly/?version={version}&dates={dates}&metric={metric}"
        );
        urls.push(base.clone());
        urls.push(format!("{base}&os={os}&child=parent"));
        urls.push(format!("{base}&stats=mean,p50,p99"));
    }
    urls.push(format!("/filters/?channel=nightly&version={version}"));
    urls
}

#[test]
fn two_jobs_on_different_days_at_once_store_what_one_job_after_the_other_stores() {
    let Some(url) = postgres::database() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let days = [
        day_file(tmp.path(), DAY1, 20, 1),
        day_file(tmp.path(), DAY2, 20, 2),
    ];
    let reference = tmp.path().join("ref.sqlite");
    for day in &days {
        ok(&["aggregate", "--db", s(&reference), s(day)]);
    }
    let jobs: Vec<Child> = days
        .iter()
        .map(|day| start(&["aggregate", "--db", &url, "--threads", "1", s(day)]))
        .collect();
    for job in jobs {
        succeeded(job.wait_with_output().unwrap(), "a job");
    }
    let expected = export(s(&reference));
    assert!(expected.len() > 1000);
    assert_eq!(export(&url), expected);
    // Both days again: every target already absorbed them, nothing changes.
    for day in &days {
        ok(&["aggregate", "--db", &url, s(day)]);
    }
    assert_eq!(export(&url), expected);
}

#[test]
fn two_servers_on_one_database_agree_before_and_after_a_new_day_lands() {
    let Some(url) = postgres::database() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    ok(&[
        "aggregate",
        "--db",
        &url,
        s(&day_file(tmp.path(), DAY1, 30, 3)),
    ]);
    let poll = ["--data-version-poll-ms", "100"];
    // The second reads through a "replica" (the same database under another URL): queries go
    // there, the data version comes from --db.
    let replica = format!("{url}?application_name=replica");
    let servers = [
        serve(&url, &poll),
        serve(&url, &[poll[0], poll[1], "--db-replica", &replica]),
    ];
    let urls = urls(&servers[0].addr);
    let answers = |server: &Server| -> Vec<(u16, Option<String>, String)> {
        urls.iter().map(|u| get(&server.addr, u)).collect()
    };
    let before = answers(&servers[0]);
    assert_eq!(answers(&servers[1]), before);
    assert!(
        before.iter().all(|(status, _, _)| *status == 200),
        "{before:?}"
    );
    let etag = before[3]
        .1
        .clone()
        .expect("submission-date answers carry an ETag");

    ok(&[
        "aggregate",
        "--db",
        &url,
        s(&day_file(tmp.path(), DAY2, 30, 4)),
    ]);
    for server in &servers {
        assert!(
            eventually(Duration::from_secs(30), || get(&server.addr, &urls[3]).1
                != Some(etag.clone())),
            "the new day never reached {}",
            server.addr
        );
    }
    let after = answers(&servers[0]);
    assert_eq!(answers(&servers[1]), after);
    assert_ne!(after, before);
    assert!(after[2].2.contains(DAY2), "{}", after[2].2);
}

#[test]
fn a_server_whose_database_goes_away_answers_503_and_recovers() {
    let cluster = match Cluster::start() {
        Ok(c) => c,
        Err(reason) if std::env::var_os("CI").is_some() => panic!("{reason}"),
        Err(reason) => {
            mozaggregator_core::testing::skip(&reason);
            return;
        }
    };
    let url = cluster.create_database().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    ok(&[
        "aggregate",
        "--db",
        &url,
        s(&day_file(tmp.path(), DAY1, 10, 5)),
    ]);
    let server = serve(&url, &["--data-version-poll-ms", "0"]);
    let query = &urls(&server.addr)[3];
    assert_eq!(get(&server.addr, "/__heartbeat__").0, 200);
    assert_eq!(get(&server.addr, query).0, 200);

    cluster.pause().unwrap();
    let (status, _, body) = get(&server.addr, "/__heartbeat__");
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["checks"]["store"], "unavailable", "{body}");
    let (status, _, body) = get(&server.addr, query);
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["code"], "unavailable", "{body}");
    assert!(
        !body.contains("127.0.0.1"),
        "no database details to clients: {body}"
    );

    cluster.resume().unwrap();
    assert!(
        eventually(Duration::from_secs(30), || get(
            &server.addr,
            "/__heartbeat__"
        )
        .0 == 200),
        "the heartbeat did not come back"
    );
    let (status, _, body) = get(&server.addr, query);
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_failed_connection_is_a_clear_error_without_the_password() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://someone:s3cretpw@127.0.0.1:{port}/aggregates");
    let tmp = tempfile::tempdir().unwrap();
    let pings = day_file(tmp.path(), DAY1, 1, 6);
    for args in [
        vec!["aggregate", "--db", &url, s(&pings)],
        vec!["export", "--db", &url],
        vec!["trim", "--db", &url, "--retention-days", "10"],
        vec!["serve", "--db", &url, "--bind", "127.0.0.1:0"],
    ] {
        let out = command(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            !err.contains("s3cretpw"),
            "{args:?} echoed the password: {err}"
        );
        assert!(
            err.contains(&format!("127.0.0.1:{port}")),
            "{args:?}: {err}"
        );
        assert!(err.to_lowercase().contains("connect"), "{args:?}: {err}");
    }
    // The environment variable works the same way.
    let out = command(&["export"])
        .env("MOZAGGREGATOR_DB", &url)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("s3cretpw"), "{err}");
}

/// Export lines by table (prefix, channel, version, date).
fn by_table(export: &[u8]) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut tables: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in String::from_utf8_lossy(export).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let table = format!(
            "{} {} {} {}",
            v["prefix"], v["channel"], v["version"], v["date"]
        );
        tables.entry(table).or_default().push(line.to_string());
    }
    tables
}

#[test]
fn a_job_killed_during_its_writes_leaves_whole_batches_and_a_rerun_completes_it() {
    let Some(reference_url) = postgres::database() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // Two submission dates in one input: two batches, written one after the other.
    let days = [
        day_file(tmp.path(), DAY1, 8, 7),
        day_file(tmp.path(), DAY2, 8, 8),
    ];
    let both = tmp.path().join("both.ndjson");
    let text = days
        .iter()
        .map(|d| std::fs::read_to_string(d).unwrap())
        .collect::<String>();
    std::fs::write(&both, text).unwrap();
    let args = |url: &str| -> Vec<String> {
        ["aggregate", "--db", url, "--threads", "1", s(&both)]
            .map(String::from)
            .to_vec()
    };
    let started = Instant::now();
    let reference_args = args(&reference_url);
    ok(&reference_args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    let whole = started.elapsed();
    let expected = export(&reference_url);
    // What a store holds after exactly one of the two batches.
    let one_batch: Vec<Vec<u8>> = days
        .iter()
        .map(|day| {
            let url = postgres::database().unwrap();
            ok(&["aggregate", "--db", &url, s(day)]);
            export(&url)
        })
        .collect();

    let mut partial = 0;
    for step in 0..4u32 {
        let url = postgres::database().unwrap();
        let run_args = args(&url);
        let mut child = command(&run_args.iter().map(String::as_str).collect::<Vec<_>>())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill points spread over the second half of a whole run, where the writes are.
        std::thread::sleep(whole.mul_f64(0.4 + f64::from(step) * 0.15));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let killed = export(&url);
        if !killed.is_empty() && killed != expected {
            // A job writes one batch per (submission date, channel, version), each holding
            // its tables whole: every table the killed job left holds what one day, the
            // other or both give it, never a part of a batch.
            let left = by_table(&killed);
            let allowed: Vec<_> = one_batch
                .iter()
                .chain([&expected])
                .map(|e| by_table(e))
                .collect();
            for (table, rows) in &left {
                assert!(
                    allowed.iter().any(|a| a.get(table) == Some(rows)),
                    "kill step {step}: table {table} holds part of a batch"
                );
            }
            partial += 1;
        }
        ok(&run_args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(export(&url), expected, "kill step {step}");
    }
    assert!(
        partial > 0,
        "no kill landed between two batches: the test proves nothing"
    );
    eprintln!("{partial} of 4 kills left a partly written store");
}

#[test]
fn export_then_import_into_postgres_and_back_is_exact() {
    let Some(url) = postgres::database() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sqlite = tmp.path().join("source.sqlite");
    for (day, seed) in [(DAY1, 11), (DAY2, 12)] {
        ok(&[
            "aggregate",
            "--db",
            s(&sqlite),
            s(&day_file(tmp.path(), day, 6, seed)),
        ]);
    }
    let dump = tmp.path().join("dump.ndjson");
    ok(&[
        "export",
        "--db",
        s(&sqlite),
        "--with-absorbed",
        "--out",
        s(&dump),
    ]);
    ok(&["import", "--db", &url, s(&dump)]);
    let again = ok(&["export", "--db", &url, "--with-absorbed"]).stdout;
    assert_eq!(again, std::fs::read(&dump).unwrap());
    // And back into a new SQLite store.
    let back = tmp.path().join("back.sqlite");
    let dump2 = tmp.path().join("dump2.ndjson");
    std::fs::write(&dump2, &again).unwrap();
    ok(&["import", "--db", s(&back), s(&dump2)]);
    assert_eq!(export(s(&back)), export(s(&sqlite)));
}

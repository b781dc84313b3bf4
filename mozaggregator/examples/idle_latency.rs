//! Latency of a lone request: a dashboard sends sporadic requests, not a stream. This client
//! keeps one keep-alive HTTP/1.1 connection, sleeps `--idle-ms` between requests, and reports
//! the p50/p90/p99 time from the first byte sent to the last byte received, for each URL path
//! given, next to the same requests sent back to back (idle 0) in the same run. The paths are
//! sent round-robin (each once per round), so load bursts hit them alike; `--ratios` adds each
//! path's p50 as a ratio to the first path's; `--last-vs-sum` adds the last path's p50 as a
//! ratio to the sum of the others' (one request standing for several, such as an OR filter
//! for the one-value requests it replaces).
//!
//! ```text
//! cargo run --release -p mozaggregator --example idle_latency -- \
//!     --addr 127.0.0.1:5000 [--idle-ms 50] [--requests 200] [--ratios] [--last-vs-sum] PATH...
//! ```
//!
//! A path containing `{i}` gets the request number substituted, so that every request can be
//! distinct (e.g. to defeat a cache). `bench/analysis.sh` runs it against `mozaggregator serve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

type Error = Box<dyn std::error::Error>;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("idle_latency: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends one GET and reads the whole answer; returns (status, body bytes).
fn get(
    stream: &mut TcpStream,
    reader: &mut BufReader<TcpStream>,
    host: &str,
    path: &str,
) -> Result<(u16, usize), Error> {
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n"
    )?;
    stream.flush()?;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .ok_or("no status line")?
        .parse()?;
    let mut length = 0usize;
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok((status, length))
}

fn percentiles(mut t: Vec<f64>) -> (f64, f64, f64) {
    t.sort_by(f64::total_cmp);
    let at = |q: f64| t[((t.len() as f64 * q).ceil() as usize).clamp(1, t.len()) - 1];
    (at(0.5), at(0.9), at(0.99))
}

/// Sends every path once per round, round-robin on one connection, sleeping `idle` before
/// each request, so that load bursts on a shared machine hit every path alike; returns the
/// times of each path after 3 warm-up rounds.
fn rounds(addr: &str, paths: &[String], idle: Duration, n: usize) -> Result<Vec<Vec<f64>>, Error> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut times = vec![Vec::with_capacity(n); paths.len()];
    for i in 0..n + 3 {
        for (path, t) in paths.iter().zip(&mut times) {
            std::thread::sleep(idle);
            let p = path.replace("{i}", &i.to_string());
            let started = Instant::now();
            let (status, _) = get(&mut stream, &mut reader, addr, &p)?;
            let ms = started.elapsed().as_secs_f64() * 1e3;
            if status != 200 {
                return Err(format!("{p}: status {status}").into());
            }
            if i >= 3 {
                t.push(ms);
            }
        }
    }
    Ok(times)
}

fn run() -> Result<(), Error> {
    let mut addr = "127.0.0.1:5000".to_string();
    let mut idle_ms = 50u64;
    let mut n = 200usize;
    let mut ratios = false;
    let mut last_vs_sum = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--addr" => addr = value()?,
            "--idle-ms" => idle_ms = value()?.parse()?,
            "--requests" => n = value()?.parse()?,
            "--ratios" => ratios = true,
            "--last-vs-sum" => last_vs_sum = true,
            p => paths.push(p.to_string()),
        }
    }
    let busy = rounds(&addr, &paths, Duration::ZERO, n)?;
    let idle = rounds(&addr, &paths, Duration::from_millis(idle_ms), n)?;
    let (busy, idle): (Vec<_>, Vec<_>) = (
        busy.into_iter().map(percentiles).collect(),
        idle.into_iter().map(percentiles).collect(),
    );
    if ratios {
        println!(
            "| path | back to back p50 / p90 / p99 ms | ratio (p50) | after {idle_ms} ms idle p50 / p90 / p99 ms | ratio (p50) |"
        );
        println!("|---|---|---|---|---|");
    } else {
        println!(
            "| path | back to back p50 / p90 / p99 ms | after {idle_ms} ms idle p50 / p90 / p99 ms |"
        );
        println!("|---|---|---|");
    }
    for ((path, b), i) in paths.iter().zip(&busy).zip(&idle) {
        let cells = |(p50, p90, p99): (f64, f64, f64)| format!("{p50:.3} / {p90:.3} / {p99:.3}");
        if ratios {
            let ratio = |p50: f64, base: f64| {
                if std::ptr::eq(path, &paths[0]) {
                    "baseline".to_string()
                } else {
                    format!("{:.2}×", p50 / base)
                }
            };
            println!(
                "| `{path}` | {} | {} | {} | {} |",
                cells(*b),
                ratio(b.0, busy[0].0),
                cells(*i),
                ratio(i.0, idle[0].0)
            );
        } else {
            println!("| `{path}` | {} | {} |", cells(*b), cells(*i));
        }
    }
    // The last path's p50 over the summed p50s of the paths before it.
    let last = paths.len().saturating_sub(1);
    if last_vs_sum && last > 0 {
        let versus = |p: &[(f64, f64, f64)]| p[last].0 / p[..last].iter().map(|t| t.0).sum::<f64>();
        println!(
            "\nThe last path against the other {last} together (p50 over the sum of their p50s): \
             **{:.2}×** back to back, **{:.2}×** after {idle_ms} ms idle.",
            versus(&busy),
            versus(&idle)
        );
    }
    Ok(())
}

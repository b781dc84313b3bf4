//! Inputs: files, directories, compression, damage, and splits of the same pings that must all
//! give the same aggregates with one or two threads.

use std::path::Path;

use mozaggregator_core::ingest::{ingest, IngestOptions};
use mozaggregator_core::input::{discover, Input, ReadOptions};
use mozaggregator_core::testing::dataset;

use crate::common::{aggregate, gzip};
use mozaggregator_core::{Aggregates, Aggregator, Batch, MemoryStore, Options, Selection, Store};

fn pings() -> Vec<String> {
    // A seventh of the data set: new- and old-style pings, small enough for fast tests.
    dataset::pings("20240110")
        .unwrap()
        .into_iter()
        .step_by(7)
        .collect()
}

fn run(paths: &[&Path], threads: usize) -> Aggregates {
    let inputs = discover(paths).unwrap();
    let options = IngestOptions {
        threads,
        read: ReadOptions {
            chunk_size: 4096,
            ..ReadOptions::default()
        },
    };
    ingest(
        &inputs,
        &Aggregator::new(Options::default()),
        &options,
        None,
    )
    .unwrap()
}

fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(data, 1).unwrap()
}

/// Every stored row, in scan order, as text: what `export` prints.
fn exported(batches: &[Batch]) -> Vec<String> {
    let store = MemoryStore::new();
    for b in batches {
        store.write(b).unwrap();
    }
    let mut rows = Vec::new();
    store
        .scan(&Selection::default(), &mut |t, k, h| {
            rows.push(format!("{t:?} {k:?} {h:?}"));
            Ok(())
        })
        .unwrap();
    rows
}

#[test]
fn every_format_gives_the_in_memory_result() {
    let pings = pings();
    let expected = aggregate(&pings).batches().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ndjson = pings.join("\n") + "\n";
    let third = pings.len() / 3;
    // One third as NDJSON (gzip), one as .json files in nested directories (some zstd), one
    // as a plain .jsonl with CRLF line ends and blank lines.
    std::fs::write(
        dir.path().join("a.ndjson.gz"),
        gzip(pings[..third].join("\n").as_bytes()),
    )
    .unwrap();
    for (i, p) in pings[third..2 * third].iter().enumerate() {
        let sub = dir.path().join(format!("d{}/e{}", i % 3, i % 2));
        std::fs::create_dir_all(&sub).unwrap();
        if i % 4 == 0 {
            std::fs::write(sub.join(format!("{i}.json.zst")), zstd(p.as_bytes())).unwrap();
        } else {
            // Pretty-printed documents span lines.
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            std::fs::write(
                sub.join(format!("{i}.json")),
                serde_json::to_string_pretty(&v).unwrap(),
            )
            .unwrap();
        }
    }
    std::fs::write(
        dir.path().join("c.jsonl"),
        pings[2 * third..].join("\r\n\r\n") + "\r\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("ignored.txt"), "not pings").unwrap();
    for threads in [1, 2] {
        let a = run(&[dir.path()], threads);
        assert_eq!(a.report().pings_used as usize, pings.len());
        assert!(a.report().pings_rejected.is_empty());
        assert_eq!(a.batches().unwrap(), expected, "{threads} threads");
        assert_eq!(a.report().files_read as usize, 2 + third);
    }
    // An explicitly named file is read whatever its name (as NDJSON).
    let odd = dir.path().join("pings.log");
    std::fs::write(&odd, &ndjson).unwrap();
    let a = run(&[&odd], 1);
    assert_eq!(a.batches().unwrap(), expected);
}

#[test]
fn splits_orders_and_threads_give_identical_exports() {
    let pings = pings();
    let dir = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for parts in [1usize, 2, 7] {
        let part_dir = dir.path().join(format!("split{parts}"));
        std::fs::create_dir_all(&part_dir).unwrap();
        let per = pings.len().div_ceil(parts);
        let mut paths = Vec::new();
        for (i, chunk) in pings.chunks(per).enumerate() {
            let path = part_dir.join(format!("part{i}.ndjson"));
            std::fs::write(&path, chunk.join("\n")).unwrap();
            paths.push(path);
        }
        paths.reverse(); // any order
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        for threads in [1, 2] {
            let a = run(&refs, threads);
            assert_eq!(a.report().pings_used as usize, pings.len());
            results.push(((parts, threads), exported(&a.batches().unwrap())));
        }
    }
    let (first, rows) = &results[0];
    assert!(!rows.is_empty());
    for (case, other) in &results[1..] {
        assert!(other == rows, "{case:?} differs from {first:?}");
    }
}

#[test]
fn damaged_compressed_inputs_are_counted_and_the_job_continues() {
    let pings = pings();
    let dir = tempfile::tempdir().unwrap();
    let text = pings[..40].join("\n");
    // Truncated gzip: the whole lines before the cut are kept.
    let gz = gzip(text.as_bytes());
    std::fs::write(dir.path().join("t.ndjson.gz"), &gz[..gz.len() / 2]).unwrap();
    // Truncated zstd (zstd frames carry no checksum by default, so flipped bytes may decode
    // into garbage that is rejected line by line; a cut stream is detected).
    let zs = zstd(text.as_bytes());
    std::fs::write(dir.path().join("u.ndjson.zst"), &zs[..zs.len() * 2 / 3]).unwrap();
    // Not compressed at all, though named so.
    std::fs::write(dir.path().join("v.json.gz"), "{\"plain\": true}").unwrap();
    // A good file after the damaged ones.
    std::fs::write(dir.path().join("w.ndjson"), &text).unwrap();
    let a = run(&[dir.path()], 2);
    let r = a.report();
    assert_eq!(r.files_read, 4);
    assert_eq!(r.inputs_damaged["corrupt_gzip"], 2, "{r:?}");
    assert_eq!(r.inputs_damaged.get("corrupt_zstd"), Some(&1), "{r:?}");
    assert!(r.pings_used >= 40, "the good file aggregates: {r:?}");
    assert!(r.pings_used < 120, "the damaged parts are lost: {r:?}");
    // Nothing half-read is aggregated: every ping read was whole.
    assert!(r.pings_rejected.is_empty(), "{r:?}");
}

#[test]
fn an_unreadable_input_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.ndjson");
    assert!(discover(&[&missing]).is_err());
    // Disappearing between discovery and reading.
    let gone = dir.path().join("gone.ndjson");
    std::fs::write(&gone, "{}").unwrap();
    let inputs = vec![Input::file(&gone)];
    std::fs::remove_file(&gone).unwrap();
    let err = ingest(
        &inputs,
        &Aggregator::new(Options::default()),
        &IngestOptions::default(),
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("gone.ndjson"), "{err}");
}

#[test]
fn bad_lines_are_rejected_one_by_one() {
    let pings = pings();
    let dir = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    data.extend_from_slice(pings[0].as_bytes());
    data.extend_from_slice(b"\n{\"truncated\": \n\xff\xfe not utf-8\n[1, 2]\n");
    data.extend_from_slice(pings[1].as_bytes());
    data.extend_from_slice(b"\n");
    let path = dir.path().join("mixed.ndjson");
    std::fs::write(&path, &data).unwrap();
    let a = run(&[&path], 2);
    let r = a.report();
    assert_eq!((r.pings_read, r.pings_used), (5, 2));
    assert_eq!(r.pings_rejected["truncated_json"], 1);
    assert_eq!(r.pings_rejected["invalid_utf8"], 1);
    assert_eq!(r.pings_rejected["not_a_ping_object"], 1);
}

#[test]
fn progress_is_reported() {
    let pings = pings();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.ndjson");
    std::fs::write(&path, pings.join("\n")).unwrap();
    let calls = std::sync::Mutex::new(Vec::new());
    let record = |p: &mozaggregator_core::ingest::Progress| calls.lock().unwrap().push(*p);
    let inputs = discover(&[&path]).unwrap();
    let options = IngestOptions {
        threads: 1,
        read: ReadOptions {
            chunk_size: 4096,
            ..ReadOptions::default()
        },
    };
    let a = ingest(
        &inputs,
        &Aggregator::new(Options::default()),
        &options,
        Some(&record),
    )
    .unwrap();
    let calls = calls.into_inner().unwrap();
    assert!(calls.len() > 2);
    let last = calls.last().unwrap();
    assert_eq!(last.pings, pings.len() as u64);
    assert_eq!(last.input_bytes, last.total_bytes);
    assert_eq!(last.json_bytes, a.report().json_bytes);
    assert!(calls
        .windows(2)
        .all(|w| w[0].input_bytes <= w[1].input_bytes));
}

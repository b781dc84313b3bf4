//! The parallel aggregation job: read inputs on one thread, parse and aggregate chunks on a
//! pool of worker threads (rayon fold/reduce of partial [`Aggregates`]).
//!
//! Memory is bounded: a few chunks in flight plus one partial aggregate per worker, whose size
//! grows with the number of distinct series, not with the input.
//!
//! ```
//! use mozaggregator_core::ingest::{ingest, IngestOptions};
//! use mozaggregator_core::input::Input;
//! use mozaggregator_core::{Aggregator, Options};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("pings.ndjson");
//! # let pings = mozaggregator_core::testing::dataset::pings("20240110").unwrap();
//! # std::fs::write(&path, pings[..6].join("\n")).unwrap();
//! let aggregator = Aggregator::new(Options::default());
//! let inputs = vec![Input::file(&path)];
//! let aggregates = ingest(&inputs, &aggregator, &IngestOptions::default(), None).unwrap();
//! assert_eq!(aggregates.report().pings_used, 6);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::iter::{ParallelBridge, ParallelIterator};

use crate::aggregate::{Aggregates, Aggregator};
use crate::error::{Error, Result};
use crate::input::{read_input, BufferPool, Chunk, Input, ReadOptions};
use crate::report::Report;

/// The most worker threads [`ingest`] accepts. More threads than cores only add overhead (each
/// holds partial aggregates and buffers, and merging them at the end is serial per shard):
/// `threads 2000` on a 4-ping file took 33 s and `9999` did not finish.
pub const MAX_THREADS: usize = 256;

/// Checks a worker-thread count: `0` (one per core) up to [`MAX_THREADS`].
///
/// # Errors
/// [`Error::Invalid`] above [`MAX_THREADS`], saying how many cores the machine has.
pub fn check_threads(threads: usize) -> Result<()> {
    if threads <= MAX_THREADS {
        return Ok(());
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Err(Error::invalid(
        "threads",
        format!(
            "{threads} worker threads is more than the {MAX_THREADS} allowed (this machine has \
             {cores} cores; 0 uses one thread per core)"
        ),
    ))
}

/// Options of [`ingest`].
#[derive(Clone, Debug, Default)]
pub struct IngestOptions {
    /// Worker threads that parse and aggregate (`0`: one per core; at most [`MAX_THREADS`]).
    /// Input is read on one more thread.
    pub threads: usize,
    /// Chunking of the input.
    pub read: ReadOptions,
}

/// A snapshot of a running job, for progress displays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Bytes read from storage so far (compressed size for compressed inputs).
    pub input_bytes: u64,
    /// Total size of the inputs when known (0 for stdin).
    pub total_bytes: u64,
    /// Documents parsed so far.
    pub pings: u64,
    /// JSON bytes parsed so far.
    pub json_bytes: u64,
    /// Time since the job started.
    pub elapsed: Duration,
}

/// Aggregates every document of `inputs` with copies of `aggregator`, on
/// `options.threads` workers. The report of the result covers the whole job (inputs read,
/// damage, wall time, throughput). `progress` is called from the reading thread after each
/// chunk.
///
/// # Errors
/// [`Error::Io`] when an input cannot be opened or read (the job stops); [`Error::Invalid`] for
/// more than [`MAX_THREADS`] threads; an error building the thread pool.
pub fn ingest(
    inputs: &[Input],
    aggregator: &Aggregator,
    options: &IngestOptions,
    progress: Option<&(dyn Fn(&Progress) + Sync)>,
) -> Result<Aggregates> {
    check_threads(options.threads)?;
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .thread_name(|i| format!("aggregate-{i}"))
        .build()
        .map_err(|e| Error::invalid("threads", e.to_string()))?;
    let workers = pool.current_num_threads();
    let (tx, rx) = sync_channel::<Chunk>(2 * workers);
    let input_bytes = Arc::new(AtomicU64::new(0));
    let pings = AtomicU64::new(0);
    let json_bytes = AtomicU64::new(0);
    let buffers = BufferPool::new();
    let total_bytes: u64 = inputs.iter().filter_map(|i| i.size).sum();

    let snapshot = || Progress {
        input_bytes: input_bytes.load(Ordering::Relaxed),
        total_bytes,
        pings: pings.load(Ordering::Relaxed),
        json_bytes: json_bytes.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    };
    let (read, mut aggregates) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let tx = tx;
            let mut report = Report::default();
            let reading = Instant::now();
            // Time blocked handing chunks to busy workers: not reading.
            let mut waited = Duration::ZERO;
            for input in inputs {
                let mut stopped = false;
                read_input(
                    input,
                    &options.read,
                    &buffers,
                    &input_bytes,
                    &mut report,
                    &mut |chunk| {
                        let sending = Instant::now();
                        let sent = tx.send(chunk);
                        waited += sending.elapsed();
                        if sent.is_err() {
                            stopped = true;
                            return false;
                        }
                        if let Some(progress) = progress {
                            progress(&snapshot());
                        }
                        true
                    },
                )?;
                if stopped {
                    break;
                }
            }
            report.read_seconds = reading.elapsed().saturating_sub(waited).as_secs_f64();
            Ok::<Report, Error>(report)
        });
        let aggregates: Vec<Aggregates> = pool.install(|| {
            rx.into_iter()
                .par_bridge()
                .fold(
                    || (aggregator.clone(), Aggregates::new()),
                    |(mut aggregator, mut out), chunk| {
                        let before = (out.report.pings_read, out.report.json_bytes);
                        for doc in chunk.documents() {
                            aggregator.add_json(&mut out, doc);
                        }
                        buffers.put(chunk.data);
                        pings.fetch_add(out.report.pings_read - before.0, Ordering::Relaxed);
                        json_bytes.fetch_add(out.report.json_bytes - before.1, Ordering::Relaxed);
                        (aggregator, out)
                    },
                )
                .map(|(_, out)| out)
                .collect::<Vec<Aggregates>>()
        });
        let aggregated = started.elapsed();
        // One partial aggregate per worker, merged in parallel shards.
        let merging = Instant::now();
        let mut aggregates = pool.install(|| Aggregates::merge_all(aggregates));
        aggregates.report.aggregate_seconds = aggregated.as_secs_f64();
        aggregates.report.merge_seconds = merging.elapsed().as_secs_f64();
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(Error::invalid("input", "the reading thread panicked")));
        (read, aggregates)
    });
    aggregates.report.merge(&read?);
    let seconds = started.elapsed().as_secs_f64();
    aggregates.report.set_seconds(seconds);
    if let Some(progress) = progress {
        progress(&snapshot());
    }
    Ok(aggregates)
}

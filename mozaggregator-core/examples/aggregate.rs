//! Aggregating pings with the core crate alone: read a file of pings, aggregate two halves
//! separately (as two machines or threads would), merge the partial aggregates, and write them
//! to a SQLite store.
//!
//! ```text
//! cargo run --release --example aggregate -- PINGS.ndjson STORE.sqlite [SUBMISSION_DATE]
//! cargo run --release --example aggregate          # generates 50 pings in a temp directory
//! ```

use std::path::PathBuf;

use mozaggregator_core::generate::{GenerateOptions, Generator};
use mozaggregator_core::{Aggregates, Aggregator, Options, Prefix, SqliteStore, Store};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (pings_path, store_path, submission_date) = match args.as_slice() {
        [pings, store, rest @ ..] => (
            PathBuf::from(pings),
            PathBuf::from(store),
            rest.first().map(|d| d.parse()).transpose()?,
        ),
        _ => {
            // No arguments: make a small file of synthetic pings to aggregate.
            let dir =
                std::env::temp_dir().join(format!("mozaggregator-example-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("pings.ndjson");
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            Generator::new(GenerateOptions {
                seed: 1,
                submission_date: Some("20240115".parse()?),
                ..GenerateOptions::default()
            })?
            .write_ndjson(50, &mut file)?;
            drop(file);
            (path, dir.join("aggregates.sqlite"), None)
        }
    };

    // One ping per line.
    let text = std::fs::read(&pings_path)?;
    let lines: Vec<&[u8]> = text
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let (first, second) = lines.split_at(lines.len() / 2);

    // The rules (SPEC §2) with their options; one aggregator per thread or machine.
    let aggregator = Aggregator::new(Options {
        submission_date,
        ..Options::default()
    });
    let partial = |part: &[&[u8]]| {
        let mut aggregator = aggregator.clone();
        let mut out = Aggregates::new();
        for ping in part {
            aggregator.add_json(&mut out, ping);
        }
        out
    };
    let mut a = partial(first);
    let b = partial(second);
    // Partial aggregates travel as bytes (e.g. between Spark workers) and merge in any order.
    let b = Aggregates::from_bytes(&b.to_bytes())?;
    a.merge(b);

    // One batch per submission date, both families; the store merges and stays idempotent.
    let store = SqliteStore::open(&store_path)?;
    for batch in a.batches()? {
        let written = store.write(&batch)?;
        a.report_mut().add_write(&written);
    }
    eprint!("{}", a.report());
    println!(
        "{} build-id aggregates, {} submission-date aggregates in {}",
        a.len(),
        a.submission_date_len(),
        store_path.display()
    );
    println!(
        "channels by build id: {:?}",
        store.channels(Prefix::BuildId)?
    );
    Ok(())
}

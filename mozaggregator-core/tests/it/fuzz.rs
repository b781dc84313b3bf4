//! Property-based fuzzing, seeded and bounded (issue 13): the ping parser on mutated pings
//! (truncated, bytes flipped, numbers replaced by huge, negative or NaN-like values) never
//! panics and counts every ping exactly once; the aggregate codec on arbitrary bytes is an
//! error, never a panic; the query-parameter parser on arbitrary pairs is a clear error or a
//! request, never a panic.

use std::sync::OnceLock;

use mozaggregator_core::analysis::MetricRequest;
use mozaggregator_core::params::{Accepts, ParsedParams};
use mozaggregator_core::testing::{dataset, shared_data};
use mozaggregator_core::{Aggregates, Aggregator, Options, PingReject, Prefix};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The seed pings: generated ones (always there) and the real ones of `../shared/data` when
/// present (the test says when they are not).
fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mut out: Vec<Vec<u8>> = dataset::pings("20240110")
            .unwrap()
            .into_iter()
            .take(6)
            .map(String::into_bytes)
            .collect();
        if let Some(dir) = shared_data() {
            let mut files: Vec<_> = std::fs::read_dir(dir.join("pings"))
                .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
                .unwrap_or_default();
            files.sort();
            out.extend(files.iter().filter_map(|p| std::fs::read(p).ok()));
        }
        out
    })
}

/// A deterministic runner: the same cases on every run, bounded in number.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[42; 32]),
    )
}

/// What a mutation does to a ping's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    /// Replace the n-th number of the document.
    Number(usize, &'static str),
    Delete(usize, usize),
}

const NUMBERS: [&str; 10] = [
    "18446744073709551616",
    "-1",
    "-9223372036854775809",
    "1e400",
    "-0",
    "1.5",
    "NaN",
    "Infinity",
    "99999999999999999999999999999",
    "0.0000001",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        (any::<usize>(), prop::sample::select(&NUMBERS[..]))
            .prop_map(|(i, n)| Mutation::Number(i, n)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(ping: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = ping.to_vec();
    for m in mutations {
        if out.is_empty() {
            break;
        }
        match *m {
            Mutation::Truncate(at) => out.truncate(at % out.len()),
            Mutation::Flip(at, b) => {
                let i = at % out.len();
                out[i] = b;
            }
            Mutation::Delete(at, n) => {
                let i = at % out.len();
                out.drain(i..(i + n).min(out.len()));
            }
            Mutation::Number(which, number) => {
                let starts: Vec<usize> = (0..out.len())
                    .filter(|&i| {
                        out[i].is_ascii_digit() && (i == 0 || !out[i - 1].is_ascii_alphanumeric())
                    })
                    .collect();
                if starts.is_empty() {
                    continue;
                }
                let start = starts[which % starts.len()];
                let end = (start..out.len())
                    .find(|&j| !matches!(out[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'-' | b'+'))
                    .unwrap_or(out.len());
                out.splice(start..end, number.bytes());
            }
        }
    }
    out
}

/// One document aggregated alone, with the default options.
fn aggregated(ping: &[u8]) -> Aggregates {
    let mut out = Aggregates::new();
    Aggregator::new(Options::default()).add_json(&mut out, ping);
    out
}

#[test]
fn mutated_pings_never_panic_and_every_ping_is_counted_once() {
    let seeds = seeds();
    if shared_data().is_none() {
        mozaggregator_core::testing::skip("real pings absent: fuzzing the generated pings only");
    }
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..4));
    let (used, rejected) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    runner(600)
        .run(&strategy, |(seed, mutations)| {
            let ping = apply(&seeds[seed], &mutations);
            let out = aggregated(&ping);
            let r = out.report();
            prop_assert_eq!(r.pings_read, 1);
            prop_assert_eq!(r.pings_used + r.pings_rejected_total(), 1);
            used.set(used.get() + u32::try_from(r.pings_used).unwrap());
            rejected.set(rejected.get() + u32::try_from(r.pings_rejected_total()).unwrap());
            // Whatever was kept can be turned into batches and round-trips the codec.
            prop_assert!(out.batches().is_ok());
            let back = Aggregates::from_bytes(&out.to_bytes()).unwrap();
            prop_assert_eq!(back.batches().unwrap(), out.batches().unwrap());
            Ok(())
        })
        .unwrap();
    // The mutations reach both outcomes: the parser is exercised, not only its first check.
    assert!(
        used.get() >= 10 && rejected.get() >= 100,
        "{used:?} used, {rejected:?} rejected"
    );
}

/// The reasons that say a document is not JSON text.
const MALFORMED: [PingReject; 4] = [
    PingReject::InvalidUtf8,
    PingReject::InvalidJson,
    PingReject::TruncatedJson,
    PingReject::TooDeeplyNested,
];

/// Differential (issue 14): on corrupted pings, the ping parser agrees with `serde_json` on
/// what is JSON text (RFC 8259: UTF-8, and the grammar, which `serde_json` checks when it skips
/// a document as `IgnoredAny`). Text that is not JSON is rejected for one of [`MALFORMED`] (or
/// for `number_out_of_range`, when such a number came first); JSON text never is: it is used,
/// or rejected for what it says. (A number beyond f64 is JSON; in a field the ping parser
/// reads, it is a `number_out_of_range` reject, not a malformed document.)
#[test]
fn corrupted_pings_are_malformed_exactly_when_serde_json_says_so() {
    let seeds = seeds();
    if shared_data().is_none() {
        mozaggregator_core::testing::skip(
            "real pings absent: differential on generated pings only",
        );
    }
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..4));
    let (malformed, json) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    runner(600)
        .run(&strategy, |(seed, mutations)| {
            let ping = apply(&seeds[seed], &mutations);
            let out = aggregated(&ping);
            let rejected = &out.report().pings_rejected;
            let counted = |reason: PingReject| rejected.get(reason.name()).is_some_and(|&n| n > 0);
            let rejected_as_malformed = MALFORMED.into_iter().any(counted);
            let utf8 = std::str::from_utf8(&ping).is_ok();
            let parsed = serde_json::from_slice::<serde::de::IgnoredAny>(&ping);
            let is_json = utf8 && parsed.is_ok();
            prop_assert!(
                if is_json {
                    !rejected_as_malformed
                } else {
                    rejected_as_malformed || counted(PingReject::NumberOutOfRange)
                },
                "JSON text: {} (UTF-8: {}, serde_json: {:?}); report: {:?}",
                is_json,
                utf8,
                parsed.as_ref().err().map(ToString::to_string),
                rejected
            );
            let n = if is_json { &json } else { &malformed };
            n.set(n.get() + 1);
            Ok(())
        })
        .unwrap();
    // Both sides are reached.
    assert!(
        malformed.get() >= 100 && json.get() >= 10,
        "{malformed:?} not JSON, {json:?} JSON"
    );
}

#[test]
fn the_aggregate_codec_refuses_arbitrary_bytes_without_panicking() {
    // Real encodings, damaged, and plain noise.
    let mut aggregator = Aggregator::new(Options::default());
    let mut a = Aggregates::new();
    for ping in seeds() {
        aggregator.add_json(&mut a, ping);
    }
    let good = a.to_bytes();
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        (any::<usize>(), any::<u8>(), any::<usize>()).prop_map(move |(at, b, cut)| {
            let mut bytes = good.clone();
            let i = at % bytes.len();
            bytes[i] ^= b | 1;
            bytes.truncate(cut % (bytes.len() + 1));
            bytes
        }),
    ];
    runner(600)
        .run(&strategy, |bytes| {
            // An error or a valid aggregate; never a panic.
            if let Ok(decoded) = Aggregates::from_bytes(&bytes) {
                prop_assert!(decoded.batches().is_ok());
            }
            Ok(())
        })
        .unwrap();
}

/// Parameter names the metric routes know, plus unknown ones.
const NAMES: [&str; 16] = [
    "version",
    "dates",
    "metric",
    "os",
    "osVersion",
    "application",
    "architecture",
    "child",
    "label",
    "stats",
    "pct_method",
    "group_by",
    "top",
    "channel",
    "x",
    "",
];

const VALUES: [&str; 16] = [
    "",
    "41",
    "20150601",
    "20150601..20150603",
    "20150603..20150601",
    "20150231",
    "GC_MS",
    "p50",
    "p101",
    "mean,p99.9",
    "p",
    "tmo",
    "os",
    "-1",
    "99999999999999999999",
    "\u{0}",
];

#[test]
fn arbitrary_query_parameters_are_an_error_or_a_request_never_a_panic() {
    let pair = (
        prop_oneof![
            prop::sample::select(&NAMES[..]).prop_map(String::from),
            ".{0,12}"
        ],
        prop_oneof![
            prop::sample::select(&VALUES[..]).prop_map(String::from),
            ".{0,24}"
        ],
    );
    let strategy = prop::collection::vec(pair, 0..10);
    runner(800)
        .run(&strategy, |pairs| {
            let parsed = ParsedParams::from_pairs(
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                Accepts::METRIC,
            );
            if let Ok(parsed) = parsed {
                // Building the request validates the rest; both outcomes are fine.
                let _ = MetricRequest::from_params(&parsed.params, Prefix::BuildId, "nightly");
            }
            Ok(())
        })
        .unwrap();
}

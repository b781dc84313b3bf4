//! Partial aggregates with replicate groups: any split of the input, merged in any order (one
//! by one or in parallel, through the byte form or not), gives the same batches, groups
//! included, with `Aggregates::new()` the identity; parts made with different R refuse to
//! build batches; the byte form keeps R and the groups, and rejects groups it cannot hold.

use mozaggregator_core::{Aggregates, Error, MemoryStore, Store};
use proptest::prelude::*;

use crate::ingest_replicates::{aggregate_with, ping};

/// A ping of the strategy: its sample id and client id (raw JSON or absent), architecture and
/// uptime.
fn pings() -> impl Strategy<Value = Vec<String>> {
    let sample = prop_oneof![
        Just(None),
        (0u8..100).prop_map(|s| Some(s.to_string())),
        Just(Some("-4".to_string())),
        Just(Some("12.0".to_string())),
        Just(Some("0.5".to_string())),
    ];
    let client = prop_oneof![
        Just(None),
        Just(Some(r#""""#.to_string())),
        "[a-f0-9]{1,8}".prop_map(|c| Some(format!("\"{c}\""))),
    ];
    let one = (sample, client, 0u8..3, 0u16..500).prop_map(|(s, c, arch, uptime)| {
        ping(s.as_deref(), c.as_deref(), &format!("arch-{arch}"))
            .replace("\"uptime\": 42", &format!("\"uptime\": {uptime}"))
    });
    prop::collection::vec(one, 0..24)
}

fn batches(a: &Aggregates) -> Vec<mozaggregator_core::Batch> {
    a.batches().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Cutting the pings anywhere, aggregating the parts apart and merging them in a
    /// scrambled order gives the batches (and groups, and report) of one pass.
    #[test]
    fn any_split_merges_to_the_same_batches_and_groups(
        pings in pings(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..5),
        order in any::<u64>(),
        r in prop::sample::select(vec![2u32, 5, 20, 100]),
    ) {
        let whole = aggregate_with(Some(r), &pings);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(pings.len() + 1)).collect();
        points.extend([0, pings.len()]);
        points.sort_unstable();
        points.dedup();
        let mut parts: Vec<Aggregates> = points
            .windows(2)
            .map(|w| aggregate_with(Some(r), &pings[w[0]..w[1]]))
            .collect();
        let n = parts.len().max(1);
        parts.rotate_left((order as usize) % n);
        if order % 2 == 1 {
            parts.reverse();
        }
        // One by one, every other part through the byte form.
        let mut merged = Aggregates::new();
        for (i, part) in parts.iter().enumerate() {
            let part = if i % 2 == 0 {
                Aggregates::from_bytes(&part.to_bytes()).unwrap()
            } else {
                part.clone()
            };
            merged.merge(part);
        }
        prop_assert_eq!(batches(&merged), batches(&whole));
        prop_assert_eq!(merged.report(), whole.report());
        prop_assert_eq!(merged.replicates().unwrap(), whole.replicates().unwrap());
        // In parallel.
        let all = Aggregates::merge_all(parts);
        prop_assert_eq!(batches(&all), batches(&whole));
        prop_assert_eq!(all.report(), whole.report());
    }

    /// `Aggregates::new()` is the identity on both sides, R included (which an aggregate has
    /// once its aggregator read a document).
    #[test]
    fn the_empty_aggregate_is_the_identity(pings in pings()) {
        let whole = aggregate_with(Some(20), &pings);
        let mut left = Aggregates::new();
        left.merge(whole.clone());
        let mut right = whole.clone();
        right.merge(Aggregates::new());
        let all = Aggregates::merge_all(vec![Aggregates::new(), whole.clone(), Aggregates::new()]);
        for a in [&left, &right, &all] {
            prop_assert_eq!(batches(a), batches(&whole));
            prop_assert_eq!(a.report(), whole.report());
            prop_assert_eq!(a.replicates().unwrap(), whole.replicates().unwrap());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// A part aggregated without replicate groups, merged with parts aggregated with them (in
    /// any order, one by one or all at once, through the byte form or not): its pings are in
    /// no group, and say so in `pings_without_replicate_group`; the groups are those of the
    /// parts that have them.
    #[test]
    fn pings_of_a_part_without_groups_are_counted_as_in_no_group(
        with in pings(),
        without in pings(),
        more in pings(),
        order in any::<u64>(),
    ) {
        let r = 20;
        let parts = || vec![
            aggregate_with(Some(r), &with),
            aggregate_with(None, &without),
            aggregate_with(Some(r), &more),
        ];
        let grouped: Vec<String> = with.iter().chain(&more).cloned().collect();
        let expected_groups = aggregate_with(Some(r), &grouped);
        // Parts made with replicates but from no ping carry no R: without a grouped ping, the
        // merge has no groups, and no ping is counted as outside them.
        let unsplit = if grouped.is_empty() {
            0
        } else {
            aggregate_with(None, &without).report().pings_used
        };
        let expected = expected_groups.report().pings_without_replicate_group + unsplit;
        let mut scrambled = parts();
        scrambled.rotate_left((order % 3) as usize);
        if order % 2 == 1 {
            scrambled.reverse();
        }
        let mut one_by_one = Aggregates::new();
        for part in scrambled {
            let part = if order % 4 < 2 { part } else { Aggregates::from_bytes(&part.to_bytes()).unwrap() };
            one_by_one.merge(part);
        }
        let all_at_once = Aggregates::merge_all(parts());
        for merged in [&one_by_one, &all_at_once] {
            prop_assert_eq!(merged.report().pings_without_replicate_group, expected);
            let groups = |a: &Aggregates| a.batches().unwrap().into_iter().map(|b| b.replicates).collect::<Vec<_>>();
            if !grouped.is_empty() {
                prop_assert_eq!(merged.replicates().unwrap().map(|c| c.get()), Some(20));
            }
            // The groups hold the grouped parts' pings only.
            let merged_groups: Vec<_> = groups(merged).into_iter().flatten().collect();
            let expected_groups: Vec<_> = groups(&expected_groups).into_iter().flatten().collect();
            prop_assert_eq!(merged_groups.len() <= 1, expected_groups.len() <= 1);
            if let (Some(a), Some(b)) = (merged_groups.first(), expected_groups.first()) {
                prop_assert_eq!(&a.groups, &b.groups);
            }
        }
    }
}

fn is_replicates_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Invalid {
            what: "replicates",
            ..
        }
    )
}

#[test]
fn parts_with_different_replicate_counts_refuse_to_build_batches() {
    let pings: Vec<String> = (0..6)
        .map(|i| ping(Some(&i.to_string()), None, "x"))
        .collect();
    let a = aggregate_with(Some(20), &pings[..3]);
    let b = aggregate_with(Some(10), &pings[3..]);
    let plain = aggregate_with(None, &pings[3..]);
    // Without replicates and with R: R.
    let mut ok = a.clone();
    ok.merge(plain);
    assert_eq!(ok.replicates().unwrap().map(|r| r.get()), Some(20));
    assert!(ok.batches().is_ok());

    let mut mixed = a.clone();
    mixed.merge(b.clone());
    let parallel = Aggregates::merge_all(vec![b, Aggregates::new(), a]);
    // Through the byte form too.
    let decoded = Aggregates::from_bytes(&mixed.to_bytes()).unwrap();
    for m in [&mixed, &parallel, &decoded] {
        let e = m.replicates().unwrap_err();
        assert!(is_replicates_error(&e), "{e:?}");
        assert!(e.to_string().contains("10 and 20"), "{e}");
        let e = m.batches().unwrap_err();
        assert!(is_replicates_error(&e), "{e:?}");
        let date = m.submission_dates().unwrap()[0];
        assert!(m.batch(date).is_err());
        assert!(m.batch_part(date, "nightly", "120").is_err());
        assert!(m.batch_part(date, "esr", "1").is_err());
        // Nothing is written.
        let store = MemoryStore::new();
        let e = m.clone().write_to(&store, |_| {}).unwrap_err();
        assert!(is_replicates_error(&e), "{e:?}");
        assert!(store
            .channels(mozaggregator_core::Prefix::BuildId)
            .unwrap()
            .is_empty());
    }
}

#[test]
fn the_byte_form_keeps_the_groups() {
    let pings: Vec<String> = (0..30)
        .map(|i| {
            ping(
                Some(&(i * 7 % 100).to_string()),
                None,
                &format!("a{}", i % 4),
            )
        })
        .collect();
    let a = aggregate_with(Some(25), &pings);
    let back = Aggregates::from_bytes(&a.to_bytes()).unwrap();
    assert_eq!(back.replicates().unwrap().map(|r| r.get()), Some(25));
    assert_eq!(batches(&back), batches(&a));
    assert_eq!(back.report(), a.report());
    assert_eq!(back.to_bytes().len(), a.to_bytes().len());
    let off = aggregate_with(None, &pings);
    let back = Aggregates::from_bytes(&off.to_bytes()).unwrap();
    assert!(matches!(back.replicates(), Ok(None)));
    assert_eq!(batches(&back), batches(&off));
}

/// The byte form of one aggregate of 2024-01-02 without series, with the given replicate
/// counts and the given `replicate` field, version 2 (`v1`: version 1, without either).
fn bytes(counts: (u8, u8), groups: &[u8], v1: bool) -> Vec<u8> {
    let mut out = b"MZAG".to_vec();
    out.push(if v1 { 1 } else { 2 });
    if !v1 {
        out.extend([counts.0, counts.1]);
    }
    // Strings: "" (always id 0) and the date.
    out.extend([2, 0, 8]);
    out.extend(b"20240102");
    out.push(groups.len() as u8);
    for &g in groups {
        if !v1 {
            out.push(g);
        }
        // submission date, channel, version, build id, application, architecture, os, os
        // version; no series.
        out.extend([1, 0, 0, 1, 0, 0, 0, 0, 0]);
    }
    out.extend([2, b'{', b'}']);
    out
}

fn parse_error(bytes: &[u8]) -> String {
    match Aggregates::from_bytes(bytes) {
        Err(e @ Error::Parse { .. }) => e.to_string(),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn the_byte_form_is_validated() {
    // Valid: a normal aggregate and its group 1 of 2; version 1 without groups.
    let a = Aggregates::from_bytes(&bytes((2, 2), &[0, 2], false)).unwrap();
    assert_eq!(a.replicates().unwrap().map(|r| r.get()), Some(2));
    assert_eq!(a.len(), 1);
    let batch = &a.batches().unwrap()[0];
    let groups = &batch.replicates.as_ref().unwrap().groups;
    assert!(groups[0].is_empty() && !groups[1].is_empty());
    let a = Aggregates::from_bytes(&bytes((0, 0), &[0], true)).unwrap();
    assert!(matches!(a.replicates(), Ok(None)));
    assert_eq!(a.batches().unwrap()[0].replicates, None);

    // A group index at or beyond R, or a group without replicates.
    assert!(parse_error(&bytes((2, 2), &[0, 3], false)).contains("replicate group 2 of 2"));
    assert!(parse_error(&bytes((0, 0), &[0, 1], false)).contains("replicate group 0 of 0"));
    assert!(parse_error(&bytes((2, 2), &[0, 100], false)).contains("replicate group"));
    // A group without its normal aggregate.
    assert!(parse_error(&bytes((2, 2), &[2], false)).contains("without its normal aggregate"));
    // Counts that are not divisors of 100, or out of order, or one of two missing.
    assert!(parse_error(&bytes((3, 3), &[0], false)).contains("not a divisor of 100"));
    assert!(parse_error(&bytes((20, 10), &[0], false)).contains("out of order"));
    assert!(parse_error(&bytes((0, 10), &[0], false)).contains("out of order"));
    // Version 4 is unknown; a duplicate group is refused as before.
    let mut v4 = bytes((0, 0), &[0], false);
    v4[4] = 4;
    assert!(parse_error(&v4).contains("unsupported version 4"));
    assert!(parse_error(&bytes((2, 2), &[0, 1, 1], false)).contains("duplicate group"));
}

//! Algebraic properties of histograms and completion (docs/ingest.md, "Aggregates and merging" and "One histogram"), by property testing:
//! merge is associative and commutative with the empty histogram as identity, conserves sum,
//! count and samples; any split of a list of histograms merges to the same result; completion
//! never invents samples.

use mozaggregator_core::{complete, BucketLayout, Histogram, LayoutSpec};
use proptest::prelude::*;

/// A few layouts of different kinds and sizes.
fn layouts() -> Vec<LayoutSpec> {
    vec![
        LayoutSpec::boolean(),
        LayoutSpec::scalar(),
        LayoutSpec::exponential(1, 1000, 12).unwrap(),
        LayoutSpec::linear(5, 100, 8).unwrap(),
        LayoutSpec::enumerated(4).unwrap(),
        LayoutSpec::categorical(6).unwrap(),
    ]
}

/// A histogram over `spec` with values small enough that sums of a few dozen never overflow.
fn histogram(spec: LayoutSpec) -> impl Strategy<Value = Histogram> {
    (
        prop::collection::vec(0u64..1_000_000, spec.len()),
        0u64..1 << 40,
        0u64..1000,
    )
        .prop_map(move |(counts, sum, count)| {
            Histogram::from_parts(spec, counts, sum, count).unwrap()
        })
}

/// A layout and `n` histograms over it.
fn histograms(n: std::ops::Range<usize>) -> impl Strategy<Value = (LayoutSpec, Vec<Histogram>)> {
    prop::sample::select(layouts()).prop_flat_map(move |spec| {
        (
            Just(spec),
            prop::collection::vec(histogram(spec), n.clone()),
        )
    })
}

fn merged(a: &Histogram, b: &Histogram) -> Histogram {
    let mut out = a.clone();
    out.merge(b).unwrap();
    out
}

fn merge_all(spec: LayoutSpec, hs: &[Histogram]) -> Histogram {
    hs.iter()
        .fold(Histogram::empty(spec), |acc, h| merged(&acc, h))
}

proptest! {
    #[test]
    fn merge_is_commutative((_, hs) in histograms(2..3)) {
        prop_assert_eq!(merged(&hs[0], &hs[1]), merged(&hs[1], &hs[0]));
    }

    #[test]
    fn merge_is_associative((_, hs) in histograms(3..4)) {
        let (a, b, c) = (&hs[0], &hs[1], &hs[2]);
        prop_assert_eq!(merged(&merged(a, b), c), merged(a, &merged(b, c)));
    }

    #[test]
    fn empty_is_the_identity((spec, hs) in histograms(1..2)) {
        let empty = Histogram::empty(spec);
        prop_assert!(empty.is_empty());
        prop_assert_eq!(&merged(&hs[0], &empty), &hs[0]);
        prop_assert_eq!(&merged(&empty, &hs[0]), &hs[0]);
    }

    #[test]
    fn merge_conserves_sum_count_and_samples((spec, hs) in histograms(0..12)) {
        let all = merge_all(spec, &hs);
        prop_assert_eq!(all.sum(), hs.iter().map(Histogram::sum).sum::<u64>());
        prop_assert_eq!(all.count(), hs.iter().map(Histogram::count).sum::<u64>());
        prop_assert_eq!(all.samples(), hs.iter().map(Histogram::samples).sum::<u64>());
        for (i, total) in all.counts().iter().enumerate() {
            prop_assert_eq!(*total, hs.iter().map(|h| h.counts()[i]).sum::<u64>());
        }
    }

    /// Cutting the list anywhere, in any order of parts, and merging the partial merges gives
    /// the same result as merging everything in one pass.
    #[test]
    fn any_split_merges_to_the_same_result(
        (spec, hs) in histograms(0..16),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        order in any::<u64>(),
    ) {
        let whole = merge_all(spec, &hs);
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(hs.len() + 1)).collect();
        points.extend([0, hs.len()]);
        points.sort_unstable();
        points.dedup();
        let mut partials: Vec<Histogram> = points
            .windows(2)
            .map(|w| merge_all(spec, &hs[w[0]..w[1]]))
            .collect();
        // Merge the partials in a scrambled order.
        let n = partials.len().max(1);
        partials.rotate_left((order as usize) % n);
        if order % 2 == 1 {
            partials.reverse();
        }
        prop_assert_eq!(merge_all(spec, &partials), whole);
    }

    #[test]
    fn merging_different_layouts_fails_and_changes_nothing((_, hs) in histograms(1..2)) {
        let other = if hs[0].layout() == LayoutSpec::boolean() {
            LayoutSpec::flag()
        } else {
            LayoutSpec::boolean()
        };
        let mut a = hs[0].clone();
        prop_assert!(a.merge(&Histogram::empty(other)).is_err());
        prop_assert_eq!(&a, &hs[0]);
    }

    /// Completion places or counts every sample: placed + unplaced == input total, and the
    /// unparsable keys are counted.
    #[test]
    fn completion_never_invents_samples(
        spec in prop::sample::select(layouts()),
        labels in prop::collection::vec("[a-z]{1,5}", 0..4),
        entries in prop::collection::vec((key(), 0u64..1_000_000), 0..40),
    ) {
        let layout = if spec.kind() == mozaggregator_core::Kind::Categorical && !labels.is_empty() {
            BucketLayout::categorical(labels, None).unwrap()
        } else {
            BucketLayout::new(spec)
        };
        let c = complete(entries.iter().map(|(k, v)| (k.as_str(), *v)), &layout);
        let input: u64 = entries.iter().map(|(_, v)| v).sum();
        let placed: u64 = c.counts.iter().sum();
        prop_assert_eq!(placed + c.unplaced, input);
        let bad = entries.iter().filter(|(k, _)| mozaggregator_core::completion::parse_key(k).is_none()).count();
        prop_assert_eq!(c.bad_keys, bad as u64);
        let expected_len = if layout.labels().is_empty() { layout.bounds().len() } else { layout.labels().len() + 1 };
        prop_assert_eq!(c.counts.len(), expected_len);
    }

    /// Completing the entries of two pings and adding the dense counts is the same as completing
    /// both pings' entries together: duplicate keys add up.
    #[test]
    fn completion_is_additive(
        spec in prop::sample::select(layouts()),
        a in prop::collection::vec((key(), 0u64..1_000_000), 0..20),
        b in prop::collection::vec((key(), 0u64..1_000_000), 0..20),
    ) {
        let layout = BucketLayout::new(spec);
        let ca = complete(a.iter().map(|(k, v)| (k.as_str(), *v)), &layout);
        let cb = complete(b.iter().map(|(k, v)| (k.as_str(), *v)), &layout);
        let both = complete(a.iter().chain(&b).map(|(k, v)| (k.as_str(), *v)), &layout);
        let summed: Vec<u64> = ca.counts.iter().zip(&cb.counts).map(|(x, y)| x + y).collect();
        prop_assert_eq!(both.counts, summed);
        prop_assert_eq!(both.unplaced, ca.unplaced + cb.unplaced);
    }
}

/// Bucket keys as pings write them: small integers (often bounds), leading zeros, negatives,
/// huge numbers, floats and garbage.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (0u64..120).prop_map(|v| v.to_string()),
        1 => (0u64..120).prop_map(|v| format!("00{v}")),
        1 => (1u64..50).prop_map(|v| format!("-{v}")),
        1 => any::<u64>().prop_map(|v| v.to_string()),
        1 => Just("99999999999999999999999".to_string()),
        1 => Just("3.0683611344442837e+257".to_string()),
        1 => "[a-z ]{0,4}",
    ]
}

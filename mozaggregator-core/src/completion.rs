//! Sparse → dense completion of a ping histogram's `values` (docs/ingest.md, "One histogram").

use crate::layout::{BucketLayout, Kind};

/// The dense form of a sparse histogram, and what could not be placed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// One count per bucket of the layout (for categorical layouts with labels: one per label,
    /// plus `spill`).
    pub counts: Vec<u64>,
    /// Samples whose key is not a bucket of the layout (including those of unparsable keys).
    pub unplaced: u64,
    /// Keys that are not integers at all.
    pub bad_keys: u64,
}

/// Completes sparse `(key, count)` entries against `layout`.
///
/// `counts[i]` is the sum of the counts recorded under every key equal to lower bound `i`
/// (`"1"` and `"0001"` add up). For a categorical layout with labels, key `i` is the label
/// index, for `i` in `0..=#labels` (index `#labels` is `spill`). Keys that parse as integers but
/// are not bounds count as `unplaced`; keys that do not parse count as `bad_keys` (and their
/// samples as `unplaced`). Nothing is ever invented: the placed and unplaced samples add up to
/// the input's.
///
/// ```
/// use mozaggregator_core::{complete, BucketLayout};
/// let layout = BucketLayout::exponential(1, 10000, 50).unwrap();
/// let c = complete([("1", 5), ("0001", 7), ("-1", 3), ("x", 1)], &layout);
/// assert_eq!(c.counts[1], 12);
/// assert_eq!((c.unplaced, c.bad_keys), (4, 1));
/// ```
pub fn complete<'a, I>(entries: I, layout: &BucketLayout) -> Completion
where
    I: IntoIterator<Item = (&'a str, u64)>,
{
    let mut out = Completion {
        counts: vec![0; completed_len(layout)],
        ..Completion::default()
    };
    let (unplaced, bad_keys) = complete_into(
        &mut out.counts,
        entries.into_iter().map(|(k, v)| (parse_key(k), v)),
        layout,
    );
    out.unplaced = unplaced;
    out.bad_keys = bad_keys;
    out
}

/// Length of the dense array [`complete`] produces for `layout`.
pub fn completed_len(layout: &BucketLayout) -> usize {
    if layout.kind() == Kind::Categorical && !layout.labels().is_empty() {
        layout.labels().len() + 1
    } else {
        layout.bounds().len()
    }
}

/// The allocation-free core of [`complete`]: adds entries whose keys are already parsed
/// (`None` for a key that is not an integer, see [`parse_key`]) into `counts` (of
/// [`completed_len`] entries, not cleared), and returns `(unplaced, bad_keys)`.
pub fn complete_into<I>(counts: &mut [u64], entries: I, layout: &BucketLayout) -> (u64, u64)
where
    I: IntoIterator<Item = (Option<i64>, u64)>,
{
    let len = counts.len();
    let (mut unplaced, mut bad_keys) = (0u64, 0u64);
    for (key, value) in entries {
        let index = match key {
            None => {
                bad_keys += 1;
                None
            }
            Some(k) => place(k, layout).filter(|&i| i < len),
        };
        match index {
            Some(i) => counts[i] = counts[i].saturating_add(value),
            None => unplaced = unplaced.saturating_add(value),
        }
    }
    (unplaced, bad_keys)
}

/// The bucket a parsed key belongs to: the index of the lower bound equal to `key`
/// (categorical layouts with labels: `key` itself, up to `#labels`), or `None` when the key
/// cannot be placed. This is the placement rule of [`complete`].
///
/// ```
/// use mozaggregator_core::completion::place;
/// use mozaggregator_core::BucketLayout;
/// let layout = BucketLayout::exponential(1, 10000, 50).unwrap();
/// assert_eq!(place(10, &layout), Some(9));
/// assert_eq!(place(11, &layout), None);
/// ```
pub fn place(key: i64, layout: &BucketLayout) -> Option<usize> {
    if key < 0 {
        return None;
    }
    if layout.kind() == Kind::Categorical && !layout.labels().is_empty() {
        return usize::try_from(key)
            .ok()
            .filter(|&i| i <= layout.labels().len());
    }
    layout.exact_index(key as u64)
}

/// Parses a bucket key: an optionally signed run of ASCII digits (leading zeros allowed).
pub fn parse_key(key: &str) -> Option<i64> {
    // One pass over the bytes (this runs for every bucket of every ping).
    let (negative, digits) = match key.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Accumulate negatively so that i64::MIN parses too.
        v = v.checked_mul(10)?.checked_sub(i64::from(d))?;
    }
    if negative {
        Some(v)
    } else {
        v.checked_neg()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_as_integers_only() {
        assert_eq!(parse_key("0001"), Some(1));
        assert_eq!(parse_key("-1"), Some(-1));
        for bad in ["", "-", "+1", "1.0", "3.0683611344442837e+257", "foo", " 1"] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
        assert_eq!(parse_key("99999999999999999999999"), None);
        assert_eq!(parse_key("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_key("9223372036854775808"), None);
        assert_eq!(parse_key("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_key("-0"), Some(0));
        assert_eq!(parse_key("007"), Some(7));
    }

    #[test]
    fn categorical_uses_label_indices() {
        let layout = BucketLayout::categorical(
            vec!["CommonLabel".into(), "Label7".into(), "Label8".into()],
            Some(70),
        )
        .unwrap();
        let c = complete([("0", 7), ("3", 2), ("4", 9), ("70", 5)], &layout);
        assert_eq!(c.counts, vec![7, 0, 0, 2]);
        assert_eq!((c.unplaced, c.bad_keys), (14, 0));
    }
}

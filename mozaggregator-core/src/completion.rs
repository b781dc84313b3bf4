//! Sparse → dense completion of a ping histogram's `values` (SPEC §3.3).

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
    let categorical_labels = layout.kind() == Kind::Categorical && !layout.labels().is_empty();
    let len = if categorical_labels {
        layout.labels().len() + 1
    } else {
        layout.bounds().len()
    };
    let mut out = Completion {
        counts: vec![0; len],
        ..Completion::default()
    };
    for (key, value) in entries {
        let index = match parse_key(key) {
            None => {
                out.bad_keys += 1;
                None
            }
            Some(k) if k < 0 => None,
            Some(k) if categorical_labels => usize::try_from(k).ok().filter(|&i| i < len),
            Some(k) => layout.exact_index(k as u64),
        };
        match index {
            Some(i) => out.counts[i] = out.counts[i].saturating_add(value),
            None => out.unplaced = out.unplaced.saturating_add(value),
        }
    }
    out
}

/// Parses a bucket key: an optionally signed run of ASCII digits (leading zeros allowed).
pub fn parse_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    key.parse().ok()
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

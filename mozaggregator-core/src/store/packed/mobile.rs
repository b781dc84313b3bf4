//! What the database stores share for mobile rows (the `mobile_rows` table): the encoding of
//! a row's buckets and reading a stored row back. (Merging a batch's rows into a table's is
//! [`crate::mobile`]'s, shared with the memory store.)
//!
//! A mobile row is stored as its table's id, the eight strings of its
//! [`MobileKey`](crate::mobile::MobileKey), a layout
//! id ([`NO_LAYOUT`] for values kept as sent, else an id of the `layouts` table), its count and
//! sum as signed 64-bit integers (the contract keeps both at most 2^63 - 1), and its buckets:
//!
//! ```text
//! buckets: byte FORMAT (= 1), then (gap, samples) varint pairs up to the end, samples > 0;
//!          the first gap is the lowest lower bound, every later one is
//!          bound - previous bound - 1 (bounds strictly ascending)
//! ```
//!
//! Reading validates everything (see [`histogram`]): a row that does not decode is a corrupt
//! store, never a panic.

use std::collections::BTreeMap;

use super::codec::{put_varint, varint_at};
use super::corrupt;
use crate::error::{Error, Result};
use crate::layout::LayoutSpec;
use crate::mobile::MobileHistogram;

/// The layout id of a row without a layout (its values kept as sent). `layouts` ids start at 1.
pub(crate) const NO_LAYOUT: i64 = 0;

/// The first byte of a buckets blob.
const FORMAT: u8 = 1;

/// Encodes `buckets` (lower bound → samples, samples > 0) into `out` (cleared first).
pub(crate) fn encode_buckets(buckets: &BTreeMap<u64, u64>, out: &mut Vec<u8>) {
    out.clear();
    out.push(FORMAT);
    let mut next = 0u64;
    for (&bound, &samples) in buckets {
        // Bounds ascend, so `bound >= next`; after u64::MAX there is no further bound.
        put_varint(out, bound - next);
        put_varint(out, samples);
        next = bound.saturating_add(1);
    }
}

/// Decodes a buckets blob.
///
/// # Errors
/// A corrupt store: an unknown format, a truncated varint, a bound beyond 2^64, a zero count.
pub(crate) fn decode_buckets(blob: &[u8]) -> Result<Vec<(u64, u64)>> {
    let bad = |what: &str| corrupt(format!("corrupt mobile buckets blob: {what}"));
    match blob.first() {
        Some(&FORMAT) => {}
        Some(other) => return Err(bad(&format!("unknown format {other}"))),
        None => return Err(bad("empty")),
    }
    let mut out = Vec::new();
    let mut pos = 1;
    let mut next = Some(0u64);
    while pos < blob.len() {
        let gap = varint_at(blob, &mut pos)?;
        let bound = next
            .and_then(|n| n.checked_add(gap))
            .ok_or_else(|| bad("bucket bound beyond 2^64"))?;
        let samples = varint_at(blob, &mut pos)?;
        if samples == 0 {
            return Err(bad("zero samples"));
        }
        out.push((bound, samples));
        next = bound.checked_add(1);
    }
    Ok(out)
}

/// The histogram of a stored row: its layout (already resolved from its id), count, sum and
/// buckets blob.
///
/// # Errors
/// A corrupt store: a negative count or sum, a blob that does not decode, buckets that are not
/// lower bounds of the layout.
pub(crate) fn histogram(
    layout: Option<LayoutSpec>,
    count: i64,
    sum: i64,
    buckets: &[u8],
) -> Result<MobileHistogram> {
    let count = u64::try_from(count).map_err(|_| corrupt(format!("mobile count {count}")))?;
    let sum = u64::try_from(sum).map_err(|_| corrupt(format!("mobile sum {sum}")))?;
    MobileHistogram::from_parts(layout, count, sum, decode_buckets(buckets)?)
        .map_err(|e| corrupt(format!("mobile row: {e}")))
}

/// The count and sum of `h` as stored (signed 64-bit).
///
/// # Errors
/// [`Error::Invalid`] for a count or sum beyond 2^63 - 1, which a merged row never has (the
/// merge rejects it first).
pub(crate) fn count_and_sum(h: &MobileHistogram) -> Result<(i64, i64)> {
    let big = |what: &str| Error::invalid("histogram", format!("{what} beyond 2^63 - 1"));
    Ok((
        i64::try_from(h.count()).map_err(|_| big("count"))?,
        i64::try_from(h.sum()).map_err(|_| big("sum"))?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(buckets: &[(u64, u64)]) -> Vec<(u64, u64)> {
        let map: BTreeMap<u64, u64> = buckets.iter().copied().collect();
        let mut blob = Vec::new();
        encode_buckets(&map, &mut blob);
        decode_buckets(&blob).unwrap()
    }

    #[test]
    fn buckets_round_trip_with_extremes() {
        for buckets in [
            vec![],
            vec![(0, 1)],
            vec![(0, u64::MAX), (1, 1), (u64::MAX, 7)],
            vec![(5, 2), (300, 1), (1 << 40, 3)],
            vec![(u64::MAX, 1)],
        ] {
            assert_eq!(round_trip(&buckets), buckets);
        }
    }

    #[test]
    fn corrupt_buckets_are_errors() {
        let kind = |blob: &[u8]| decode_buckets(blob).err().and_then(|e| e.store_kind());
        let corrupt = Some(crate::StoreErrorKind::Corrupt);
        let mut past_max = vec![FORMAT];
        put_varint(&mut past_max, u64::MAX);
        put_varint(&mut past_max, 1);
        put_varint(&mut past_max, 0);
        put_varint(&mut past_max, 1);
        for blob in [
            &[][..],
            &[2],
            &[FORMAT, 0x80],
            &[FORMAT, 1],
            &[FORMAT, 1, 0],
            &[
                FORMAT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 1,
            ],
            &past_max,
        ] {
            assert_eq!(kind(blob), corrupt, "{blob:?}");
        }
    }

    #[test]
    fn stored_rows_are_validated() {
        let spec = LayoutSpec::linear(1, 100, 10).unwrap();
        let mut blob = Vec::new();
        encode_buckets(&[(1, 2)].into(), &mut blob);
        let h = histogram(Some(spec), 2, 9, &blob).unwrap();
        assert_eq!((h.count(), h.sum(), h.samples()), (2, 9, 2));
        assert!(histogram(None, -1, 9, &blob).is_err());
        assert!(histogram(None, 1, -9, &blob).is_err());
        encode_buckets(&[(7, 2)].into(), &mut blob);
        let err = histogram(Some(spec), 2, 9, &blob).unwrap_err();
        assert_eq!(err.store_kind(), Some(crate::StoreErrorKind::Corrupt));
        assert!(histogram(None, 2, 9, &blob).is_ok());
    }
}

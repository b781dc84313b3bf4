//! The binary encodings of the `series.data` BLOB: a *pack* of the series of one
//! (target, metric, label), each entry holding one histogram.
//!
//! ```text
//! pack:      byte PACK (= 1), then entries up to the end of the blob
//! entry:     varint process, varint dims id, varint layout id, varint length, histogram
//! histogram: byte (FORMAT << 4) | mode        FORMAT = 1; mode 0 = dense, 1 = sparse
//!            varint sum, varint count
//!            dense:  one varint per bucket, exactly as many as the layout has buckets
//!            sparse: (gap, value) varint pairs up to the end, value > 0; the first gap is
//!                    the bucket index, every later one is index - previous index - 1
//! ```
//!
//! Varints are unsigned LEB128 (7 bits per byte, low bits first, at most 10 bytes). The bucket
//! count is not stored: it comes from the entry's layout. The encoder picks the smaller of the
//! two modes; typical aggregate rows (50 buckets, 5–15 non-zero) are sparse and take 25–45
//! bytes. The length prefix lets a reader skip entries its filter rejects without decoding
//! them. Decoding validates everything and reports a corrupt blob as [`Error::Store`], never
//! panics.

use crate::error::{Error, MergeError, Quantity, Result};
use crate::histogram::Histogram;
use crate::layout::LayoutSpec;

const PACK: u8 = 1;
const FORMAT: u8 = 1;
const DENSE: u8 = 0;
const SPARSE: u8 = 1;

/// Appends the encoding of (`counts`, `sum`, `count`) to `out`.
pub(crate) fn encode(counts: &[u64], sum: u64, count: u64, out: &mut Vec<u8>) {
    // One pass writes the sparse form while it sizes the dense one; the dense form replaces it
    // when it is not longer (rare: most buckets are empty).
    let head = out.len();
    out.push((FORMAT << 4) | SPARSE);
    put_varint(out, sum);
    put_varint(out, count);
    let body = out.len();
    let mut dense_len = 0usize;
    let mut prev: Option<usize> = None;
    for (i, &c) in counts.iter().enumerate() {
        dense_len += varint_len(c);
        if c != 0 {
            let gap = prev.map_or(i, |p| i - p - 1);
            put_varint(out, gap as u64);
            put_varint(out, c);
            prev = Some(i);
        }
    }
    if out.len() - body >= dense_len {
        out.truncate(body);
        out[head] = (FORMAT << 4) | DENSE;
        for &c in counts {
            put_varint(out, c);
        }
    }
}

/// The encoding of a histogram, as a new vector.
#[cfg(test)]
pub(crate) fn encode_histogram(h: &Histogram) -> Vec<u8> {
    let mut out = Vec::with_capacity(32);
    encode(h.counts(), h.sum(), h.count(), &mut out);
    out
}

/// Starts a pack.
pub(crate) fn start_pack(out: &mut Vec<u8>) {
    out.clear();
    out.push(PACK);
}

/// Appends an entry holding an already encoded histogram.
pub(crate) fn put_entry(out: &mut Vec<u8>, process: u8, dims: i64, layout: i64, hist: &[u8]) {
    put_varint(out, u64::from(process));
    put_varint(out, dims as u64);
    put_varint(out, layout as u64);
    put_varint(out, hist.len() as u64);
    out.extend_from_slice(hist);
}

/// One entry of a pack, its histogram still encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    pub(crate) process: u64,
    pub(crate) dims: i64,
    pub(crate) layout: i64,
    pub(crate) hist: &'a [u8],
}

/// The entries of a pack.
pub(crate) fn entries(blob: &[u8]) -> Result<Entries<'_>> {
    let mut r = Reader { blob, pos: 0 };
    let head = r.byte()?;
    if head != PACK {
        return Err(corrupt(format!("unknown pack format {head}")));
    }
    Ok(Entries { r })
}

/// Iterator over the entries of a pack (see [`entries`]).
pub(crate) struct Entries<'a> {
    r: Reader<'a>,
}

impl<'a> Entries<'a> {
    fn entry(&mut self) -> Result<Entry<'a>> {
        let id = |v: u64| i64::try_from(v).map_err(|_| corrupt("id out of range"));
        let process = self.r.varint()?;
        let dims = id(self.r.varint()?)?;
        let layout = id(self.r.varint()?)?;
        let len =
            usize::try_from(self.r.varint()?).map_err(|_| corrupt("entry length out of range"))?;
        let end = self
            .r
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.r.blob.len())
            .ok_or_else(|| corrupt("entry longer than the pack"))?;
        let hist = &self.r.blob[self.r.pos..end];
        self.r.pos = end;
        Ok(Entry {
            process,
            dims,
            layout,
            hist,
        })
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.r.at_end() {
            return None;
        }
        let entry = self.entry();
        if entry.is_err() {
            // Stop after the first error.
            self.r.pos = self.r.blob.len();
        }
        Some(entry)
    }
}

/// Decodes a blob of a row whose layout is `layout`.
pub(crate) fn decode(blob: &[u8], layout: LayoutSpec) -> Result<Histogram> {
    let mut counts = vec![0u64; layout.len()];
    let (sum, count) = decode_with(blob, layout.len(), |i, c| {
        counts[i] = c;
        Ok(())
    })?;
    Histogram::from_parts(layout, counts, sum, count)
}

/// A running merge of decoded blobs: bucket-wise sums plus `sum` and `count`.
#[derive(Clone, Debug)]
pub(crate) struct Accumulator {
    pub(crate) counts: Vec<u64>,
    pub(crate) sum: u64,
    pub(crate) count: u64,
}

impl Accumulator {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            counts: vec![0; n],
            sum: 0,
            count: 0,
        }
    }

    /// Adds a blob; on error the accumulator may hold part of it (callers then fail the whole
    /// query).
    pub(crate) fn add_blob(&mut self, blob: &[u8]) -> Result<()> {
        // The hot loop of metric queries: the same validation as `decode_with`, specialised.
        let (mut r, encoding, sum, count) = Reader::header(blob)?;
        match encoding {
            SPARSE => {
                let mut next = 0usize;
                while !r.at_end() {
                    let i = usize::try_from(r.varint()?)
                        .ok()
                        .and_then(|gap| next.checked_add(gap))
                        .ok_or_else(|| corrupt_static("bucket gap out of range"))?;
                    let c = r.varint()?;
                    if c == 0 {
                        return Err(corrupt_static("zero count in sparse blob"));
                    }
                    let slot = self
                        .counts
                        .get_mut(i)
                        .ok_or_else(|| corrupt_static("bucket index beyond the layout"))?;
                    *slot = slot.checked_add(c).ok_or_else(overflow)?;
                    next = i + 1;
                }
            }
            DENSE => {
                for slot in &mut self.counts {
                    *slot = slot.checked_add(r.varint()?).ok_or_else(overflow)?;
                }
                if !r.at_end() {
                    return Err(corrupt_static("dense blob longer than the layout"));
                }
            }
            mode => return Err(corrupt(format!("unknown mode {mode}"))),
        }
        self.sum = self.sum.checked_add(sum).ok_or_else(overflow)?;
        self.count = self.count.checked_add(count).ok_or_else(overflow)?;
        Ok(())
    }

    /// Adds another accumulator of the same bucket count; `false` (and this one partly added
    /// to) when a sum would overflow 2^64 or the bucket counts differ.
    pub(crate) fn add(&mut self, other: &Accumulator) -> bool {
        if self.counts.len() != other.counts.len() {
            return false;
        }
        let counts = self.counts.iter_mut().zip(&other.counts);
        counts
            .map(|(a, b)| a.checked_add(*b).map(|s| *a = s))
            .all(|ok| ok.is_some())
            && self
                .sum
                .checked_add(other.sum)
                .map(|s| self.sum = s)
                .is_some()
            && self
                .count
                .checked_add(other.count)
                .map(|c| self.count = c)
                .is_some()
    }

    /// Takes a blob away (the inverse of [`Accumulator::add_blob`]); `false`, and this one
    /// partly changed, when the blob cannot be read or holds more than this one.
    pub(crate) fn sub_blob(&mut self, blob: &[u8]) -> bool {
        let counts = &mut self.counts;
        let taken = decode_with(blob, counts.len(), |i, c| {
            counts[i] = counts[i].checked_sub(c).ok_or_else(overflow)?;
            Ok(())
        });
        let Ok((sum, count)) = taken else {
            return false;
        };
        match (self.sum.checked_sub(sum), self.count.checked_sub(count)) {
            (Some(sum), Some(count)) => {
                (self.sum, self.count) = (sum, count);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn into_histogram(self, layout: LayoutSpec) -> Result<Histogram> {
        Histogram::from_parts(layout, self.counts, self.sum, self.count)
    }
}

#[cold]
fn overflow() -> Error {
    MergeError::Overflow(Quantity::Merged).into()
}

/// Walks a blob, calling `bucket(index, value)` for each stored bucket (every bucket of a
/// dense blob, the non-zero ones of a sparse blob; indices ascending and `< n`).
fn decode_with(
    blob: &[u8],
    n: usize,
    mut bucket: impl FnMut(usize, u64) -> Result<()>,
) -> Result<(u64, u64)> {
    let (mut r, encoding, sum, count) = Reader::header(blob)?;
    match encoding {
        DENSE => {
            for i in 0..n {
                let c = r.varint()?;
                bucket(i, c)?;
            }
            if !r.at_end() {
                return Err(corrupt(format!("dense blob longer than {n} buckets")));
            }
        }
        SPARSE => {
            let mut next = 0usize;
            while !r.at_end() {
                let gap =
                    usize::try_from(r.varint()?).map_err(|_| corrupt("bucket gap out of range"))?;
                let i = next
                    .checked_add(gap)
                    .filter(|&i| i < n)
                    .ok_or_else(|| corrupt(format!("bucket index beyond {n} buckets")))?;
                let c = r.varint()?;
                if c == 0 {
                    return Err(corrupt("zero count in sparse blob"));
                }
                bucket(i, c)?;
                next = i + 1;
            }
        }
        mode => return Err(corrupt(format!("unknown mode {mode}"))),
    }
    Ok((sum, count))
}

#[cold]
fn corrupt_static(what: &str) -> Error {
    corrupt(what)
}

#[cold]
fn corrupt(what: impl std::fmt::Display) -> Error {
    super::corrupt(format!("corrupt histogram blob: {what}"))
}

/// Reads the varint of `blob` at `*pos` and moves `*pos` past it.
///
/// # Errors
/// A truncated or over-long varint (a corrupt store).
pub(crate) fn varint_at(blob: &[u8], pos: &mut usize) -> Result<u64> {
    let mut r = Reader { blob, pos: *pos };
    let value = r.varint()?;
    *pos = r.pos;
    Ok(value)
}

struct Reader<'a> {
    blob: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader past the header of a histogram blob, with what the header says: the encoding
    /// (dense or sparse), the sum and the count.
    #[inline]
    fn header(blob: &'a [u8]) -> Result<(Self, u8, u64, u64)> {
        let mut r = Reader { blob, pos: 0 };
        let head = r.byte()?;
        if head >> 4 != FORMAT {
            return Err(corrupt(format!("unknown format {}", head >> 4)));
        }
        let sum = r.varint()?;
        let count = r.varint()?;
        Ok((r, head & 0x0f, sum, count))
    }
}

impl Reader<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.blob.len()
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self
            .blob
            .get(self.pos)
            .ok_or_else(|| corrupt_static("truncated"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64> {
        let blob = self.blob;
        let mut pos = self.pos;
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let Some(&b) = blob.get(pos) else {
                return Err(corrupt_static("truncated"));
            };
            pos += 1;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                if shift == 63 && b > 1 {
                    return Err(corrupt_static("varint exceeds 64 bits"));
                }
                self.pos = pos;
                return Ok(value);
            }
            shift += 7;
            if shift > 63 {
                return Err(corrupt_static("varint longer than 10 bytes"));
            }
        }
    }
}

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(v: u64) -> usize {
    // Most counts and gaps take one byte: skip the bit count for them.
    if v < 0x80 {
        return 1;
    }
    let bits = 64 - v.leading_zeros() as usize;
    bits.div_ceil(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> LayoutSpec {
        LayoutSpec::exponential(1, 10_000, 50).unwrap()
    }

    fn hist(pairs: &[(usize, u64)], sum: u64, count: u64) -> Histogram {
        let mut counts = vec![0; 50];
        for &(i, c) in pairs {
            counts[i] = c;
        }
        Histogram::from_parts(spec(), counts, sum, count).unwrap()
    }

    #[test]
    fn round_trips_sparse_dense_and_extremes() {
        let dense: Vec<(usize, u64)> = (0..50).map(|i| (i, i as u64 + 1)).collect();
        for h in [
            Histogram::empty(spec()),
            hist(&[(0, 1)], 0, 1),
            hist(&[(3, 17), (4, 1), (49, 300_000)], 123_456_789, 1000),
            hist(&dense, 5, 6),
            hist(&[(0, u64::MAX), (49, u64::MAX)], u64::MAX, u64::MAX),
        ] {
            let blob = encode_histogram(&h);
            assert_eq!(decode(&blob, spec()).unwrap(), h);
        }
    }

    #[test]
    fn typical_row_is_small() {
        let h = hist(
            &[
                (10, 1200),
                (11, 3400),
                (12, 5000),
                (13, 800),
                (15, 90),
                (20, 3),
            ],
            2_345_678,
            4_100,
        );
        let blob = encode_histogram(&h);
        assert_eq!(blob[0], 0x11, "sparse");
        // 1 header + 4 sum + 2 count + 6 gaps + 10 values.
        assert_eq!(blob.len(), 23);
    }

    proptest::proptest! {
        /// The encoder keeps the sparse form only when it is strictly shorter than the dense
        /// one, byte for byte as each form is defined (stores written before stay the same).
        #[test]
        fn the_shorter_form_is_chosen(
            counts in proptest::collection::vec(
                proptest::prop_oneof![4 => proptest::strategy::Just(0u64), 2 => 1u64..200, 1 => proptest::num::u64::ANY],
                0..80,
            ),
            sum in 0u64..1 << 62,
            count in 0u64..1 << 40,
        ) {
            let mut dense = vec![(FORMAT << 4) | DENSE];
            put_varint(&mut dense, sum);
            put_varint(&mut dense, count);
            counts.iter().for_each(|&c| put_varint(&mut dense, c));
            let mut sparse = vec![(FORMAT << 4) | SPARSE];
            put_varint(&mut sparse, sum);
            put_varint(&mut sparse, count);
            let mut prev: Option<usize> = None;
            for (i, &c) in counts.iter().enumerate().filter(|(_, c)| **c != 0) {
                put_varint(&mut sparse, prev.map_or(i, |p| i - p - 1) as u64);
                put_varint(&mut sparse, c);
                prev = Some(i);
            }
            let expected = if sparse.len() < dense.len() { sparse } else { dense };
            let mut out = vec![7, 7];
            encode(&counts, sum, count, &mut out);
            proptest::prop_assert_eq!(&out[..2], &[7, 7]);
            proptest::prop_assert_eq!(&out[2..], &expected[..]);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 2000,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]
        /// Arbitrary bytes as a pack, a histogram or totals: an error or a value, never a
        /// panic (issue 13).
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            if let Ok(entries) = entries(&bytes) {
                for e in entries.flatten() {
                    let _ = decode(e.hist, spec());
                    let _ = Accumulator::new(50).add_blob(e.hist);
                }
            }
            let _ = decode(&bytes, spec());
            let _ = Accumulator::new(50).add_blob(&bytes);
            let mut out = Vec::new();
            let mut ids = super::super::totals::FnIds(|_| Ok(Some(50)), |d| Ok(Some(d % 3)));
            proptest::prop_assert!(
                super::super::totals::of_pack(&bytes, &mut ids, &mut out).is_ok()
            );
        }
    }

    #[test]
    fn varint_lengths_match_encoding() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::MAX >> 1, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn corrupt_blobs_are_errors() {
        let good = encode_histogram(&hist(&[(3, 17), (40, 2)], 10, 2));
        let mut cases: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x21, 0, 0],                                  // unknown format
            vec![0x17, 0, 0],                                  // unknown mode
            vec![0x11, 0x80],                                  // truncated varint
            vec![0x11, 0, 0, 50, 1],                           // index beyond the layout
            vec![0x11, 0, 0, 3, 0],                            // zero count
            vec![0x11, 0, 0, 3],                               // gap without a value
            vec![0x10, 0, 0, 1, 2, 3],                         // dense, too short
            [vec![0x10, 0, 0], vec![0; 51]].concat(),          // dense, too long
            [vec![0x11], vec![0xff; 10], vec![0x02]].concat(), // varint > 64 bits
            [vec![0x11], vec![0x80; 11]].concat(),
        ];
        // Cuts inside the header or inside a (gap, value) pair; a cut between pairs is a
        // valid shorter blob (the format has no length: SQLite keeps blobs whole).
        assert_eq!(good, [0x11, 10, 2, 3, 17, 36, 2]);
        for cut in [1, 2, 4, 6] {
            cases.push(good[..cut].to_vec());
        }
        for blob in cases {
            assert!(
                matches!(decode(&blob, spec()), Err(Error::Store(_))),
                "{blob:?}"
            );
            // The query path's specialised decoder validates the same way.
            assert!(
                matches!(Accumulator::new(50).add_blob(&blob), Err(Error::Store(_))),
                "{blob:?}"
            );
        }
    }

    #[test]
    fn packs_round_trip_and_reject_corruption() {
        let a = encode_histogram(&hist(&[(3, 17)], 10, 2));
        let b = encode_histogram(&hist(&[(0, 1), (49, 300)], 1 << 40, 7));
        let mut pack = Vec::new();
        start_pack(&mut pack);
        put_entry(&mut pack, 2, 300, 1, &a);
        put_entry(&mut pack, 0, 0, 70_000, &b);
        let got: Vec<Entry<'_>> = entries(&pack).unwrap().collect::<Result<_>>().unwrap();
        assert_eq!(
            got,
            vec![
                Entry {
                    process: 2,
                    dims: 300,
                    layout: 1,
                    hist: &a
                },
                Entry {
                    process: 0,
                    dims: 0,
                    layout: 70_000,
                    hist: &b
                },
            ]
        );
        assert_eq!(entries(&[PACK]).unwrap().count(), 0);
        assert!(entries(&[]).is_err());
        assert!(entries(&[9, 0, 0, 0, 0]).is_err());
        for cut in 2..pack.len() {
            let cut_entries: Result<Vec<_>> = entries(&pack[..cut]).unwrap().collect();
            // A cut at an entry boundary is a valid shorter pack; anywhere else is an error.
            let boundary = cut == 1 + 5 + a.len();
            assert_eq!(cut_entries.is_ok(), boundary, "cut at {cut}");
        }
        let mut long = vec![PACK, 0, 0, 0];
        put_varint(&mut long, u64::MAX);
        assert!(entries(&long).unwrap().any(|e| e.is_err()));
    }

    proptest::proptest! {
        #[test]
        fn encode_decode_and_accumulate_agree(
            a in proptest::collection::vec(proptest::prop_oneof![3 => proptest::strategy::Just(0u64), 1 => 0u64..1 << 40, 1 => proptest::num::u64::ANY], 50),
            b in proptest::collection::vec(0u64..1 << 20, 50),
            sums in (0u64..1 << 62, 0u64..1 << 62),
        ) {
            let ha = Histogram::from_parts(spec(), a, sums.0, 3).unwrap();
            let hb = Histogram::from_parts(spec(), b, sums.1, 1).unwrap();
            let (ea, eb) = (encode_histogram(&ha), encode_histogram(&hb));
            proptest::prop_assert_eq!(&decode(&ea, spec()).unwrap(), &ha);
            let mut acc = Accumulator::new(50);
            acc.add_blob(&ea).unwrap();
            let mut merged = ha.clone();
            match merged.merge(&hb) {
                Ok(()) => {
                    acc.add_blob(&eb).unwrap();
                    proptest::prop_assert_eq!(acc.into_histogram(spec()).unwrap(), merged);
                }
                Err(_) => proptest::prop_assert!(acc.add_blob(&eb).is_err()),
            }
        }
    }

    #[test]
    fn accumulator_adds_and_detects_overflow() {
        let a = hist(&[(3, 17), (40, 2)], 10, 2);
        let b = hist(&[(3, 1), (41, 5)], 7, 1);
        let mut acc = Accumulator::new(50);
        acc.add_blob(&encode_histogram(&a)).unwrap();
        acc.add_blob(&encode_histogram(&b)).unwrap();
        let mut expected = a.clone();
        expected.merge(&b).unwrap();
        assert_eq!(acc.into_histogram(spec()).unwrap(), expected);

        let mut acc = Accumulator::new(50);
        acc.add_blob(&encode_histogram(&hist(&[(3, u64::MAX)], 0, 1)))
            .unwrap();
        assert!(matches!(
            acc.add_blob(&encode_histogram(&a)),
            Err(Error::Merge(MergeError::Overflow(Quantity::Merged)))
        ));
    }
}

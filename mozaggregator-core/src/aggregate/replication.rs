//! Replicate groups in partial aggregates (see [`crate::replicate`] and docs/ingest.md,
//! "Replicate groups"): the group a ping goes into, and the R an [`Aggregates`](super::Aggregates)
//! was made with.

use crate::error::{Error, Result};
use crate::ping::{Envelope, Lenient, Scalar, Text};
use crate::replicate::ReplicateCount;

/// The replicate counts the pings of a partial aggregate were split with: `None` without
/// replicates, else the smallest and the largest R seen. They differ only when parts made with
/// different R were merged, which [`Replication::count`] refuses. Merging takes the smallest
/// and largest of both, so it is associative and commutative with `None` the identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Replication(Option<(ReplicateCount, ReplicateCount)>);

impl Replication {
    /// Made with `r` groups.
    pub(crate) fn with(r: ReplicateCount) -> Self {
        Self(Some((r, r)))
    }

    /// The smallest and largest R seen, when any.
    pub(crate) fn range(self) -> Option<(ReplicateCount, ReplicateCount)> {
        self.0
    }

    /// From [`Replication::range`] (the decoder checks `lo <= hi`).
    pub(crate) fn from_range(range: Option<(ReplicateCount, ReplicateCount)>) -> Self {
        Self(range)
    }

    /// Notes that pings were split into `r` groups.
    #[inline]
    pub(crate) fn add(&mut self, r: ReplicateCount) {
        if self.0 != Some((r, r)) {
            self.merge(Self::with(r));
        }
    }

    /// Both sets of R together.
    pub(crate) fn merge(&mut self, other: Replication) {
        self.0 = match (self.0, other.0) {
            (None, x) | (x, None) => x,
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        };
    }

    /// The number of groups an index must stay below: the largest R (0 without replicates).
    pub(crate) fn bound(self) -> usize {
        self.0.map_or(0, |(_, hi)| hi.get())
    }

    /// R: `None` without replicate groups.
    ///
    /// # Errors
    /// [`Error::Invalid`] (`replicates`) when parts made with different R were merged: their
    /// groups cannot be told apart.
    pub(crate) fn count(self) -> Result<Option<ReplicateCount>> {
        match self.0 {
            None => Ok(None),
            Some((lo, hi)) if lo == hi => Ok(Some(lo)),
            Some((lo, hi)) => Err(Error::invalid(
                "replicates",
                format!(
                    "partial aggregates made with different replicate counts ({lo} and {hi}) \
                     were merged: their groups cannot be stored; aggregate every part with \
                     the same --replicates"
                ),
            )),
        }
    }
}

/// The sample id of a ping (0–99): `meta.sampleId` when it is an integer from 0 to 99 (an
/// integer-valued float counts), else `crc32(clientId) mod 100` when `clientId` is a
/// non-empty string; `None` otherwise (the ping then has no replicate group).
pub(crate) fn sample_id(ping: &Envelope<'_>) -> Option<u8> {
    let meta = match &ping.meta {
        Some(Lenient::Valid(m)) => m.sample_id,
        _ => None,
    };
    match meta {
        Some(Scalar::Unsigned(v)) if v < 100 => u8::try_from(v).ok(),
        Some(Scalar::Float(v)) if (0.0..100.0).contains(&v) && v.fract() == 0.0 => {
            // An integer from 0 to 99: the cast is exact.
            Some(v as u8)
        }
        _ => match &ping.client_id {
            Some(Text::Str(id)) if !id.is_empty() => Some(ReplicateCount::sample_id(id)),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u32) -> ReplicateCount {
        ReplicateCount::new(n).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn merge_is_a_min_max_with_none_the_identity() {
        let cases = [
            Replication::default(),
            Replication::with(r(2)),
            Replication::with(r(20)),
            Replication::with(r(100)),
        ];
        for a in cases {
            for b in cases {
                let mut ab = a;
                ab.merge(b);
                let mut ba = b;
                ba.merge(a);
                assert_eq!(ab, ba);
                for c in cases {
                    let (mut left, mut bc) = (ab, b);
                    left.merge(c);
                    bc.merge(c);
                    let mut right = a;
                    right.merge(bc);
                    assert_eq!(left, right);
                }
            }
        }
        let mut x = Replication::default();
        x.add(r(20));
        x.add(r(20));
        assert!(matches!(x.count(), Ok(Some(c)) if c.get() == 20));
        assert_eq!(x.bound(), 20);
        x.add(r(4));
        assert_eq!(x.range(), Some((r(4), r(20))));
        let err = x.count().map(|_| ()).unwrap_err().to_string();
        assert!(err.contains("4 and 20"), "{err}");
        assert!(matches!(Replication::default().count(), Ok(None)));
    }
}

//! Replicate groups: how pings are split by client so that intervals can be computed from
//! stored aggregates (docs/statistics.md, "Intervals").
//!
//! With `aggregate --replicates R`, each ping also goes into one of R groups,
//! `g = sample_id mod R`, where `sample_id = crc32(clientId) mod 100` as in Mozilla's pipeline
//! (`meta.sampleId` when the ping carries one). A group therefore holds whole clients, and the
//! groups are equal in expectation because R divides 100. The store keeps, beside the normal
//! aggregates, the aggregates of each group ([`crate::store::ReplicateTables`]); a query with
//! an interval reads them back ([`crate::store::ReplicateRows`]) and runs a jackknife over them
//! ([`crate::stats::jackknife`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::stats::REPLICATE_COUNTS;

/// A number of replicate groups: one of [`REPLICATE_COUNTS`] (the divisors of 100 from 2).
///
/// ```
/// use mozaggregator_core::ReplicateCount;
/// let r: ReplicateCount = "20".parse().unwrap();
/// assert_eq!(r.get(), 20);
/// assert_eq!(r.group_of_sample(47), 7);
/// assert_eq!(r.group_of_client("c0ffee00-0000-4000-8000-000000000001"), Some(ReplicateCount::sample_id("c0ffee00-0000-4000-8000-000000000001") % 20));
/// assert!("3".parse::<ReplicateCount>().is_err());
/// assert!("0".parse::<ReplicateCount>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct ReplicateCount(u8);

impl ReplicateCount {
    /// The count `r`.
    ///
    /// # Errors
    /// [`Error::Invalid`] (`replicates`) when `r` is not in [`REPLICATE_COUNTS`].
    pub fn new(r: u32) -> Result<Self> {
        if REPLICATE_COUNTS.contains(&r) {
            // Every allowed count is at most 100.
            Ok(Self(u8::try_from(r).unwrap_or(100)))
        } else {
            Err(Error::invalid(
                "replicates",
                format!(
                    "{r} is not a divisor of 100 from 2: use one of {}",
                    REPLICATE_COUNTS.map(|c| c.to_string()).join(", ")
                ),
            ))
        }
    }

    /// The number of groups.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }

    /// The group of a ping whose sample id is `sample_id` (0–99): `sample_id mod R`.
    pub fn group_of_sample(self, sample_id: u8) -> u8 {
        sample_id % self.0
    }

    /// The group of a client: `crc32(client_id) mod 100 mod R`. `None` for an empty id.
    pub fn group_of_client(self, client_id: &str) -> Option<u8> {
        (!client_id.is_empty()).then(|| self.group_of_sample(Self::sample_id(client_id)))
    }

    /// Mozilla's `sample_id` of a client: `crc32(client_id) mod 100` (the zlib CRC-32 of the
    /// id's UTF-8 bytes).
    pub fn sample_id(client_id: &str) -> u8 {
        // `% 100` is below 100, so it fits.
        u8::try_from(crc32fast::hash(client_id.as_bytes()) % 100).unwrap_or(0)
    }
}

impl From<ReplicateCount> for u32 {
    fn from(r: ReplicateCount) -> u32 {
        u32::from(r.0)
    }
}

impl TryFrom<u32> for ReplicateCount {
    type Error = Error;

    fn try_from(r: u32) -> Result<Self> {
        Self::new(r)
    }
}

impl FromStr for ReplicateCount {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let r: u32 = s.trim().parse().map_err(|_| {
            Error::invalid(
                "replicates",
                format!("`{s}` is not a number: use one of 2, 4, 5, 10, 20, 25, 50, 100"),
            )
        })?;
        Self::new(r)
    }
}

impl fmt::Display for ReplicateCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_id_is_crc32_mod_100() {
        // zlib's CRC-32 of "123456789" is 0xCBF43926 = 3421780262.
        assert_eq!(ReplicateCount::sample_id("123456789"), 62);
        assert!(ReplicateCount::new(20).is_ok_and(|r| r.group_of_sample(62) == 2));
    }

    #[test]
    fn only_divisors_of_100() {
        let ok: Vec<u32> = (0..=200)
            .filter(|r| ReplicateCount::new(*r).is_ok())
            .collect();
        assert_eq!(ok, REPLICATE_COUNTS.to_vec());
        assert!(serde_json::from_str::<ReplicateCount>("7").is_err());
        assert_eq!(
            serde_json::from_str::<ReplicateCount>("25")
                .map(ReplicateCount::get)
                .ok(),
            Some(25)
        );
    }
}

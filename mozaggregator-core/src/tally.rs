//! [`Tally`]: counts by reason, typed by the reason enum, serialized as `{name: count}` in
//! name order (the form reports had when reasons were strings).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Index;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::reject::Reason;

/// Counts per reason `R` (a reason appears once it has been counted, even by 0). Counts add
/// saturating, so merging tallies is associative and commutative.
///
/// ```
/// use mozaggregator_core::reject::PingReject;
/// use mozaggregator_core::tally::Tally;
/// let mut t = Tally::new();
/// t.add(PingReject::InvalidJson, 2);
/// t.add(PingReject::MissingOs, 1);
/// assert_eq!(t[PingReject::InvalidJson], 2);
/// assert_eq!(t["missing_os"], 1);
/// assert_eq!(t.total(), 3);
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"invalid_json":2,"missing_os":1}"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Tally<R: Reason>(BTreeMap<R, u64>);

impl<R: Reason> Default for Tally<R> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

impl<R: Reason> Tally<R> {
    /// An empty tally.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `n` to `reason`'s count (saturating).
    pub fn add(&mut self, reason: R, n: u64) {
        let slot = self.0.entry(reason).or_insert(0);
        *slot = slot.saturating_add(n);
    }

    /// The count of `reason` (0 when never counted).
    pub fn count(&self, reason: R) -> u64 {
        self.0.get(&reason).copied().unwrap_or(0)
    }

    /// The count of the reason named `name`, when counted.
    pub fn get(&self, name: &str) -> Option<&u64> {
        self.0.get(&R::from_name(name)?)
    }

    /// Sum of all counts (saturating).
    pub fn total(&self) -> u64 {
        self.0.values().fold(0u64, |a, &b| a.saturating_add(b))
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &Tally<R>) {
        for (&reason, &n) in &other.0 {
            self.add(reason, n);
        }
    }

    /// The reasons counted, with their counts, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (R, u64)> + '_ {
        self.0.iter().map(|(&r, &n)| (r, n))
    }

    /// The reasons counted, in name order.
    pub fn keys(&self) -> impl Iterator<Item = R> + '_ {
        self.0.keys().copied()
    }

    /// The counts, in the reasons' name order.
    pub fn values(&self) -> impl Iterator<Item = &u64> + '_ {
        self.0.values()
    }

    /// Whether no reason was counted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many reasons were counted.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Forgets every count.
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl<R: Reason> Index<R> for Tally<R> {
    type Output = u64;

    /// The count of `reason`; panics when it was never counted (as a map's index does).
    fn index(&self, reason: R) -> &u64 {
        match self.0.get(&reason) {
            Some(n) => n,
            None => panic!("no count for {reason}"),
        }
    }
}

impl<R: Reason> Index<&str> for Tally<R> {
    type Output = u64;

    /// The count of the reason named `name`; panics when there is none (as a map's index
    /// does).
    fn index(&self, name: &str) -> &u64 {
        match self.get(name) {
            Some(n) => n,
            None => panic!("no count for {name}"),
        }
    }
}

/// Equal to a map of names to counts with the same entries (what reports held before their
/// reasons were typed).
impl<R: Reason> PartialEq<BTreeMap<String, u64>> for Tally<R> {
    fn eq(&self, other: &BTreeMap<String, u64>) -> bool {
        self.0.len() == other.len()
            && self
                .0
                .iter()
                .zip(other)
                .all(|((r, n), (name, m))| r.name() == name && n == m)
    }
}

impl<R: Reason> FromIterator<(R, u64)> for Tally<R> {
    fn from_iter<I: IntoIterator<Item = (R, u64)>>(iter: I) -> Self {
        let mut t = Self::new();
        for (r, n) in iter {
            t.add(r, n);
        }
        t
    }
}

impl<R: Reason, const N: usize> From<[(R, u64); N]> for Tally<R> {
    fn from(pairs: [(R, u64); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<R: Reason> fmt::Debug for Tally<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(r, n)| (r.name(), n)))
            .finish()
    }
}

impl<R: Reason + Serialize> Serialize for Tally<R> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, R: Reason + Deserialize<'de>> Deserialize<'de> for Tally<R> {
    /// From `{name: count}`; an unknown name is an error.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::<R, u64>::deserialize(d).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reject::{HistogramReject, RowReject};

    #[test]
    fn merging_adds_and_json_round_trips_by_name() {
        let mut a = Tally::from([
            (HistogramReject::Overflow, 2),
            (HistogramReject::NotAnObject, 1),
        ]);
        let b = Tally::from([(HistogramReject::Overflow, u64::MAX)]);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
        assert_eq!(ab.count(HistogramReject::Overflow), u64::MAX);
        a.add(HistogramReject::Overflow, 1);
        assert_eq!(a[HistogramReject::Overflow], 3);
        assert_eq!(a.count(HistogramReject::NegativeSum), 0);
        assert_eq!(a.get("negative_sum"), None);
        // Name order, whatever the declaration order.
        let json = serde_json::to_string(&a).unwrap_or_default();
        assert_eq!(json, r#"{"not_an_object":1,"overflow":3}"#);
        let back: Tally<HistogramReject> = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, a);
        let names: BTreeMap<String, u64> = [
            ("not_an_object".to_string(), 1),
            ("overflow".to_string(), 3),
        ]
        .into();
        assert_eq!(a, names);
        assert!(serde_json::from_str::<Tally<RowReject>>(r#"{"overflow":1}"#).is_err());
        assert_eq!(format!("{a:?}"), r#"{"not_an_object": 1, "overflow": 3}"#);
    }
}

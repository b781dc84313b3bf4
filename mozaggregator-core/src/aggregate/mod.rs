//! Partial aggregates: what the aggregation of some pings produced, mergeable with any other.
//!
//! [`Aggregator`] applies the rules of docs/ingest.md ("What is aggregated") to pings and adds
//! them to an [`Aggregates`].
//! Partial aggregates of any split of the input merge ([`Aggregates::merge`]) into the same
//! result, which turns into [`Batch`](crate::Batch)es (one per submission date) of both families — build-id
//! and submission-date aggregates — ready for a [`crate::Store`].
//!
//! Internally only the build-id family is accumulated, keyed by interned strings; the
//! submission-date family is the same data with the build id dropped, merged when a batch is
//! built (as the original service did). Memory grows with the number of distinct series, not
//! with the input.

mod aggregator;
mod batch;
mod codec;
mod interner;
pub(crate) mod parse;
mod replication;
pub(crate) mod rules;
mod stored_layout;

use std::collections::BTreeSet;

use foldhash::fast::RandomState;
use hashbrown::hash_map::Entry;
use rayon::iter::{IntoParallelIterator, ParallelIterator};

pub(crate) use aggregator::parse_error_reason;
pub use aggregator::{Aggregator, Options, CHANNELS};
pub use batch::WritePart;
pub use stored_layout::stored_layout;

use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::Process;
use crate::layout::LayoutSpec;
use crate::mobile::MobileAggregates;
use crate::reject::HistogramReject;
use crate::replicate::ReplicateCount;
use crate::report::Report;
use interner::Interner;
use replication::Replication;

/// Hash map with foldhash (fast; see [`Interner`] for why DoS resistance is not needed).
pub(crate) type Map<K, V> = hashbrown::HashMap<K, V, RandomState>;

/// A build-id aggregate key: the interned ids of its dimensions, and which aggregate of them
/// (the normal one, or that of a replicate group).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct GroupKey {
    pub(crate) submission_date: u32,
    pub(crate) channel: u32,
    pub(crate) version: u32,
    /// The build-id date.
    pub(crate) build_id: u32,
    pub(crate) application: u32,
    pub(crate) architecture: u32,
    pub(crate) os: u32,
    pub(crate) os_version: u32,
    /// 0: the normal aggregate; `g + 1`: that of replicate group `g` (pings of the same
    /// dimensions whose group is `g`). Not an interned id: not in [`GroupKey::ids`].
    pub(crate) replicate: u8,
}

impl GroupKey {
    /// The ids of the dims: application, architecture, os and os version (in [`Dims`]'s order).
    pub(crate) fn dims_ids(&self) -> [u32; 4] {
        [
            self.application,
            self.architecture,
            self.os,
            self.os_version,
        ]
    }

    /// The ids in their serialised order (the order of the fields).
    pub(crate) fn ids(&self) -> [u32; 8] {
        [
            self.submission_date,
            self.channel,
            self.version,
            self.build_id,
            self.application,
            self.architecture,
            self.os,
            self.os_version,
        ]
    }

    /// The key of ids in the order of [`GroupKey::ids`], of the normal aggregate.
    pub(crate) fn from_ids(ids: [u32; 8]) -> Self {
        GroupKey {
            submission_date: ids[0],
            channel: ids[1],
            version: ids[2],
            build_id: ids[3],
            application: ids[4],
            architecture: ids[5],
            os: ids[6],
            os_version: ids[7],
            replicate: 0,
        }
    }

    /// True for the key of a normal aggregate (not of a replicate group).
    pub(crate) fn is_normal(&self) -> bool {
        self.replicate == 0
    }

    /// The key with every id mapped by `id` (the same replicate group); `None` when one has no
    /// image.
    fn remap(&self, id: impl Fn(u32) -> Option<u32>) -> Option<Self> {
        let mut out = [0u32; 8];
        for (o, k) in out.iter_mut().zip(self.ids()) {
            *o = id(k)?;
        }
        Some(GroupKey {
            replicate: self.replicate,
            ..Self::from_ids(out)
        })
    }

    /// The key of the submission-date aggregate this group is part of: every dimension but
    /// the build id (set to 0).
    fn submission_date_key(&self) -> Self {
        GroupKey {
            build_id: 0,
            ..*self
        }
    }
}

/// One series of a group: interned metric and label, process, layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SeriesId {
    pub(crate) metric: u32,
    pub(crate) label: u32,
    pub(crate) process: Process,
    pub(crate) layout: LayoutSpec,
}

impl std::hash::Hash for SeriesId {
    // Two words instead of six fields: this is hashed for every measurement of every ping.
    // Equal ids hash equally; what is left out only costs collisions. Inline (with the
    // accessors it reads): it sits in the innermost loop of every ping's commit.
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64((u64::from(self.metric) << 32) | u64::from(self.label));
        state.write_u64(
            self.layout.high()
                ^ self.layout.low().rotate_left(40)
                ^ (u64::from(self.layout.bucket_count()) << 44)
                ^ (u64::from(self.process.code()) << 60)
                ^ (u64::from(self.layout.kind().histogram_type()) << 61),
        );
    }
}

/// The series of one group.
pub(crate) type Series = Map<SeriesId, Histogram>;

/// Merges `other`'s report and replicate count into `into`'s (not the series). The pings of a
/// part made without replicate groups, merged with one made with them, are in no group:
/// they join `pings_without_replicate_group`, so that the groups' shortfall shows rather than
/// passing silently. (Associative and commutative: the pings used add up.)
fn merge_accounting(into: &mut Aggregates, other: &Aggregates) {
    let in_no_group = match (into.replication.range(), other.replication.range()) {
        (Some(_), None) => other.report.pings_used,
        (None, Some(_)) => into.report.pings_used,
        _ => 0,
    };
    into.replication.merge(other.replication);
    into.report.merge(&other.report);
    let without = &mut into.report.pings_without_replicate_group;
    *without = without.saturating_add(in_no_group);
}

/// A mergeable partial aggregate of pings, with its [`Report`].
///
/// Merging is associative and commutative, and [`Aggregates::new`] is its identity
/// (docs/ingest.md, "Aggregates and merging");
/// serializable with [`Aggregates::to_bytes`] (a compact binary form) and through serde (the
/// same bytes).
///
/// With [`Options::replicates`], it also holds the aggregates of each replicate group
/// (docs/ingest.md, "Replicate groups"), which merge the same way, and remembers R
/// ([`Aggregates::replicates`]).
///
/// ```
/// use mozaggregator_core::{Aggregates, Aggregator, Options};
/// let ping = br#"{"meta": {"submissionDate": "20240102", "sampleId": 7},
///   "application": {"channel": "nightly", "version": "120.0a1", "buildId": "20240101093000",
///                   "name": "Firefox", "architecture": "x86-64"},
///   "environment": {"system": {"os": {"name": "Linux", "version": "6.5.0"}}},
///   "payload": {"simpleMeasurements": {"uptime": 42}}}"#;
/// let mut aggregator = Aggregator::new(Options::default());
/// let mut a = Aggregates::new();
/// aggregator.add_json(&mut a, ping);
/// let mut b = Aggregates::new();
/// aggregator.add_json(&mut b, ping);
/// a.merge(b);
/// let bytes = a.to_bytes();
/// let a = Aggregates::from_bytes(&bytes).unwrap();
/// assert_eq!(a.report().pings_used, 2);
/// let batches = a.batches().unwrap();
/// assert_eq!(batches.len(), 1);
/// let (target, rows) = batches[0].tables.iter().next().unwrap();
/// assert_eq!((target.date.to_string(), target.version.as_str()), ("20240101".into(), "120"));
/// assert_eq!(rows[0].0.metric, "SIMPLE_MEASURES_UPTIME");
/// assert_eq!((rows[0].1.sum(), rows[0].1.count()), (84, 2));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Aggregates {
    pub(crate) strings: Interner,
    /// The normal aggregates and those of the replicate groups ([`GroupKey::replicate`]).
    pub(crate) groups: Map<GroupKey, Series>,
    pub(crate) replication: Replication,
    pub(crate) report: Report,
    /// The rows of mobile-metrics pings ([`crate::DocType::MobileMetrics`]).
    pub(crate) mobile: MobileAggregates,
}

impl Aggregates {
    /// The empty aggregate (identity of [`Aggregates::merge`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// The report of the pings aggregated so far.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, to record what happened after aggregation (store writes, wall time).
    pub fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    /// The number of replicate groups R the pings were split into ([`Options::replicates`]);
    /// `None` without replicate groups.
    ///
    /// ```
    /// use mozaggregator_core::{Aggregates, Aggregator, Options, ReplicateCount};
    /// let with = |r: u32| Options { replicates: Some(ReplicateCount::new(r).unwrap()), ..Options::default() };
    /// let mut a = Aggregates::new();
    /// Aggregator::new(with(20)).add_json(&mut a, b"{}");
    /// assert_eq!(a.replicates().unwrap().map(ReplicateCount::get), Some(20));
    /// a.merge(Aggregates::new());
    /// assert_eq!(a.replicates().unwrap().map(ReplicateCount::get), Some(20));
    /// let mut b = Aggregates::new();
    /// Aggregator::new(with(10)).add_json(&mut b, b"{}");
    /// a.merge(b);
    /// assert!(a.replicates().is_err());
    /// ```
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] (`replicates`) when partial aggregates made with different R
    /// were merged into this one: its groups cannot be told apart, and no batch can be built.
    pub fn replicates(&self) -> Result<Option<ReplicateCount>> {
        self.replication.count()
    }

    /// True when no series (and no mobile row) was aggregated.
    pub fn is_empty(&self) -> bool {
        self.groups.values().all(Series::is_empty) && self.mobile.is_empty()
    }

    /// The rows of mobile-metrics pings ([`crate::DocType::MobileMetrics`]); their batches
    /// are [`MobileAggregates::batches`].
    pub fn mobile(&self) -> &MobileAggregates {
        &self.mobile
    }

    /// Number of build-id aggregates (distinct build-id keys; replicate groups not counted).
    pub fn len(&self) -> usize {
        self.groups.keys().filter(|k| k.is_normal()).count()
    }

    /// Number of submission-date aggregates (distinct keys without the build id).
    pub fn submission_date_len(&self) -> usize {
        self.groups
            .keys()
            .filter(|k| k.is_normal())
            .map(GroupKey::submission_date_key)
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Number of build-id series (rows of the build-id family; replicate groups not counted).
    pub fn series_len(&self) -> usize {
        self.groups
            .iter()
            .filter(|(k, _)| k.is_normal())
            .map(|(_, s)| s.len())
            .sum()
    }

    /// Number of series, replicate groups included (what a merge moves).
    fn all_series_len(&self) -> usize {
        self.groups.values().map(Series::len).sum()
    }

    /// Merges `other` into `self`. A series whose merge would overflow keeps `self`'s value
    /// and is counted in the report as a histogram rejected for `overflow` (once, for its
    /// normal series: a replicate group's series is part of it, so it overflows only when that
    /// one does). Merging parts made with different replicate counts is remembered, and
    /// building a batch then fails ([`Aggregates::replicates`]). (For many partial aggregates
    /// at once, [`Aggregates::merge_all`] merges in parallel.)
    pub fn merge(&mut self, mut other: Aggregates) {
        // Merge the smaller into the larger (the result is the same either way).
        if self.all_series_len() < other.all_series_len() {
            std::mem::swap(self, &mut other);
        }
        merge_accounting(self, &other);
        let mobile_lost = self.mobile.merge(std::mem::take(&mut other.mobile));
        if mobile_lost > 0 {
            self.report
                .reject_histograms(HistogramReject::Overflow, mobile_lost);
        }
        if other.groups.is_empty() {
            return;
        }
        let remap: Vec<Option<u32>> = other
            .strings
            .names()
            .map(|s| self.strings.intern(s))
            .collect();
        let id = |i: u32| remap.get(i as usize).copied().flatten();
        let (mut lost, mut ignored) = (Lost::default(), Lost::default());
        for (key, series) in other.groups {
            let Some(key) = key.remap(id) else {
                counted(&key, &mut lost, &mut ignored).too_many_strings += series.len() as u64;
                continue;
            };
            let lost = counted(&key, &mut lost, &mut ignored);
            merge_series(self.groups.entry(key).or_default(), series, id, lost);
        }
        lost.report(&mut self.report);
    }

    /// Merges many partial aggregates into one, in parallel (on the current rayon pool): the
    /// groups are split into shards by key and each shard is merged on its own thread. The
    /// result is the same as merging them one by one, in any order.
    ///
    /// ```
    /// use mozaggregator_core::{Aggregates, Aggregator, Options};
    /// let ping = br#"{"meta": {"submissionDate": "20240102", "sampleId": 7},
    ///   "application": {"channel": "nightly", "version": "120.0a1", "buildId": "20240101093000",
    ///                   "name": "Firefox", "architecture": "x86-64"},
    ///   "environment": {"system": {"os": {"name": "Linux", "version": "6.5.0"}}},
    ///   "payload": {"simpleMeasurements": {"uptime": 42}}}"#;
    /// let mut aggregator = Aggregator::new(Options::default());
    /// let parts: Vec<Aggregates> = (0..3)
    ///     .map(|_| {
    ///         let mut a = Aggregates::new();
    ///         aggregator.add_json(&mut a, ping);
    ///         a
    ///     })
    ///     .collect();
    /// let all = Aggregates::merge_all(parts);
    /// assert_eq!(all.report().pings_used, 3);
    /// assert_eq!(all.batches().unwrap()[0].tables.values().next().unwrap()[0].1.count(), 3);
    /// ```
    pub fn merge_all(mut parts: Vec<Aggregates>) -> Aggregates {
        let Some(largest) = (0..parts.len()).max_by_key(|&i| parts[i].all_series_len()) else {
            return Aggregates::new();
        };
        let mut base = parts.swap_remove(largest);
        if parts.is_empty() {
            return base;
        }
        let mut mobile_lost = 0;
        for part in &mut parts {
            mobile_lost += base.mobile.merge(std::mem::take(&mut part.mobile));
        }
        if mobile_lost > 0 {
            base.report
                .reject_histograms(HistogramReject::Overflow, mobile_lost);
        }
        // One string table: the base's, extended with the others' strings.
        let remaps: Vec<Vec<Option<u32>>> = parts
            .iter()
            .map(|p| p.strings.names().map(|s| base.strings.intern(s)).collect())
            .collect();
        const SHARDS: usize = 64;
        let shard_of = |key: &GroupKey| {
            let ids = key.ids().into_iter().chain([u32::from(key.replicate)]);
            let h = ids.fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
                (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
            });
            (h % SHARDS as u64) as usize
        };
        // Distribute the groups (moving them, not their series' contents).
        let mut shards: Vec<Vec<(GroupKey, Series, Option<usize>)>> =
            (0..SHARDS).map(|_| Vec::new()).collect();
        let (mut lost, mut ignored) = (Lost::default(), Lost::default());
        for (key, series) in base.groups.drain() {
            shards[shard_of(&key)].push((key, series, None));
        }
        for (i, part) in parts.iter_mut().enumerate() {
            let id = |x: u32| remaps[i].get(x as usize).copied().flatten();
            for (key, series) in part.groups.drain() {
                match key.remap(id) {
                    Some(key) => shards[shard_of(&key)].push((key, series, Some(i))),
                    None => {
                        counted(&key, &mut lost, &mut ignored).too_many_strings +=
                            series.len() as u64;
                    }
                }
            }
        }
        let merged: Vec<(Map<GroupKey, Series>, Lost)> = shards
            .into_par_iter()
            .map(|shard| {
                let mut groups: Map<GroupKey, Series> = Map::default();
                let (mut lost, mut ignored) = (Lost::default(), Lost::default());
                for (key, series, part) in shard {
                    let lost = counted(&key, &mut lost, &mut ignored);
                    let dest = groups.entry(key).or_default();
                    match part {
                        // The base's ids need no remapping: move its series when first.
                        None if dest.is_empty() => *dest = series,
                        None => merge_series(dest, series, Some, lost),
                        Some(i) => {
                            let id = |x: u32| remaps[i].get(x as usize).copied().flatten();
                            merge_series(dest, series, id, lost);
                        }
                    }
                }
                (groups, lost)
            })
            .collect();
        for (groups, shard_lost) in merged {
            base.groups.extend(groups);
            lost.overflow += shard_lost.overflow;
            lost.too_many_strings += shard_lost.too_many_strings;
        }
        lost.report(&mut base.report);
        for part in &parts {
            merge_accounting(&mut base, part);
        }
        base
    }

    /// The submission dates present (desktop and mobile), sorted.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] if an interned submission date is not a date, which ingest and
    /// [`Aggregates::from_bytes`] never let in.
    pub fn submission_dates(&self) -> Result<Vec<Date>> {
        let mut dates = self.desktop_submission_dates()?;
        dates.extend(self.mobile.submission_dates());
        dates.sort_unstable();
        dates.dedup();
        Ok(dates)
    }

    /// The submission dates of the desktop aggregates, sorted.
    pub(crate) fn desktop_submission_dates(&self) -> Result<Vec<Date>> {
        let ids: BTreeSet<u32> = self
            .groups
            .keys()
            .filter(|k| k.is_normal())
            .map(|k| k.submission_date)
            .collect();
        let dates: BTreeSet<Date> = ids
            .into_iter()
            .map(|id| self.date(id))
            .collect::<Result<_>>()?;
        Ok(dates.into_iter().collect())
    }

    /// The interned date `id` (a submission date or build-id date) as a [`Date`].
    fn date(&self, id: u32) -> Result<Date> {
        Date::parse(self.strings.name(id))
    }

    /// The compact binary form (see `from_bytes`); the order of entries is unspecified.
    pub fn to_bytes(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Reads the form [`Aggregates::to_bytes`] writes, validating everything.
    ///
    /// # Errors
    /// [`crate::Error::Parse`] when the bytes are not a valid encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        codec::decode(bytes)
    }
}

/// Series a merge could not keep (of normal aggregates: see [`Aggregates::merge`]).
#[derive(Default)]
struct Lost {
    overflow: u64,
    too_many_strings: u64,
}

/// Where a merge counts what the group `key` loses: in `lost` for a normal aggregate, in
/// `ignored` (dropped) for a replicate group, whose losses are those of its normal aggregate.
fn counted<'a>(key: &GroupKey, lost: &'a mut Lost, ignored: &'a mut Lost) -> &'a mut Lost {
    if key.is_normal() {
        lost
    } else {
        ignored
    }
}

impl Lost {
    fn report(&self, report: &mut Report) {
        if self.overflow > 0 {
            report.reject_histograms(HistogramReject::Overflow, self.overflow);
        }
        if self.too_many_strings > 0 {
            report.reject_histograms(HistogramReject::TooManyStrings, self.too_many_strings);
        }
    }
}

/// Merges `series` (whose string ids `id` maps into `dest`'s table) into `dest`. A series
/// whose merge would overflow keeps `dest`'s value and is counted as lost.
fn merge_series(
    dest: &mut Series,
    series: Series,
    id: impl Fn(u32) -> Option<u32>,
    lost: &mut Lost,
) {
    dest.reserve(series.len().saturating_sub(dest.capacity() - dest.len()));
    for (sid, histogram) in series {
        let (Some(metric), Some(label)) = (id(sid.metric), id(sid.label)) else {
            lost.too_many_strings += 1;
            continue;
        };
        let sid = SeriesId {
            metric,
            label,
            ..sid
        };
        match dest.entry(sid) {
            Entry::Vacant(v) => {
                v.insert(histogram);
            }
            Entry::Occupied(mut o) => {
                if o.get_mut().merge(&histogram).is_err() {
                    lost.overflow += 1;
                }
            }
        }
    }
}

impl serde::Serialize for Aggregates {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.to_bytes())
    }
}

impl<'de> serde::Deserialize<'de> for Aggregates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> serde::de::Visitor<'de> for BytesVisitor {
            type Value = Aggregates;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the bytes of Aggregates::to_bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Aggregates, E> {
                Aggregates::from_bytes(v).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Aggregates, A::Error> {
                let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(b) = seq.next_element::<u8>()? {
                    bytes.push(b);
                }
                Aggregates::from_bytes(&bytes).map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_bytes(BytesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::GroupKey;

    #[test]
    fn group_key_ids_round_trip_in_field_order() {
        let key = GroupKey::from_ids([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(
            (key.submission_date, key.build_id, key.os_version),
            (1, 4, 8)
        );
        assert_eq!(GroupKey::from_ids(key.ids()), key);
        // The submission-date key drops the build id only, and keeps the order of the rest.
        let short = key.submission_date_key();
        assert_eq!(short.ids(), [1, 2, 3, 0, 5, 6, 7, 8]);
        assert!(GroupKey::from_ids([1, 2, 3, 9, 5, 6, 7, 8]).submission_date_key() == short);
    }
}

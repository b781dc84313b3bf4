//! Histogram sections and histogram objects (docs/ingest.md, "What is extracted" and "One histogram"): each histogram's fields are read
//! into [`HistogramFields`] and its `values` into the scratch, then handed to the rules.

use std::fmt;

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::fields::HistogramField;
use super::{any_seed, next_section, section, wrong_type, FieldKey};
use crate::aggregate::rules::{Ctx, HistogramFields, RangeField};
use crate::completion::parse_key;
use crate::keys::Process;
use crate::ping::{drain_seq, Scalar};
use crate::reject::HistogramReject;

/// Keyed histograms never aggregated (label explosion).
pub(crate) const IGNORED_KEYED_HISTOGRAMS: [&str; 2] = [
    "MESSAGE_MANAGER_MESSAGE_SIZE",
    "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
];

section! {
    /// `histograms`: name → histogram.
    pub(super) struct Histograms { pub(super) process: Process }
    expecting "histograms", else reject_hist(HistogramReject::SectionNotAnObject);
    #[inline]
    fn entry(self, ctx, name, map) {
        let metric = ctx.intern(name);
        map.next_value_seed(HistogramSeed {
            ctx,
            metric,
            label: Some(0),
            process: self.process,
        })
    }
}

section! {
    /// `keyedHistograms`: name → key → histogram.
    pub(super) struct KeyedHistograms { pub(super) process: Process }
    expecting "keyed histograms", else reject_hist(HistogramReject::SectionNotAnObject);
    fn entry(self, ctx, name, map) {
        if IGNORED_KEYED_HISTOGRAMS.contains(&name) {
            map.next_value::<IgnoredAny>()?;
            ctx.scratch.reject_hist(HistogramReject::IgnoredByName);
            return Ok(());
        }
        let metric = ctx.intern(name);
        next_section(map, ctx, HistogramKeys { metric, process: self.process })
    }
}

section! {
    /// The keys of one keyed histogram: key → histogram, the key as label (case kept).
    struct HistogramKeys { metric: Option<u32>, process: Process }
    expecting "a keyed histogram", else reject_hist(HistogramReject::NotAnObject);
    #[inline]
    fn entry(self, ctx, key, map) {
        let label = ctx.intern(key);
        map.next_value_seed(HistogramSeed {
            ctx,
            metric: self.metric,
            label,
            process: self.process,
        })
    }
}

/// One histogram object.
struct HistogramSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    metric: Option<u32>,
    label: Option<u32>,
    process: Process,
}

any_seed! {
    HistogramSeed<'_, '_> => (), "a histogram";

    wrong_type!(primitives, seq; |s: Self| s.ctx.scratch.reject_hist(HistogramReject::NotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut h = HistogramFields::default();
        ctx.scratch.values.clear();
        // Duplicate fields: the last one wins, as in most JSON readers.
        while let Some(field) = map.next_key_seed(FieldKey::<HistogramField>::new())? {
            match field {
                Some(HistogramField::Values) => {
                    ctx.scratch.values.clear();
                    h.values = Some(map.next_value_seed(ValuesSeed {
                        values: &mut ctx.scratch.values,
                    })?);
                }
                Some(HistogramField::Sum) => h.sum = Some(map.next_value()?),
                Some(HistogramField::HistogramType) => h.histogram_type = Some(map.next_value()?),
                Some(HistogramField::BucketCount) => h.bucket_count = Some(map.next_value()?),
                Some(HistogramField::Range) => h.range = map.next_value_seed(RangeSeed)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        ctx.histogram(self.metric, self.label, self.process, &h);
        Ok(())
    }
}

/// A bucket key, parsed as an integer while reading (`None`: not an integer).
struct Key(Option<i64>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a bucket key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(parse_key(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// `values`: parsed keys and classified counts into the scratch; `true` when an object.
struct ValuesSeed<'v> {
    values: &'v mut Vec<(Option<i64>, Scalar)>,
}

any_seed! {
    ValuesSeed<'_> => bool, "histogram values";

    wrong_type!(primitives, seq; |_| false);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let count: Scalar = map.next_value()?;
            self.values.push((key, count));
        }
        Ok(true)
    }
}

/// `range`: the first two elements of an array.
struct RangeSeed;

any_seed! {
    RangeSeed => RangeField, "a histogram range";

    wrong_type!(primitives, map; |_| RangeField::Invalid);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RangeField, A::Error> {
        let low = seq.next_element::<Scalar>()?;
        let high = if low.is_some() {
            seq.next_element::<Scalar>()?
        } else {
            None
        };
        drain_seq(seq)?;
        Ok(RangeField::Pair(low, high))
    }
}

//! Histogram sections and histogram objects (docs/ingest.md, "What is extracted" and "One histogram"): each histogram's fields are read
//! into [`HistogramFields`] and its `values` into the scratch, then handed to the rules.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::fields::HistogramField;
use super::{wrong_type, Entries, FieldKey, Section};
use crate::aggregate::rules::{Ctx, HistogramFields, RangeField, Scratch};
use crate::completion::parse_key;
use crate::keys::Process;
use crate::ping::{drain_seq, Scalar};
use crate::reject::HistogramReject;

/// Keyed histograms never aggregated (label explosion).
const IGNORED_KEYED_HISTOGRAMS: [&str; 2] = [
    "MESSAGE_MANAGER_MESSAGE_SIZE",
    "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
];

/// `histograms`: name → histogram.
#[derive(Clone, Copy)]
pub(super) struct Histograms {
    pub(super) process: Process,
}

impl Entries for Histograms {
    fn expecting(self) -> &'static str {
        "histograms"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(HistogramReject::SectionNotAnObject);
    }

    #[inline]
    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        name: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let metric = ctx.intern(name);
        map.next_value_seed(HistogramSeed {
            ctx,
            metric,
            label: Some(0),
            process: self.process,
        })
    }
}

/// `keyedHistograms`: name → key → histogram.
#[derive(Clone, Copy)]
pub(super) struct KeyedHistograms {
    pub(super) process: Process,
}

impl Entries for KeyedHistograms {
    fn expecting(self) -> &'static str {
        "keyed histograms"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(HistogramReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        name: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if IGNORED_KEYED_HISTOGRAMS.contains(&name) {
            map.next_value::<IgnoredAny>()?;
            ctx.scratch.reject_hist(HistogramReject::IgnoredByName);
            return Ok(());
        }
        let metric = ctx.intern(name);
        map.next_value_seed(Section {
            ctx,
            entries: HistogramKeys {
                metric,
                process: self.process,
            },
        })
    }
}

/// The keys of one keyed histogram: key → histogram, the key as label (case kept).
#[derive(Clone, Copy)]
struct HistogramKeys {
    metric: Option<u32>,
    process: Process,
}

impl Entries for HistogramKeys {
    fn expecting(self) -> &'static str {
        "a keyed histogram"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(HistogramReject::NotAnObject);
    }

    #[inline]
    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
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

impl<'de> DeserializeSeed<'de> for HistogramSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for HistogramSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a histogram")
    }

    wrong_type!(primitives, |s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::NotAnObject));
    wrong_type!(seq, |s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::NotAnObject));

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

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("histogram values")
    }

    wrong_type!(primitives, |_| false);
    wrong_type!(seq, |_| false);

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

impl<'de> DeserializeSeed<'de> for RangeSeed {
    type Value = RangeField;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<RangeField, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RangeSeed {
    type Value = RangeField;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a histogram range")
    }

    wrong_type!(primitives, |_| RangeField::Invalid);
    wrong_type!(map, |_| RangeField::Invalid);

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

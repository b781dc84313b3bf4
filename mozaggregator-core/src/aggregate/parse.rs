//! The streaming parse of one ping: the envelope into an [`Envelope`], the payload straight
//! into records of the scratch, following the table of SPEC §2.2. Nothing of the payload is
//! built as a tree; the parts aggregation does not read are skipped by serde_json.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::rules::{push_upper, Ctx, HistogramFields, RangeField};
use crate::completion::parse_key;
use crate::keys::Process;
use crate::layout::LayoutSpec;
use crate::ping::{
    drain_map, drain_seq, Application, Envelope, Environment, Lenient, Meta, Scalar, Str, Text,
};
use crate::reject::{HistogramReject, ScalarReject};

/// Keyed histograms never aggregated (label explosion).
const IGNORED_KEYED_HISTOGRAMS: [&str; 2] = [
    "MESSAGE_MANAGER_MESSAGE_SIZE",
    "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
];

/// Scalars never aggregated: names starting with this.
const IGNORED_SCALAR_PREFIX: &str = "browser.engagement.navigation";

/// Implements the `visit_*` of every JSON type but objects
/// as "wrong type": skip the value and call `$wrong(self)` (`primitives`: all but arrays).
macro_rules! not_an_object {
    ($wrong:expr, primitives) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_unit<E: de::Error>(self) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
        fn visit_none<E: de::Error>(self) -> Result<(), E> {
            ($wrong)(self);
            Ok(())
        }
    };
    ($wrong:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
            drain_seq(seq)?;
            ($wrong)(self);
            Ok(())
        }
        not_an_object!($wrong, primitives);
    };
}

/// Implements `DeserializeSeed` for a seed that is its own visitor.
macro_rules! seed {
    ($ty:ident) => {
        impl<'de> DeserializeSeed<'de> for $ty<'_, '_> {
            type Value = ();

            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_any(self)
            }
        }
    };
}

/// A map key matched against the field names a section reads (no allocation): the matcher's
/// answer, `None` for any other key.
struct Field(fn(&str) -> Option<u8>);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = Option<u8>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u8>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Field {
    type Value = Option<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u8>, E> {
        Ok((self.0)(v))
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

// ------------------------------------------------------------------------------------------------
// The ping

/// Parses a whole ping: returns its envelope (or `None` when the document is not an object),
/// with the payload's records in the scratch.
pub(crate) struct PingSeed<'c, 's> {
    pub(crate) ctx: &'c mut Ctx<'s>,
}

impl<'de> DeserializeSeed<'de> for PingSeed<'_, '_> {
    type Value = Option<Envelope<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn ping_field(k: &str) -> Option<u8> {
    match k {
        "meta" => Some(0),
        "clientId" => Some(1),
        "application" => Some(2),
        "environment" => Some(3),
        "payload" => Some(4),
        _ => None,
    }
}

impl<'de> Visitor<'de> for PingSeed<'_, '_> {
    type Value = Option<Envelope<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a ping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope::default();
        let mut payloads = 0;
        while let Some(field) = map.next_key_seed(Field(ping_field))? {
            match field {
                Some(0) => envelope.meta = Some(map.next_value::<Lenient<Meta<'de>>>()?),
                Some(1) => envelope.client_id = Some(map.next_value::<Text<'de>>()?),
                Some(2) => {
                    envelope.application = Some(map.next_value::<Lenient<Application<'de>>>()?);
                }
                Some(3) => {
                    envelope.environment = Some(map.next_value::<Lenient<Environment<'de>>>()?);
                }
                Some(_) => {
                    payloads += 1;
                    if payloads > 1 {
                        return Err(de::Error::duplicate_field("payload"));
                    }
                    map.next_value_seed(PayloadSeed {
                        ctx: &mut *self.ctx,
                        legacy_child: false,
                    })?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Some(envelope))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

// ------------------------------------------------------------------------------------------------
// Payload, processes, child payloads

/// A payload: the ping's own (`legacy_child: false`, parent process, with `processes` and
/// `childPayloads`) or one of the legacy `childPayloads` (content process, histograms and
/// simple measurements only).
struct PayloadSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    legacy_child: bool,
}

seed!(PayloadSeed);

fn payload_field(k: &str) -> Option<u8> {
    match k {
        "histograms" => Some(0),
        "keyedHistograms" => Some(1),
        "simpleMeasurements" => Some(2),
        "processes" => Some(3),
        "childPayloads" => Some(4),
        _ => None,
    }
}

impl<'de> Visitor<'de> for PayloadSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.legacy_child {
            "a child payload"
        } else {
            "a payload"
        })
    }

    not_an_object!(|s: Self| s.ctx.scratch.reject_hist(if s.legacy_child {
        HistogramReject::SectionNotAnObject
    } else {
        HistogramReject::PayloadNotAnObject
    }));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, top) = (self.ctx, !self.legacy_child);
        // Legacy child payloads are content processes.
        let process = if top {
            Process::Parent
        } else {
            Process::Content
        };
        while let Some(field) = map.next_key_seed(Field(payload_field))? {
            match field {
                Some(0) => map.next_value_seed(HistogramsSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                Some(1) => map.next_value_seed(KeyedHistogramsSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                Some(2) => map.next_value_seed(MeasuresSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                Some(3) if top => map.next_value_seed(ProcessesSeed { ctx: &mut *ctx })?,
                Some(4) if top => map.next_value_seed(ChildrenSeed { ctx: &mut *ctx })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ProcessesSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
}

seed!(ProcessesSeed);

fn process_name(k: &str) -> Option<u8> {
    match k {
        "parent" => Some(0),
        "content" => Some(1),
        "gpu" => Some(2),
        _ => None,
    }
}

impl<'de> Visitor<'de> for ProcessesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payload.processes")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while let Some(field) = map.next_key_seed(Field(process_name))? {
            let process = match field {
                Some(0) => Process::Parent,
                Some(1) => Process::Content,
                Some(_) => Process::Gpu,
                // extension, dynamic, …: ignored.
                None => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(ProcessSeed {
                ctx: &mut *ctx,
                process,
            })?;
        }
        Ok(())
    }
}

struct ProcessSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(ProcessSeed);

fn process_field(k: &str) -> Option<u8> {
    match k {
        "histograms" => Some(0),
        "keyedHistograms" => Some(1),
        "scalars" => Some(2),
        "keyedScalars" => Some(3),
        _ => None,
    }
}

impl<'de> Visitor<'de> for ProcessSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a process")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        // Parent histograms live in payload.histograms: processes.parent's are not read.
        let histograms = process != Process::Parent;
        while let Some(field) = map.next_key_seed(Field(process_field))? {
            match field {
                Some(0) if histograms => map.next_value_seed(HistogramsSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                Some(1) if histograms => {
                    map.next_value_seed(KeyedHistogramsSeed {
                        ctx: &mut *ctx,
                        process,
                    })?;
                }
                Some(2) => map.next_value_seed(ScalarsSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                Some(3) => map.next_value_seed(KeyedScalarsSeed {
                    ctx: &mut *ctx,
                    process,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct ChildrenSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
}

seed!(ChildrenSeed);

impl<'de> Visitor<'de> for ChildrenSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payload.childPayloads")
    }

    not_an_object!(
        |s: Self| s
            .ctx
            .scratch
            .reject_hist(HistogramReject::SectionNotAnObject),
        primitives
    );

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        drain_map(map)?;
        self.ctx
            .scratch
            .reject_hist(HistogramReject::SectionNotAnObject);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while seq
            .next_element_seed(PayloadSeed {
                ctx: &mut *ctx,
                legacy_child: true,
            })?
            .is_some()
        {}
        Ok(())
    }
}

// ------------------------------------------------------------------------------------------------
// Histograms

struct HistogramsSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(HistogramsSeed);

impl<'de> Visitor<'de> for HistogramsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("histograms")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        while let Some(name) = map.next_key::<Str<'de>>()? {
            let metric = ctx.intern(&name);
            map.next_value_seed(HistogramSeed {
                ctx: &mut *ctx,
                metric,
                label: Some(0),
                process,
            })?;
        }
        Ok(())
    }
}

struct KeyedHistogramsSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(KeyedHistogramsSeed);

impl<'de> Visitor<'de> for KeyedHistogramsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("keyed histograms")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        while let Some(name) = map.next_key::<Str<'de>>()? {
            if IGNORED_KEYED_HISTOGRAMS.contains(&&*name) {
                map.next_value::<IgnoredAny>()?;
                ctx.scratch.reject_hist(HistogramReject::IgnoredByName);
                continue;
            }
            let metric = ctx.intern(&name);
            map.next_value_seed(KeyedSeed {
                ctx: &mut *ctx,
                metric,
                process,
            })?;
        }
        Ok(())
    }
}

/// The keys of one keyed histogram.
struct KeyedSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    metric: Option<u32>,
    process: Process,
}

seed!(KeyedSeed);

impl<'de> Visitor<'de> for KeyedSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a keyed histogram")
    }

    not_an_object!(|s: Self| s.ctx.scratch.reject_hist(HistogramReject::NotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, metric, process) = (self.ctx, self.metric, self.process);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            // Keys of keyed histograms keep their case.
            let label = ctx.intern(&key);
            map.next_value_seed(HistogramSeed {
                ctx: &mut *ctx,
                metric,
                label,
                process,
            })?;
        }
        Ok(())
    }
}

/// One histogram object.
struct HistogramSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    metric: Option<u32>,
    label: Option<u32>,
    process: Process,
}

seed!(HistogramSeed);

fn histogram_field(k: &str) -> Option<u8> {
    match k {
        "values" => Some(0),
        "sum" => Some(1),
        "histogram_type" => Some(2),
        "bucket_count" => Some(3),
        "range" => Some(4),
        _ => None,
    }
}

impl<'de> Visitor<'de> for HistogramSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a histogram")
    }

    not_an_object!(|s: Self| s.ctx.scratch.reject_hist(HistogramReject::NotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        let mut h = HistogramFields::default();
        ctx.scratch.values.clear();
        // Duplicate fields: the last one wins, as in most JSON readers.
        while let Some(field) = map.next_key_seed(Field(histogram_field))? {
            match field {
                Some(0) => {
                    ctx.scratch.values.clear();
                    h.values = Some(map.next_value_seed(ValuesSeed {
                        values: &mut ctx.scratch.values,
                    })?);
                }
                Some(1) => h.sum = Some(map.next_value()?),
                Some(2) => h.histogram_type = Some(map.next_value()?),
                Some(3) => h.bucket_count = Some(map.next_value()?),
                Some(_) => h.range = map.next_value_seed(RangeSeed)?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        ctx.histogram(self.metric, self.label, self.process, &h);
        Ok(())
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

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let count: Scalar = map.next_value()?;
            self.values.push((key, count));
        }
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        drain_seq(seq)?;
        Ok(false)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
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

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RangeField, A::Error> {
        drain_map(map)?;
        Ok(RangeField::Invalid)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }

    fn visit_unit<E: de::Error>(self) -> Result<RangeField, E> {
        Ok(RangeField::Invalid)
    }
}

// ------------------------------------------------------------------------------------------------
// Scalars and simple measurements

struct ScalarsSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(ScalarsSeed);

impl<'de> Visitor<'de> for ScalarsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("scalars")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_scalar(ScalarReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        while let Some(name) = map.next_key::<Str<'de>>()? {
            if name.starts_with(IGNORED_SCALAR_PREFIX) {
                map.next_value::<IgnoredAny>()?;
                ctx.scratch.reject_scalar(ScalarReject::IgnoredByName);
                continue;
            }
            let value: Scalar = map.next_value()?;
            ctx.scratch.name.clear();
            ctx.scratch.name.push_str("SCALARS_");
            push_upper(&mut ctx.scratch.name, &name);
            let metric = ctx.intern_name();
            ctx.scalar(metric, Some(0), process, LayoutSpec::scalar(), value);
        }
        Ok(())
    }
}

struct KeyedScalarsSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(KeyedScalarsSeed);

impl<'de> Visitor<'de> for KeyedScalarsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("keyed scalars")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_scalar(ScalarReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        while let Some(name) = map.next_key::<Str<'de>>()? {
            if name.starts_with(IGNORED_SCALAR_PREFIX) {
                map.next_value::<IgnoredAny>()?;
                ctx.scratch.reject_scalar(ScalarReject::IgnoredByName);
                continue;
            }
            ctx.scratch.name.clear();
            ctx.scratch.name.push_str("SCALARS_");
            push_upper(&mut ctx.scratch.name, &name);
            let metric = ctx.intern_name();
            map.next_value_seed(KeyedScalarSeed {
                ctx: &mut *ctx,
                metric,
                process,
            })?;
        }
        Ok(())
    }
}

/// The keys of one keyed scalar: labels uppercased.
struct KeyedScalarSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    metric: Option<u32>,
    process: Process,
}

seed!(KeyedScalarSeed);

impl<'de> Visitor<'de> for KeyedScalarSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a keyed scalar")
    }

    not_an_object!(|s: Self| s.ctx.scratch.reject_scalar(ScalarReject::NotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, metric, process) = (self.ctx, self.metric, self.process);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            let value: Scalar = map.next_value()?;
            ctx.scratch.label.clear();
            push_upper(&mut ctx.scratch.label, &key);
            let label = ctx.intern_label();
            ctx.scalar(metric, label, process, LayoutSpec::scalar(), value);
        }
        Ok(())
    }
}

struct MeasuresSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    process: Process,
}

seed!(MeasuresSeed);

impl<'de> Visitor<'de> for MeasuresSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("simple measurements")
    }

    not_an_object!(|s: Self| s
        .ctx
        .scratch
        .reject_scalar(ScalarReject::SectionNotAnObject));

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (ctx, process) = (self.ctx, self.process);
        while let Some(name) = map.next_key::<Str<'de>>()? {
            map.next_value_seed(MeasureSeed {
                ctx: &mut *ctx,
                name: &name,
                process,
            })?;
        }
        Ok(())
    }
}

/// One simple measurement: a leaf value, or an object read one level deep.
struct MeasureSeed<'c, 's, 'n> {
    ctx: &'c mut Ctx<'s>,
    name: &'n str,
    process: Process,
}

impl<'de> DeserializeSeed<'de> for MeasureSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl MeasureSeed<'_, '_, '_> {
    fn leaf(self, value: Scalar) {
        let ctx = self.ctx;
        ctx.scratch.name.clear();
        ctx.scratch.name.push_str("SIMPLE_MEASURES_");
        push_upper(&mut ctx.scratch.name, self.name);
        let metric = ctx.intern_name();
        ctx.scalar(
            metric,
            Some(0),
            self.process,
            LayoutSpec::simple_measure(),
            value,
        );
    }
}

impl<'de> Visitor<'de> for MeasureSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a simple measurement")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.leaf(Scalar::Bool(v));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.leaf(match u64::try_from(v) {
            Ok(u) => Scalar::Unsigned(u),
            Err(_) => Scalar::Negative(v),
        });
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.leaf(Scalar::Unsigned(v));
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.leaf(Scalar::Float(v));
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.leaf(Scalar::String);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.leaf(Scalar::Null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        drain_seq(seq)?;
        self.leaf(Scalar::Array);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while let Some(sub) = map.next_key::<Str<'de>>()? {
            // Deeper objects are skipped (counted as not numeric).
            let value: Scalar = map.next_value()?;
            ctx.scratch.name.clear();
            ctx.scratch.name.push_str("SIMPLE_MEASURES_");
            push_upper(&mut ctx.scratch.name, self.name);
            ctx.scratch.name.push('_');
            push_upper(&mut ctx.scratch.name, &sub);
            let metric = ctx.intern_name();
            ctx.scalar(
                metric,
                Some(0),
                self.process,
                LayoutSpec::simple_measure(),
                value,
            );
        }
        Ok(())
    }
}

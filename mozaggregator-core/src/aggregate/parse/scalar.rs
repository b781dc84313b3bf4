//! Scalar sections and simple measurements (docs/ingest.md, "What is extracted" and "Scalars, …"): each value becomes a record of
//! a `SCALARS_…` or `SIMPLE_MEASURES_…` series, names (and keyed scalars' keys) uppercased.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use super::{Entries, Section};
use crate::aggregate::rules::{push_upper, Ctx, Scratch};
use crate::keys::Process;
use crate::layout::LayoutSpec;
use crate::metric_name;
use crate::ping::{drain_seq, Scalar};
use crate::reject::ScalarReject;

/// Scalars never aggregated: names starting with this.
const IGNORED_SCALAR_PREFIX: &str = "browser.engagement.navigation";

/// Sets the scratch's name buffer to `SCALARS_` + `name` uppercased and interns it.
fn scalar_metric(ctx: &mut Ctx<'_>, name: &str) -> Option<u32> {
    ctx.scratch.name.clear();
    ctx.scratch.name.push_str(metric_name::SCALARS_PREFIX);
    push_upper(&mut ctx.scratch.name, name);
    ctx.intern_name()
}

/// `scalars`: name → value.
#[derive(Clone, Copy)]
pub(super) struct Scalars {
    pub(super) process: Process,
}

impl Entries for Scalars {
    fn expecting(self) -> &'static str {
        "scalars"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_scalar(ScalarReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        name: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if name.starts_with(IGNORED_SCALAR_PREFIX) {
            map.next_value::<IgnoredAny>()?;
            ctx.scratch.reject_scalar(ScalarReject::IgnoredByName);
            return Ok(());
        }
        let value: Scalar = map.next_value()?;
        let metric = scalar_metric(ctx, name);
        ctx.scalar(metric, Some(0), self.process, LayoutSpec::scalar(), value);
        Ok(())
    }
}

/// `keyedScalars`: name → key → value.
#[derive(Clone, Copy)]
pub(super) struct KeyedScalars {
    pub(super) process: Process,
}

impl Entries for KeyedScalars {
    fn expecting(self) -> &'static str {
        "keyed scalars"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_scalar(ScalarReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        name: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if name.starts_with(IGNORED_SCALAR_PREFIX) {
            map.next_value::<IgnoredAny>()?;
            ctx.scratch.reject_scalar(ScalarReject::IgnoredByName);
            return Ok(());
        }
        let metric = scalar_metric(ctx, name);
        map.next_value_seed(Section {
            ctx,
            entries: ScalarKeys {
                metric,
                process: self.process,
            },
        })
    }
}

/// The keys of one keyed scalar: key → value, the key uppercased as label.
#[derive(Clone, Copy)]
struct ScalarKeys {
    metric: Option<u32>,
    process: Process,
}

impl Entries for ScalarKeys {
    fn expecting(self) -> &'static str {
        "a keyed scalar"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_scalar(ScalarReject::NotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let value: Scalar = map.next_value()?;
        ctx.scratch.label.clear();
        push_upper(&mut ctx.scratch.label, key);
        let label = ctx.intern_label();
        ctx.scalar(
            self.metric,
            label,
            self.process,
            LayoutSpec::scalar(),
            value,
        );
        Ok(())
    }
}

/// `simpleMeasurements`: name → value, or name → sub-name → value.
#[derive(Clone, Copy)]
pub(super) struct Measures {
    pub(super) process: Process,
}

impl Entries for Measures {
    fn expecting(self) -> &'static str {
        "simple measurements"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_scalar(ScalarReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        name: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        map.next_value_seed(MeasureSeed {
            ctx,
            name,
            process: self.process,
        })
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
    /// Records `value` as `SIMPLE_MEASURES_` + name (+ `_` + `sub`), uppercased.
    fn record(&mut self, sub: Option<&str>, value: Scalar) {
        let ctx = &mut *self.ctx;
        ctx.scratch.name.clear();
        ctx.scratch
            .name
            .push_str(metric_name::SIMPLE_MEASURES_PREFIX);
        push_upper(&mut ctx.scratch.name, self.name);
        if let Some(sub) = sub {
            ctx.scratch.name.push('_');
            push_upper(&mut ctx.scratch.name, sub);
        }
        let metric = ctx.intern_name();
        ctx.scalar(
            metric,
            Some(0),
            self.process,
            LayoutSpec::simple_measure(),
            value,
        );
    }

    fn leaf(mut self, value: Scalar) {
        self.record(None, value);
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

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(sub) = map.next_key::<crate::ping::Str<'de>>()? {
            // Deeper objects are skipped (counted as not numeric).
            let value: Scalar = map.next_value()?;
            self.record(Some(&sub), value);
        }
        Ok(())
    }
}

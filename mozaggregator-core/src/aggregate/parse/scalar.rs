//! Scalar sections and simple measurements (docs/ingest.md, "What is extracted" and "Scalars, …"): each value becomes a record of
//! a `SCALARS_…` or `SIMPLE_MEASURES_…` series, names (and keyed scalars' keys) uppercased.

use serde::de::{self, IgnoredAny, MapAccess, SeqAccess};

use super::{any_seed, next_section, section};
use crate::aggregate::rules::{push_upper, Ctx};
use crate::keys::Process;
use crate::layout::LayoutSpec;
use crate::metric_name;
use crate::ping::{drain_seq, Scalar};
use crate::reject::ScalarReject;

/// Scalars never aggregated: names starting with this.
pub(crate) const IGNORED_SCALAR_PREFIX: &str = "browser.engagement.navigation";

/// Sets the scratch's name buffer to `SCALARS_` + `name` uppercased and interns it.
fn scalar_metric(ctx: &mut Ctx<'_>, name: &str) -> Option<u32> {
    ctx.scratch.name.clear();
    ctx.scratch.name.push_str(metric_name::SCALARS_PREFIX);
    push_upper(&mut ctx.scratch.name, name);
    ctx.intern_name()
}

/// Skips the value of a scalar whose name is never aggregated (counted as such): `true` when
/// `name` is one.
fn skip_ignored<'de, A: MapAccess<'de>>(
    ctx: &mut Ctx<'_>,
    name: &str,
    map: &mut A,
) -> Result<bool, A::Error> {
    if !name.starts_with(IGNORED_SCALAR_PREFIX) {
        return Ok(false);
    }
    map.next_value::<IgnoredAny>()?;
    ctx.scratch.reject_scalar(ScalarReject::IgnoredByName);
    Ok(true)
}

section! {
    /// `scalars` (name → value) or, `keyed`, `keyedScalars` (name → key → value).
    pub(super) struct Scalars { pub(super) process: Process, pub(super) keyed: bool }
    expecting if self.keyed { "keyed scalars" } else { "scalars" },
    else reject_scalar(ScalarReject::SectionNotAnObject);
    fn entry(self, ctx, name, map) {
        if skip_ignored(ctx, name, map)? {
            Ok(())
        } else if self.keyed {
            let metric = scalar_metric(ctx, name);
            next_section(map, ctx, ScalarKeys { metric, process: self.process })
        } else {
            let value: Scalar = map.next_value()?;
            let metric = scalar_metric(ctx, name);
            ctx.scalar(metric, Some(0), self.process, LayoutSpec::scalar(), value);
            Ok(())
        }
    }
}

section! {
    /// The keys of one keyed scalar: key → value, the key uppercased as label.
    struct ScalarKeys { metric: Option<u32>, process: Process }
    expecting "a keyed scalar", else reject_scalar(ScalarReject::NotAnObject);
    fn entry(self, ctx, key, map) {
        let value: Scalar = map.next_value()?;
        ctx.scratch.label.clear();
        push_upper(&mut ctx.scratch.label, key);
        let label = ctx.intern_label();
        ctx.scalar(self.metric, label, self.process, LayoutSpec::scalar(), value);
        Ok(())
    }
}

section! {
    /// `simpleMeasurements`: name → value, or name → sub-name → value.
    pub(super) struct Measures { pub(super) process: Process }
    expecting "simple measurements", else reject_scalar(ScalarReject::SectionNotAnObject);
    fn entry(self, ctx, name, map) {
        map.next_value_seed(MeasureSeed { ctx, name, process: self.process })
    }
}

/// One simple measurement: a leaf value, or an object read one level deep.
struct MeasureSeed<'c, 's, 'n> {
    ctx: &'c mut Ctx<'s>,
    name: &'n str,
    process: Process,
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

any_seed! {
    MeasureSeed<'_, '_, '_> => (), "a simple measurement";

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

//! The per-item rules of docs/ingest.md ("One histogram"; "Scalars, simple measures, count
//! histograms"), applied while a ping is parsed: each histogram, scalar
//! and simple measure becomes a [`Record`] in the ping's [`Scratch`], or a counted reject.
//! Records reach the aggregates only once the whole ping parsed and its dimensions are valid.

use super::{Interner, Map, Options, SeriesId};
use crate::completion::place;
use crate::keys::Process;
use crate::layout::{bucket_index, BucketLayout, Kind, LayoutSpec};
use crate::metric_name;
use crate::ping::Scalar;
use crate::reject::{HistogramReject, ScalarReject};

/// 2^64 as f64: JSON integers beyond u64 arrive as floats at least this large.
pub(crate) const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// What a record adds to its series.
#[derive(Clone, Copy, Debug)]
pub(crate) enum What {
    /// A completed histogram: its non-zero buckets `pairs[start..end]` of the scratch
    /// (bucket index, count), and `sum`.
    Sparse { start: usize, end: usize, sum: u64 },
    /// One scalar-like value in bucket `index`. `histogram`: a count histogram.
    Value {
        index: usize,
        value: u64,
        histogram: bool,
    },
}

/// One measurement of the ping being parsed, ready to be added to its series.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    pub(crate) sid: SeriesId,
    pub(crate) what: What,
    /// Samples of the histogram that fit no bucket.
    pub(crate) unplaced: u64,
    /// Keys that are not integers.
    pub(crate) bad_keys: u64,
    /// Counts that are not integers (counted as 0).
    pub(crate) non_integer: u64,
}

/// Buffers of one ping, reused from ping to ping (no allocation in steady state).
#[derive(Clone, Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) records: Vec<Record>,
    /// Placed buckets of the records: (bucket index, count).
    pub(crate) pairs: Vec<(u32, u64)>,
    /// The `values` of the histogram being parsed: parsed key, count.
    pub(crate) values: Vec<(Option<i64>, Scalar)>,
    /// Rejected histograms of the ping, indexed by [`HistogramReject`] (`reason as usize`).
    pub(crate) hist_rejects: [u64; HistogramReject::COUNT],
    /// Rejected scalar values of the ping, indexed by [`ScalarReject`].
    pub(crate) scalar_rejects: [u64; ScalarReject::COUNT],
    /// Metric-name and label buffers.
    pub(crate) name: String,
    pub(crate) label: String,
}

impl Scratch {
    pub(crate) fn clear(&mut self) {
        self.records.clear();
        self.pairs.clear();
        self.values.clear();
        self.hist_rejects = [0; HistogramReject::COUNT];
        self.scalar_rejects = [0; ScalarReject::COUNT];
    }

    pub(crate) fn reject_hist(&mut self, reason: HistogramReject) {
        self.hist_rejects[reason as usize] += 1;
    }

    pub(crate) fn reject_scalar(&mut self, reason: ScalarReject) {
        self.scalar_rejects[reason as usize] += 1;
    }
}

/// The `range` field of a histogram: its first two elements, or not an array.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum RangeField {
    #[default]
    Missing,
    Pair(Option<Scalar>, Option<Scalar>),
    Invalid,
}

/// The fields of one histogram object; its `values` are in the scratch.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct HistogramFields {
    pub(crate) histogram_type: Option<Scalar>,
    pub(crate) range: RangeField,
    pub(crate) bucket_count: Option<Scalar>,
    pub(crate) sum: Option<Scalar>,
    /// `Some(true)`: `values` was an object (entries in the scratch); `Some(false)`: it was
    /// something else; `None`: absent.
    pub(crate) values: Option<bool>,
}

/// What the parser needs while reading one ping.
pub(crate) struct Ctx<'s> {
    pub(crate) strings: &'s mut Interner,
    pub(crate) scratch: &'s mut Scratch,
    pub(crate) layouts: &'s mut Map<LayoutSpec, BucketLayout>,
    pub(crate) options: &'s Options,
}

/// A scalar-like value as the `u64` recorded, or why it is skipped (docs/ingest.md, "Scalars, simple measures, count histograms").
/// Floats are floored, for the bucket and for the sum (which is an integer here).
pub(crate) fn scalar_value(v: Scalar) -> Result<u64, ScalarReject> {
    match v {
        Scalar::Unsigned(u) => Ok(u),
        Scalar::Bool(b) => Ok(u64::from(b)),
        Scalar::Negative(_) => Err(ScalarReject::Negative),
        Scalar::Float(f) if f.is_nan() => Err(ScalarReject::NotNumeric),
        Scalar::Float(f) if f < 0.0 => Err(ScalarReject::Negative),
        Scalar::Float(f) if f >= TWO_POW_64 => Err(ScalarReject::OutOfRange),
        Scalar::Float(f) => Ok(f.floor() as u64),
        Scalar::String | Scalar::Null | Scalar::Array | Scalar::Object => {
            Err(ScalarReject::NotNumeric)
        }
    }
}

/// Appends `s` uppercased (Unicode rules; ASCII fast path).
pub(crate) fn push_upper(buf: &mut String, s: &str) {
    if s.is_ascii() {
        let start = buf.len();
        buf.push_str(s);
        buf[start..].make_ascii_uppercase();
    } else {
        buf.push_str(&s.to_uppercase());
    }
}

impl Ctx<'_> {
    /// Interns `s`.
    pub(crate) fn intern(&mut self, s: &str) -> Option<u32> {
        self.strings.intern(s)
    }

    /// Interns the metric name in the scratch's name buffer.
    pub(crate) fn intern_name(&mut self) -> Option<u32> {
        self.strings.intern(&self.scratch.name)
    }

    /// Interns the label in the scratch's label buffer.
    pub(crate) fn intern_label(&mut self) -> Option<u32> {
        self.strings.intern(&self.scratch.label)
    }

    fn bucket_of(&mut self, spec: LayoutSpec, value: u64) -> usize {
        let layout = self
            .layouts
            .entry(spec)
            .or_insert_with(|| BucketLayout::new(spec));
        bucket_index(layout.bounds(), value)
    }

    /// One scalar value (`SCALARS_…`) or simple measure (`SIMPLE_MEASURES_…`).
    pub(crate) fn scalar(
        &mut self,
        metric: Option<u32>,
        label: Option<u32>,
        process: Process,
        spec: LayoutSpec,
        value: Scalar,
    ) {
        let (Some(metric), Some(label)) = (metric, label) else {
            return self.scratch.reject_scalar(ScalarReject::TooManyStrings);
        };
        match scalar_value(value) {
            Ok(v) => {
                let index = self.bucket_of(spec, v);
                self.scratch.records.push(Record {
                    sid: SeriesId {
                        metric,
                        label,
                        process,
                        layout: spec,
                    },
                    what: What::Value {
                        index,
                        value: v,
                        histogram: false,
                    },
                    unplaced: 0,
                    bad_keys: 0,
                    non_integer: 0,
                });
            }
            Err(reason) => self.scratch.reject_scalar(reason),
        }
    }

    /// One histogram (docs/ingest.md, "One histogram"), its `values` in the scratch.
    pub(crate) fn histogram(
        &mut self,
        metric: Option<u32>,
        label: Option<u32>,
        process: Process,
        h: &HistogramFields,
    ) {
        let reject = |ctx: &mut Self, reason| ctx.scratch.reject_hist(reason);
        let (Some(metric), Some(label)) = (metric, label) else {
            return reject(self, HistogramReject::TooManyStrings);
        };
        let Some(histogram_type) = h.histogram_type.and_then(Scalar::as_integer) else {
            return reject(self, HistogramReject::TypeNotInteger);
        };
        if h.values != Some(true) {
            return reject(self, HistogramReject::ValuesNotAnObject);
        }
        let sum = match h.sum {
            Some(Scalar::Unsigned(s)) => s,
            Some(Scalar::Negative(_)) => return reject(self, HistogramReject::NegativeSum),
            Some(Scalar::Float(f)) if f.abs() >= TWO_POW_64 => {
                return reject(self, HistogramReject::NumberOutOfRange)
            }
            _ => return reject(self, HistogramReject::SumNotInteger),
        };
        if histogram_type == 4 {
            // Count histogram: a scalar-like series of its `sum`; its values are ignored.
            self.scratch.name.clear();
            self.scratch.name.push_str(metric_name::COUNT_PREFIX);
            self.scratch.name.push_str(self.strings.name(metric));
            let Some(count_metric) = self.intern_name() else {
                return reject(self, HistogramReject::TooManyStrings);
            };
            let spec = LayoutSpec::scalar();
            let index = self.bucket_of(spec, sum);
            self.scratch.records.push(Record {
                sid: SeriesId {
                    metric: count_metric,
                    label,
                    process,
                    layout: spec,
                },
                what: What::Value {
                    index,
                    value: sum,
                    histogram: true,
                },
                unplaced: 0,
                bad_keys: 0,
                non_integer: 0,
            });
            return;
        }
        // Bucket counts: non-negative integers; other JSON values count as 0.
        let mut total: u64 = 0;
        let mut non_integer = 0u64;
        for (_, v) in &self.scratch.values {
            match *v {
                Scalar::Unsigned(c) => match total.checked_add(c) {
                    Some(t) => total = t,
                    None => return reject(self, HistogramReject::Overflow),
                },
                Scalar::Negative(_) => return reject(self, HistogramReject::NegativeCount),
                Scalar::Float(f) if f < 0.0 => return reject(self, HistogramReject::NegativeCount),
                Scalar::Float(f) if f >= TWO_POW_64 => {
                    return reject(self, HistogramReject::NumberOutOfRange)
                }
                _ => non_integer += 1,
            }
        }
        let Some(spec) = self.layout_of(metric, histogram_type, h) else {
            return reject(self, HistogramReject::InvalidLayout);
        };
        let layout = self
            .layouts
            .entry(spec)
            .or_insert_with(|| BucketLayout::new(spec));
        let Scratch {
            pairs,
            values,
            records,
            ..
        } = &mut *self.scratch;
        // Complete against the layout (docs/ingest.md, "One histogram"): keep the placed, non-zero buckets.
        let start = pairs.len();
        let (mut unplaced, mut bad_keys) = (0u64, 0u64);
        for (key, v) in values.iter() {
            let count = match v {
                Scalar::Unsigned(c) => *c,
                _ => 0,
            };
            match key.map(|k| place(k, layout)) {
                Some(Some(i)) => {
                    if count > 0 {
                        // Bucket counts are at most MAX_BUCKETS: an index fits u32.
                        pairs.push((i as u32, count));
                    }
                }
                Some(None) => unplaced += count,
                None => {
                    bad_keys += 1;
                    unplaced += count;
                }
            }
        }
        records.push(Record {
            sid: SeriesId {
                metric,
                label,
                process,
                layout: spec,
            },
            what: What::Sparse {
                start,
                end: pairs.len(),
                sum,
            },
            unplaced,
            bad_keys,
            non_integer,
        });
    }

    /// The layout a histogram is completed against: the definition's with
    /// `prefer_definitions` (when there is one), else the one the ping declares.
    fn layout_of(
        &self,
        metric: u32,
        histogram_type: i128,
        h: &HistogramFields,
    ) -> Option<LayoutSpec> {
        if self.options.prefer_definitions {
            if let Some(def) = self.options.definitions.lookup(self.strings.name(metric)) {
                return Some(def.layout.spec());
            }
        }
        let histogram_type = i64::try_from(histogram_type).ok()?;
        let kind = Kind::from_histogram_type(histogram_type)?;
        let needs_range = matches!(kind, Kind::Exponential | Kind::Linear);
        let (low, high) = match h.range {
            RangeField::Pair(Some(Scalar::Unsigned(low)), Some(Scalar::Unsigned(high))) => {
                (low, high)
            }
            _ if !needs_range => (1, 2),
            _ => return None,
        };
        let n = match h.bucket_count {
            Some(Scalar::Unsigned(n)) => n,
            _ if matches!(kind, Kind::Boolean | Kind::Flag) => 3,
            _ => return None,
        };
        LayoutSpec::from_ping(histogram_type, low, high, n).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalar_values_follow_the_rules() {
        assert_eq!(scalar_value(Scalar::Unsigned(42)), Ok(42));
        assert_eq!(scalar_value(Scalar::Bool(true)), Ok(1));
        assert_eq!(scalar_value(Scalar::Float(42.9)), Ok(42));
        assert_eq!(
            scalar_value(Scalar::Float(-0.5)),
            Err(ScalarReject::Negative)
        );
        assert_eq!(
            scalar_value(Scalar::Negative(-1)),
            Err(ScalarReject::Negative)
        );
        assert_eq!(
            scalar_value(Scalar::Float(1e30)),
            Err(ScalarReject::OutOfRange)
        );
        assert_eq!(scalar_value(Scalar::String), Err(ScalarReject::NotNumeric));
    }

    #[test]
    fn uppercase_handles_unicode() {
        let mut s = String::from("SCALARS_");
        push_upper(&mut s, "a.b_c");
        assert_eq!(s, "SCALARS_A.B_C");
        s.clear();
        push_upper(&mut s, "straße");
        assert_eq!(s, "STRASSE");
    }
}

//! Requested statistics: parsing `"mean,p5,p50"`, computing them in one pass and serialising
//! them in request order.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::percentile::{self, BoundLogs, Bucket, Percentile, PercentileMethod};
use super::{mean_of, tmo_mean, Distribution};
use crate::error::{Error, Result};

/// One requested statistic.
///
/// ```
/// use mozaggregator_core::stats::Stat;
/// let stats = Stat::parse_list("mean, p5,p50 ,p99.9").unwrap();
/// assert_eq!(stats, vec![Stat::Mean, Stat::Percentile(5.0), Stat::Percentile(50.0), Stat::Percentile(99.9)]);
/// let names: Vec<_> = stats.iter().map(Stat::name).collect();
/// assert_eq!(names, ["mean", "p5", "p50", "p99.9"]);
/// assert!(Stat::parse_list("mean,,p50").is_err());
/// assert!(Stat::parse("p101").is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Stat {
    /// The number of samples.
    Samples,
    /// The mean, `sum / samples`.
    Mean,
    /// A percentile, `0 <= p <= 100`.
    Percentile(f64),
}

impl Stat {
    /// Parses a comma-separated list such as `"mean,p5,p50,p99.9"`; whitespace around each
    /// name is ignored.
    ///
    /// # Errors
    /// [`Error::Invalid`] (`stats`) naming the first bad token: an empty one (`""`, `"a,,b"`, a
    /// trailing comma) or one [`Stat::parse`] rejects.
    pub fn parse_list(s: &str) -> Result<Vec<Stat>> {
        s.split(',').map(Stat::parse).collect()
    }

    /// Parses one statistic: `samples`, `mean`, or `p` followed by a number between 0 and 100
    /// written with digits and at most one decimal point (`p0`, `p50`, `p99.9`, `p100`).
    /// Whitespace around the name is ignored.
    ///
    /// ```
    /// use mozaggregator_core::stats::Stat;
    /// assert_eq!(Stat::parse(" samples ").unwrap(), Stat::Samples);
    /// assert_eq!(Stat::parse("p0.5").unwrap(), Stat::Percentile(0.5));
    /// for bad in ["", "median", "p", "p-1", "p1e2", "pNaN", "p100.1", "p.5", "P50"] {
    ///     assert!(Stat::parse(bad).is_err(), "{bad}");
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] (`stats`) with a message naming the token.
    pub fn parse(token: &str) -> Result<Stat> {
        let token = token.trim();
        match token {
            "" => Err(Error::invalid(
                "stats",
                "empty statistic name (two commas in a row, or a comma at either end)",
            )),
            "samples" => Ok(Stat::Samples),
            "mean" => Ok(Stat::Mean),
            _ => {
                let p = token
                    .strip_prefix('p')
                    .filter(|number| is_decimal(number))
                    .and_then(|number| number.parse::<f64>().ok())
                    .ok_or_else(|| {
                        Error::invalid(
                            "stats",
                            format!(
                                "`{token}` is not a statistic: use samples, mean or a percentile \
                                 p0 to p100 such as p50 or p99.9"
                            ),
                        )
                    })?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(Error::invalid(
                        "stats",
                        format!("`{token}`: a percentile must be between p0 and p100"),
                    ));
                }
                Ok(Stat::Percentile(p))
            }
        }
    }

    /// The name of the statistic in answers: `"samples"`, `"mean"`, or `"p"` followed by the
    /// shortest decimal form of the percentile (`"p50"`, `"p99.9"`, `"p0"`, `"p100"`).
    ///
    /// ```
    /// use mozaggregator_core::stats::Stat;
    /// assert_eq!(Stat::Percentile(50.0).name(), "p50");
    /// assert_eq!(Stat::Percentile(-0.0).name(), "p0");
    /// assert_eq!(Stat::parse("p050.50").unwrap().name(), "p50.5");
    /// ```
    pub fn name(&self) -> String {
        match self {
            Stat::Samples => "samples".to_string(),
            Stat::Mean => "mean".to_string(),
            // -0.0 == 0.0: print it as 0.
            Stat::Percentile(p) if *p == 0.0 => "p0".to_string(),
            // Whole percentiles (nearly all) without float formatting: `p{p}` prints them so.
            Stat::Percentile(p) if p.fract() == 0.0 && (0.0..=100.0).contains(p) => {
                let mut name = String::with_capacity(4);
                name.push('p');
                name.push_str(itoa::Buffer::new().format(*p as u8));
                name
            }
            Stat::Percentile(p) => format!("p{p}"),
        }
    }
}

/// Digits with at most one decimal point between digits.
fn is_decimal(s: &str) -> bool {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, "0"));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction)
}

/// A computed set of statistics, ready to serialise in the requested order.
///
/// It shares the names of its statistics with its [`Plan`] (one reference count per summary,
/// not one string per statistic), so summarising every entry of a long answer stays cheap.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    plan: Plan,
    samples: u64,
    mean: Option<f64>,
    /// The plan's percentiles, in request order.
    percentiles: Box<[Percentile]>,
    tmo_mean: Option<Option<f64>>,
}

/// Computes `stats` of `d`, percentiles by `method`, in one pass over the buckets.
///
/// `samples` is always computed; any statistic requested more than once is computed once and
/// keeps its first position.
///
/// ```
/// use mozaggregator_core::stats::{summarize, Distribution, PercentileMethod, Stat};
/// use mozaggregator_core::Kind;
/// let d = Distribution { kind: Kind::Linear, bounds: &[0, 10, 20, 30], counts: &[0, 4, 4, 0], sum: 120 };
/// let stats = Stat::parse_list("p50,mean,p50,samples").unwrap();
/// let s = summarize(&d, &stats, PercentileMethod::Interp).unwrap();
/// assert_eq!(
///     serde_json::to_string(&s.values_json()).unwrap(),
///     r#"{"samples":8,"p50":20.0,"mean":15.0}"#
/// );
/// assert_eq!(serde_json::to_string(&s.buckets_json()).unwrap(), r#"{"p50":[10,20]}"#);
/// let t = summarize(&d, &stats, PercentileMethod::Tmo).unwrap();
/// assert_eq!(
///     serde_json::to_string(&t.values_json()).unwrap(),
///     r#"{"samples":8,"p50":20.0,"mean":15.0,"tmo_mean":20.0}"#
/// );
/// ```
///
/// # Errors
/// [`Error::Invalid`] when a percentile is NaN or outside `[0, 100]` (only possible for a
/// [`Stat`] built by hand, not parsed).
pub fn summarize(
    d: &Distribution<'_>,
    stats: &[Stat],
    method: PercentileMethod,
) -> Result<Summary> {
    Ok(Plan::new(stats)?.summarize(d, method))
}

/// Requested statistics, validated, deduplicated and named once, to summarize many
/// distributions (every entry of an answer) without redoing that work per entry. Cloning a
/// plan is cheap: its parts are shared.
///
/// ```
/// use mozaggregator_core::stats::{Distribution, PercentileMethod, Plan, Stat};
/// use mozaggregator_core::Kind;
/// let plan = Plan::new(&Stat::parse_list("mean,p50").unwrap()).unwrap();
/// let d = Distribution { kind: Kind::Linear, bounds: &[0, 10, 20], counts: &[0, 2, 0], sum: 30 };
/// let summary = plan.summarize(&d, PercentileMethod::Interp);
/// let values: Vec<_> = summary.values().collect();
/// assert_eq!(values, [("mean", Some(15.0)), ("p50", Some(15.0))]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Plan(Arc<PlanParts>);

#[derive(Debug, PartialEq)]
struct PlanParts {
    /// Each statistic once, in request order: its name and whether it is a percentile (else
    /// the mean).
    wanted: Vec<(Box<str>, bool)>,
    /// The percentiles, in request order.
    ps: Vec<f64>,
    /// The indexes of `ps` in ascending order of value.
    order: Vec<usize>,
    /// Whether the mean is requested.
    mean: bool,
}

/// What [`Plan::values_cumulative`] keeps between calls: its percentile values, and where
/// it found each percentile last.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    values: Vec<Option<f64>>,
    search: percentile::Search,
}

impl Plan {
    /// The plan of `stats` (`samples` is always computed and not listed).
    ///
    /// # Errors
    /// [`Error::Invalid`] when a percentile is NaN or outside `[0, 100]` (only possible for a
    /// [`Stat`] built by hand, not parsed).
    pub fn new(stats: &[Stat]) -> Result<Plan> {
        let mut wanted: Vec<(Box<str>, bool)> = Vec::with_capacity(stats.len());
        let mut ps = Vec::new();
        for stat in stats {
            let name = stat.name();
            // A handful of statistics: a linear search beats hashing.
            if *stat == Stat::Samples || wanted.iter().any(|(n, _)| **n == *name) {
                continue;
            }
            if let Stat::Percentile(p) = stat {
                percentile::check(*p)?;
                ps.push(*p);
            }
            wanted.push((name.into_boxed_str(), matches!(stat, Stat::Percentile(_))));
        }
        let mut order: Vec<usize> = (0..ps.len()).collect();
        order.sort_by(|&a, &b| ps[a].total_cmp(&ps[b]));
        let mean = wanted.iter().any(|(_, is_percentile)| !is_percentile);
        Ok(Plan(Arc::new(PlanParts {
            wanted,
            ps,
            order,
            mean,
        })))
    }

    /// The number of statistics [`Summary::values`] gives: the mean and the percentiles,
    /// each once (`samples` is not counted).
    pub fn len(&self) -> usize {
        self.0.wanted.len()
    }

    /// True when the plan asks for nothing but `samples`.
    pub fn is_empty(&self) -> bool {
        self.0.wanted.is_empty()
    }

    /// The names of the statistics, in the order [`Summary::values`] gives them.
    ///
    /// ```
    /// use mozaggregator_core::stats::{Plan, Stat};
    /// let plan = Plan::new(&Stat::parse_list("p50,samples,mean,p50").unwrap()).unwrap();
    /// assert_eq!(plan.names().collect::<Vec<_>>(), ["p50", "mean"]);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.0.wanted.iter().map(|(name, _)| &**name)
    }

    /// The values of [`Plan::summarize`]'s [`Summary::values`], written into `out` (as long
    /// as [`Plan::len`]) without building a summary, given the cumulative counts of `d`'s
    /// buckets (`cumulative[i]`: the samples of buckets `0..=i`): what a jackknife runs once
    /// per replicate group, each percentile found from the bucket of the call before (the same
    /// values). `scratch` is reused between calls; `logs` as in [`Plan::summarize_with`].
    pub(crate) fn values_cumulative(
        &self,
        d: &Distribution<'_>,
        cumulative: &[u64],
        method: PercentileMethod,
        logs: Option<&BoundLogs>,
        scratch: &mut Scratch,
        out: &mut [Option<f64>],
    ) {
        let parts = &*self.0;
        let total = cumulative.last().copied().unwrap_or(0);
        let Scratch { values, search } = scratch;
        values.clear();
        values.resize(parts.ps.len(), None);
        percentile::values_cumulative(
            d,
            cumulative,
            &parts.ps,
            &parts.order,
            method,
            logs,
            search,
            values,
        );
        let mean = if parts.mean {
            mean_of(d, u128::from(total))
        } else {
            None
        };
        let mut percentiles = values.iter();
        for ((_, is_percentile), o) in parts.wanted.iter().zip(out.iter_mut()) {
            *o = if *is_percentile {
                percentiles.next().copied().flatten()
            } else {
                mean
            };
        }
    }

    /// Computes the plan's statistics of `d`, percentiles by `method`, in one pass over the
    /// buckets.
    pub fn summarize(&self, d: &Distribution<'_>, method: PercentileMethod) -> Summary {
        self.summarize_with(d, method, None)
    }

    /// [`Plan::summarize`] with the logarithms of `d`'s bounds computed beforehand, for the
    /// many distributions of one layout (the same numbers, faster).
    pub fn summarize_with(
        &self,
        d: &Distribution<'_>,
        method: PercentileMethod,
        logs: Option<&BoundLogs>,
    ) -> Summary {
        let parts = &*self.0;
        let total = d.total();
        // The percentiles were checked by `Plan::new`.
        let mut percentiles = vec![Percentile::NONE; parts.ps.len()].into_boxed_slice();
        percentile::percentiles_into(
            d,
            total,
            &parts.ps,
            &parts.order,
            method,
            logs,
            &mut percentiles,
        );
        Summary {
            plan: self.clone(),
            samples: u64::try_from(total).unwrap_or(u64::MAX),
            mean: if parts.mean { mean_of(d, total) } else { None },
            percentiles,
            tmo_mean: (method == PercentileMethod::Tmo).then(|| tmo_mean(d)),
        }
    }
}

impl Summary {
    /// The number of samples.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Each requested statistic other than `samples`, by name, in request order: `None` when
    /// it is not defined (no samples, a kind without order, a `tmo` NaN).
    pub fn values(&self) -> impl Iterator<Item = (&str, Option<f64>)> + '_ {
        let mut percentiles = self.percentiles.iter();
        self.plan.0.wanted.iter().map(move |(name, is_percentile)| {
            let value = if *is_percentile {
                percentiles.next().and_then(|p| p.value)
            } else {
                self.mean
            };
            (&**name, value)
        })
    }

    /// The bucket `[lower, upper]` of each requested percentile, by name, in request order.
    pub fn buckets(&self) -> impl Iterator<Item = (&str, Option<Bucket>)> + '_ {
        self.plan
            .0
            .wanted
            .iter()
            .filter(|(_, is_percentile)| *is_percentile)
            .zip(self.percentiles.iter())
            .map(|((name, _), p)| (&**name, p.bucket))
    }

    /// telemetry.js's mean ([`tmo_mean`]): `Some` when the method was `tmo`.
    pub fn tmo_mean(&self) -> Option<Option<f64>> {
        self.tmo_mean
    }

    /// `{"samples": N, "mean": x, "p50": x, …}` in request order, `samples` first and once,
    /// then `"tmo_mean"` last when the method was `tmo`. A missing or non-finite value is
    /// `null`.
    pub fn values_json(&self) -> impl Serialize + '_ {
        ValuesJson(self)
    }

    /// `{"p50": [lower, upper], …}` for each requested percentile, in request order;
    /// `[lower, null]` for the last (overflow) bucket, `null` when the percentile is `null`.
    pub fn buckets_json(&self) -> impl Serialize + '_ {
        BucketsJson(self)
    }
}

struct ValuesJson<'a>(&'a Summary);

impl Serialize for ValuesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.0;
        let len = 1 + s.plan.0.wanted.len() + usize::from(s.tmo_mean.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("samples", &s.samples)?;
        for (name, value) in s.values() {
            map.serialize_entry(name, &finite(value))?;
        }
        if let Some(value) = s.tmo_mean {
            map.serialize_entry("tmo_mean", &finite(value))?;
        }
        map.end()
    }
}

fn finite(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite())
}

struct BucketsJson<'a>(&'a Summary);

impl Serialize for BucketsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.percentiles.len()))?;
        for (name, bucket) in self.0.buckets() {
            map.serialize_entry(name, &bucket)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Kind;

    fn json(v: impl Serialize) -> String {
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn parse_errors_name_the_token() {
        for bad in [
            "mean,p50,median",
            "p50,p200",
            "p50,,mean",
            "p50,",
            ",p50",
            "",
        ] {
            let err = Stat::parse_list(bad).unwrap_err();
            assert!(
                matches!(err, Error::Invalid { what: "stats", .. }),
                "{bad}: {err}"
            );
        }
        assert!(Stat::parse_list("p50,median")
            .unwrap_err()
            .to_string()
            .contains("`median`"));
        assert!(Stat::parse_list("p200")
            .unwrap_err()
            .to_string()
            .contains("`p200`"));
    }

    #[test]
    fn parse_bounds_and_forms() {
        assert_eq!(Stat::parse("p0").unwrap(), Stat::Percentile(0.0));
        assert_eq!(Stat::parse("p100").unwrap(), Stat::Percentile(100.0));
        assert_eq!(Stat::parse("p100.0").unwrap(), Stat::Percentile(100.0));
        assert_eq!(Stat::parse("\tp99.99 ").unwrap(), Stat::Percentile(99.99));
        for bad in [
            "p+5", "p5.", "p 5", "p5.5.5", "pinf", "p1_0", "mean2", "samples,",
        ] {
            assert!(Stat::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for s in [
            "samples", "mean", "p0", "p0.1", "p5", "p50", "p99.9", "p99.99", "p100",
        ] {
            assert_eq!(Stat::parse(s).unwrap().name(), s);
        }
    }

    #[test]
    fn samples_is_first_and_once() {
        let d = Distribution {
            kind: Kind::Linear,
            bounds: &[0, 1, 2],
            counts: &[1, 1, 0],
            sum: 1,
        };
        let stats = Stat::parse_list("mean,samples,p50,samples,p50.0,mean").unwrap();
        let s = summarize(&d, &stats, PercentileMethod::Interp).unwrap();
        assert_eq!(
            json(s.values_json()),
            r#"{"samples":2,"mean":0.5,"p50":1.0}"#
        );
        let s = summarize(&d, &[], PercentileMethod::Interp).unwrap();
        assert_eq!(json(s.values_json()), r#"{"samples":2}"#);
        assert_eq!(json(s.buckets_json()), "{}");
        assert_eq!(s.tmo_mean, None);
    }

    #[test]
    fn nulls_and_overflow_buckets() {
        let d = Distribution {
            kind: Kind::Exponential,
            bounds: &[0, 1, 2],
            counts: &[0, 0, 5],
            sum: 15,
        };
        let stats = Stat::parse_list("p50,p100,mean").unwrap();
        let s = summarize(&d, &stats, PercentileMethod::Tmo).unwrap();
        // telemetry.js: p100 is NaN; its mean puts the samples at 2·√2.
        assert_eq!(
            s.buckets().collect::<Vec<_>>(),
            [("p50", Some((2, None))), ("p100", None)]
        );
        assert_eq!(json(s.buckets_json()), r#"{"p50":[2,null],"p100":null}"#);
        let values = json(s.values_json());
        assert!(values.starts_with(r#"{"samples":5,"p50":"#), "{values}");
        assert!(
            values.contains(r#""p100":null,"mean":3.0,"tmo_mean":2.8284"#),
            "{values}"
        );

        let empty = Distribution {
            counts: &[0, 0, 0],
            ..d
        };
        let s = summarize(&empty, &stats, PercentileMethod::Tmo).unwrap();
        assert_eq!(
            json(s.values_json()),
            r#"{"samples":0,"p50":null,"p100":null,"mean":null,"tmo_mean":null}"#
        );
        assert_eq!(json(s.buckets_json()), r#"{"p50":null,"p100":null}"#);
    }

    #[test]
    fn non_finite_values_serialise_as_null() {
        let s = Summary {
            plan: Plan::new(&Stat::parse_list("mean,p5").unwrap()).unwrap(),
            samples: 1,
            mean: Some(f64::INFINITY),
            percentiles: Box::new([Percentile {
                value: Some(f64::NAN),
                bucket: None,
            }]),
            tmo_mean: Some(Some(f64::NEG_INFINITY)),
        };
        assert_eq!(
            json(s.values_json()),
            r#"{"samples":1,"mean":null,"p5":null,"tmo_mean":null}"#
        );
    }

    #[test]
    fn hand_built_bad_percentile_is_an_error() {
        let d = Distribution {
            kind: Kind::Linear,
            bounds: &[0, 1, 2],
            counts: &[1, 1, 0],
            sum: 1,
        };
        for p in [f64::NAN, 101.0, -1.0] {
            assert!(summarize(&d, &[Stat::Percentile(p)], PercentileMethod::Nearest).is_err());
        }
    }
}

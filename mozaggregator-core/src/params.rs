//! The parameters of the metric routes — the plain metric query, `evolution/`, `compare/` and
//! `labels/` — parsed once, from a query string or a JSON body, for every front end (HTTP GET,
//! HTTP POST, Python). See docs/api.md, "Analysis".
//!
//! Rules:
//! - `version`, `metric`, `dates`, `stats`, `pct_method`, `ci`, `threshold`, `group_by`,
//!   `top`, `page` and `per_page`: the first value counts, as the original service read its
//!   parameters.
//! - A filter (`application`, `architecture`, `os`, `osVersion`, `child`, `label`) given more
//!   than once means OR: its values are summed into one answer. (The original kept only the
//!   first value; this is a deliberate difference.) A comma is not a separator: values may
//!   contain commas.
//! - `dates` is a comma-separated list of `YYYYMMDD` dates and inclusive ranges
//!   `YYYYMMDD..YYYYMMDD`; duplicates collapse, the first occurrence fixes the order.
//! - On `compare/`, a `b.`-prefixed parameter overrides side A's for side B; `b.channel` picks
//!   another channel, and a `b.` filter with the value `*` removes that filter on side B.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::date::Date;
use crate::error::{Error, Result};
use crate::filter::{param_dimension, parse_param_dimension, Dimension, Filter};
use crate::stats::{Confidence, PercentileMethod, Stat};

/// The widest date list one query may name, ranges expanded, before the server's own (smaller)
/// `max_dates` limit applies: it bounds the work of expanding a range.
pub const MAX_EXPANDED_DATES: usize = 100_000;

/// Default page size of `labels/`.
pub const DEFAULT_PER_PAGE: usize = 50;
/// Largest page size of `labels/`.
pub const MAX_PER_PAGE: usize = 1000;

/// Which parameters a route accepts besides the plain query's (`version`, `dates`, `metric`
/// and the filters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accepts {
    /// `stats`, `pct_method`, `ci`.
    pub stats: bool,
    /// `group_by`, `top`.
    pub shape: bool,
    /// `page`, `per_page`.
    pub paging: bool,
    /// `b.`-prefixed overrides, and `threshold` (the comparison's verdict).
    pub side_b: bool,
}

impl Accepts {
    /// The metric route and `evolution/`: stats, group-by and top.
    pub const METRIC: Accepts = Accepts {
        stats: true,
        shape: true,
        paging: false,
        side_b: false,
    };
    /// `compare/`: stats and side B.
    pub const COMPARE: Accepts = Accepts {
        stats: true,
        shape: false,
        paging: false,
        side_b: true,
    };
    /// `labels/`: paging.
    pub const LABELS: Accepts = Accepts {
        stats: false,
        shape: false,
        paging: true,
        side_b: false,
    };

    fn accepts(self, key: &str) -> bool {
        match key {
            "version" | "dates" | "metric" => true,
            "stats" | "pct_method" | "ci" => self.stats,
            "threshold" => self.side_b,
            "group_by" | "top" => self.shape,
            "page" | "per_page" => self.paging,
            _ => param_dimension(key).is_some(),
        }
    }
}

/// One side's parameters, as given (nothing resolved against a store yet).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricParams {
    /// Channel (only set by `b.channel` on side B; the path names side A's).
    pub channel: Option<String>,
    /// Major version.
    pub version: Option<String>,
    /// Metric name as the API names it.
    pub metric: Option<String>,
    /// Dates as given: comma-separated dates and ranges (expanded by [`expand_dates`] when
    /// the request is built, so that a malformed date is reported after missing parameters and
    /// access, as the original did).
    pub dates: Option<String>,
    /// Allowed values per filter dimension (OR within a dimension, AND across). An empty set
    /// (only from a side-B `*`) removes the filter.
    pub filters: BTreeMap<Dimension, BTreeSet<String>>,
    /// Requested statistics.
    pub stats: Option<Vec<Stat>>,
    /// Percentile method.
    pub pct_method: Option<PercentileMethod>,
    /// Confidence level of the statistics' intervals over replicate groups.
    pub ci: Option<Confidence>,
    /// `compare/` with `ci`: the verdict's threshold on the relative change.
    pub threshold: Option<f64>,
    /// Dimension to split the answer by.
    pub group_by: Option<Dimension>,
    /// Keep only the K labels with the most pings.
    pub top: Option<usize>,
    /// `labels/` page (1-based).
    pub page: Option<usize>,
    /// `labels/` page size.
    pub per_page: Option<usize>,
}

/// A query string's parameters: side A, side B's overrides, and the keys the route does not know.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParsedParams {
    /// The parameters (side A on `compare/`).
    pub params: MetricParams,
    /// Side B's overrides (`compare/` only).
    pub b: MetricParams,
    /// Keys the route does not accept, in request order, each once.
    pub unknown: Vec<String>,
}

impl ParsedParams {
    /// Parses `(key, value)` pairs (already URL-decoded) for a route accepting `accepts`.
    ///
    /// ```
    /// use mozaggregator_core::params::{Accepts, ParsedParams};
    /// use mozaggregator_core::Dimension;
    /// let p = ParsedParams::from_pairs([
    ///     ("metric", "GC_MS"), ("os", "Linux"), ("os", "Darwin"), ("dates", "20240101..20240103"),
    ///     ("utm", "x"),
    /// ], Accepts::METRIC).unwrap();
    /// assert_eq!(p.params.filters[&Dimension::Os].len(), 2);
    /// assert_eq!(p.params.dates.as_deref(), Some("20240101..20240103"));
    /// assert_eq!(p.unknown, ["utm"]);
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for a value that cannot be parsed: a bad `child`, a bad stat, `pct_method`, `ci`, `threshold`, `group_by`, `top`, `page` or `per_page`.
    pub fn from_pairs<'a, I>(pairs: I, accepts: Accepts) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut out = ParsedParams::default();
        for (key, value) in pairs {
            let (b_side, key) = match key.strip_prefix("b.") {
                Some(rest) if accepts.side_b => (true, rest),
                _ => (false, key),
            };
            if b_side && key == "channel" {
                out.b.channel.get_or_insert_with(|| value.to_string());
                continue;
            }
            if !accepts.accepts(key) {
                let name = if b_side {
                    format!("b.{key}")
                } else {
                    key.to_string()
                };
                if !out.unknown.contains(&name) {
                    out.unknown.push(name);
                }
                continue;
            }
            let side = if b_side { &mut out.b } else { &mut out.params };
            side.set(key, value, b_side)?;
        }
        Ok(out)
    }
}

impl MetricParams {
    /// Sets one accepted parameter (first value wins, filters accumulate).
    fn set(&mut self, key: &str, value: &str, b_side: bool) -> Result<()> {
        if let Some(dimension) = param_dimension(key) {
            let entry = self.filters.entry(dimension).or_default();
            if b_side && value == "*" {
                entry.clear();
            } else {
                entry.insert(filter_value(dimension, value)?);
            }
            return Ok(());
        }
        match key {
            "version" => first(&mut self.version, || Ok(value.to_string())),
            "metric" => first(&mut self.metric, || Ok(value.to_string())),
            "dates" => first(&mut self.dates, || Ok(value.to_string())),
            "stats" => first(&mut self.stats, || Stat::parse_list(value)),
            "pct_method" => first(&mut self.pct_method, || value.parse()),
            "ci" => first(&mut self.ci, || value.parse()),
            "threshold" => first(&mut self.threshold, || parse_threshold(value)),
            "group_by" => first(&mut self.group_by, || parse_group_by(value)),
            "top" => first(&mut self.top, || positive("top", value)),
            "page" => first(&mut self.page, || positive("page", value)),
            "per_page" => first(&mut self.per_page, || {
                let n = positive("per_page", value)?;
                if n > MAX_PER_PAGE {
                    return Err(Error::invalid(
                        "per_page",
                        format!("{n} is over the limit of {MAX_PER_PAGE}"),
                    ));
                }
                Ok(n)
            }),
            _ => Ok(()),
        }
    }

    /// Side B: `self` (side A) with `overrides` applied.
    pub fn overridden_by(&self, overrides: &MetricParams) -> MetricParams {
        let mut b = self.clone();
        if overrides.channel.is_some() {
            b.channel.clone_from(&overrides.channel);
        }
        if overrides.version.is_some() {
            b.version.clone_from(&overrides.version);
        }
        if overrides.metric.is_some() {
            b.metric.clone_from(&overrides.metric);
        }
        if overrides.dates.is_some() {
            b.dates.clone_from(&overrides.dates);
        }
        for (dimension, values) in &overrides.filters {
            if values.is_empty() {
                b.filters.remove(dimension);
            } else {
                b.filters.insert(*dimension, values.clone());
            }
        }
        b
    }

    /// The filter these parameters select: AND over dimensions of OR within each.
    pub fn filter(&self) -> Filter {
        self.filters
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .fold(Filter::All, |f, (dimension, values)| {
                let one = if values.len() == 1 {
                    values
                        .iter()
                        .next()
                        .map_or(Filter::All, |v| Filter::eq(*dimension, v.clone()))
                } else {
                    Filter::In(*dimension, values.clone())
                };
                f.and(one)
            })
    }
}

/// The body of `POST /aggregates_by/PREFIX/channels/CH/`: the GET parameters as JSON, without a
/// URL length limit.
///
/// ```
/// use mozaggregator_core::params::PostBody;
/// let body: PostBody = serde_json::from_str(r#"{"version": "124", "metric": "GC_MS",
///     "dates": ["20240101..20240102", "20240105"], "filters": {"os": ["Linux", "Darwin"]},
///     "stats": ["mean", "p50"], "group_by": "os"}"#).unwrap();
/// let p = body.into_params().unwrap();
/// assert_eq!(p.dates.as_deref(), Some("20240101..20240102,20240105"));
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostBody {
    /// Major version (a number is accepted too).
    pub version: Option<serde_json::Value>,
    /// Metric name.
    pub metric: Option<String>,
    /// Dates and ranges, as in the `dates` parameter (one per element, or comma-separated).
    #[serde(default)]
    pub dates: Vec<String>,
    /// Filter values per filter parameter name.
    #[serde(default)]
    pub filters: BTreeMap<String, Vec<String>>,
    /// Dimension to split by.
    pub group_by: Option<String>,
    /// Statistics (`mean`, `p50`, …).
    pub stats: Option<Vec<String>>,
    /// Percentile method.
    pub pct_method: Option<String>,
    /// Keep the K labels with the most pings.
    pub top: Option<usize>,
    /// Confidence level of the intervals: `0.9`, `0.95` or `0.99` (a number or a string).
    pub ci: Option<serde_json::Value>,
}

impl PostBody {
    /// The parameters this body names, validated as the GET parameters are.
    ///
    /// # Errors
    /// As [`ParsedParams::from_pairs`]; also an unknown filter name or a non-string version.
    pub fn into_params(self) -> Result<MetricParams> {
        let mut p = MetricParams {
            version: match self.version {
                None => None,
                Some(serde_json::Value::String(s)) => Some(s),
                Some(serde_json::Value::Number(n)) => Some(n.to_string()),
                Some(other) => {
                    return Err(Error::invalid(
                        "version",
                        format!("`{other}` is not a version"),
                    ))
                }
            },
            metric: self.metric,
            ..MetricParams::default()
        };
        if !self.dates.is_empty() {
            p.dates = Some(self.dates.join(","));
        }
        for (key, values) in &self.filters {
            let dimension = parse_param_dimension("filter", key)?;
            if values.is_empty() {
                return Err(Error::invalid("filter", format!("`{key}` has no value")));
            }
            let set = p.filters.entry(dimension).or_default();
            for v in values {
                set.insert(filter_value(dimension, v)?);
            }
        }
        if let Some(stats) = self.stats {
            p.stats = Some(Stat::parse_list(&stats.join(","))?);
        }
        p.pct_method = self.pct_method.as_deref().map(str::parse).transpose()?;
        p.group_by = self.group_by.as_deref().map(parse_group_by).transpose()?;
        if let Some(top) = self.top {
            p.top = Some(positive("top", &top.to_string())?);
        }
        p.ci = match self.ci {
            None => None,
            Some(serde_json::Value::String(s)) => Some(s.parse()?),
            Some(other) => Some(other.to_string().parse()?),
        };
        Ok(p)
    }
}

fn first<T>(slot: &mut Option<T>, parse: impl FnOnce() -> Result<T>) -> Result<()> {
    if slot.is_none() {
        *slot = Some(parse()?);
    }
    Ok(())
}

fn filter_value(dimension: Dimension, value: &str) -> Result<String> {
    if dimension == Dimension::Child {
        Ok(crate::filter::parse_child(value)?.as_str().to_string())
    } else {
        Ok(value.to_string())
    }
}

fn positive(what: &'static str, value: &str) -> Result<usize> {
    match value.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(Error::invalid(
            what,
            format!("`{value}` is not a whole number of at least 1"),
        )),
    }
}

/// A `threshold` value: a relative change, a finite number from 0 (`0.01` is 1 %).
///
/// ```
/// use mozaggregator_core::params::parse_threshold;
/// assert_eq!(parse_threshold("0.05").unwrap(), 0.05);
/// for bad in ["-0.1", "NaN", "inf", "5%", ""] {
///     assert!(parse_threshold(bad).is_err(), "{bad}");
/// }
/// ```
///
/// # Errors
/// [`Error::Invalid`] (what: `threshold`) for anything else.
pub fn parse_threshold(value: &str) -> Result<f64> {
    match value.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err(Error::invalid(
            "threshold",
            format!(
                "`{value}` is not a relative change: use a number from 0, such as 0.01 for 1 %"
            ),
        )),
    }
}

/// A `group_by` value: a filter dimension (`application`, `architecture`, `os`, `osVersion`,
/// `child`) or `label`.
///
/// # Errors
/// [`Error::Invalid`] (what: `group_by`) for anything else.
pub fn parse_group_by(value: &str) -> Result<Dimension> {
    parse_param_dimension("group_by", value)
}

/// Expands a `dates` value — comma-separated dates and inclusive ranges `A..B` — into a list
/// without duplicates, in request order.
///
/// ```
/// use mozaggregator_core::params::expand_dates;
/// let d = expand_dates("20240130..20240202,20240131, 20240301").unwrap();
/// let d: Vec<String> = d.iter().map(|d| d.to_string()).collect();
/// assert_eq!(d, ["20240130", "20240131", "20240201", "20240202", "20240301"]);
/// assert!(expand_dates("20240105..20240101").is_err());
/// ```
///
/// # Errors
/// [`Error::Invalid`]: what `date` for a malformed date (the API answers 404 for it, as the
/// original did), what `dates` for a malformed or inverted range or more than
/// [`MAX_EXPANDED_DATES`] dates.
pub fn expand_dates(value: &str) -> Result<Vec<Date>> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |d: Date, out: &mut Vec<Date>| -> Result<()> {
        if seen.insert(d) {
            if out.len() >= MAX_EXPANDED_DATES {
                return Err(Error::invalid(
                    "dates",
                    format!("more than {MAX_EXPANDED_DATES} dates"),
                ));
            }
            out.push(d);
        }
        Ok(())
    };
    for token in value.split(',').map(str::trim) {
        match token.split_once("..") {
            None => {
                push(Date::parse(token)?, &mut out)?;
            }
            Some((start, end)) => {
                let bad = |e: Error| Error::invalid("dates", format!("range `{token}`: {e}"));
                let start = Date::parse(start).map_err(bad)?;
                let (from, to) = (start.to_days(), Date::parse(end).map_err(bad)?.to_days());
                if to < from {
                    return Err(Error::invalid(
                        "dates",
                        format!("range `{token}` ends before it starts"),
                    ));
                }
                let span = usize::try_from(to - from).unwrap_or(usize::MAX);
                if span >= MAX_EXPANDED_DATES {
                    return Err(Error::invalid(
                        "dates",
                        format!("range `{token}` spans more than {MAX_EXPANDED_DATES} days"),
                    ));
                }
                for offset in 0..=(to - from) {
                    push(start.add_days(offset)?, &mut out)?;
                }
            }
        }
    }
    Ok(out)
}

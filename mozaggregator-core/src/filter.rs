//! The filter algebra over a series' dimensions.
//!
//! A [`Filter`] selects series by their dimensions (docs/definitions.md, "Filters from query parameters"): equality, set membership,
//! negation, conjunction, disjunction and match-all. [`Filter::matches`] evaluates it on one
//! series; [`Filter::normal_form`] turns it into per-dimension allowed sets a store can push down
//! into its query, plus whether an exact residual check is still needed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::keys::{Process, SeriesKey};

/// A dimension a filter can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dimension {
    /// The metric name.
    Metric,
    /// `application`.
    Application,
    /// `architecture`.
    Architecture,
    /// `os`.
    Os,
    /// `osVersion`.
    OsVersion,
    /// `child`: the process (`parent`, `content`, `gpu`).
    Child,
    /// `label`.
    Label,
}

impl Dimension {
    /// Every dimension.
    pub const ALL: [Dimension; 7] = [
        Dimension::Metric,
        Dimension::Application,
        Dimension::Architecture,
        Dimension::Os,
        Dimension::OsVersion,
        Dimension::Child,
        Dimension::Label,
    ];

    /// The API name (`"osVersion"`, `"child"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Dimension::Metric => "metric",
            Dimension::Application => "application",
            Dimension::Architecture => "architecture",
            Dimension::Os => "os",
            Dimension::OsVersion => "osVersion",
            Dimension::Child => "child",
            Dimension::Label => "label",
        }
    }
}

impl fmt::Display for Dimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dimension {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Dimension::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::invalid("dimension", format!("`{s}` is not a dimension")))
    }
}

/// The dimension values of one series, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowDims<'a> {
    /// Metric name.
    pub metric: &'a str,
    /// Application.
    pub application: &'a str,
    /// Architecture.
    pub architecture: &'a str,
    /// OS name.
    pub os: &'a str,
    /// OS version.
    pub os_version: &'a str,
    /// Process.
    pub child: Process,
    /// Label.
    pub label: &'a str,
}

impl<'a> RowDims<'a> {
    /// The dimensions of a series key.
    pub fn of(key: &'a SeriesKey) -> Self {
        Self {
            metric: &key.metric,
            application: &key.dims.application,
            architecture: &key.dims.architecture,
            os: &key.dims.os,
            os_version: &key.dims.os_version,
            child: key.process,
            label: &key.label,
        }
    }

    /// The value of one dimension.
    pub fn get(&self, dimension: Dimension) -> &'a str {
        match dimension {
            Dimension::Metric => self.metric,
            Dimension::Application => self.application,
            Dimension::Architecture => self.architecture,
            Dimension::Os => self.os,
            Dimension::OsVersion => self.os_version,
            Dimension::Child => self.child.as_str(),
            Dimension::Label => self.label,
        }
    }
}

/// A predicate over a series' dimensions.
///
/// ```
/// use mozaggregator_core::{Dimension, Filter, RowDims, Process};
/// let f = Filter::eq(Dimension::Os, "Linux").and(Filter::eq(Dimension::Child, "content").not());
/// let row = RowDims { metric: "GC_MS", application: "Firefox", architecture: "x86-64",
///     os: "Linux", os_version: "5.1", child: Process::Parent, label: "" };
/// assert!(f.matches(&row));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    /// Matches every series.
    All,
    /// The dimension equals the value.
    Eq(Dimension, String),
    /// The dimension is one of the values (an empty set matches nothing).
    In(Dimension, BTreeSet<String>),
    /// Negation.
    Not(Box<Filter>),
    /// Every filter matches (an empty list matches everything).
    And(Vec<Filter>),
    /// Some filter matches (an empty list matches nothing).
    Or(Vec<Filter>),
}

impl Filter {
    /// `dimension == value`.
    pub fn eq(dimension: Dimension, value: impl Into<String>) -> Self {
        Filter::Eq(dimension, value.into())
    }

    /// `dimension ∈ values`.
    pub fn is_in<I, S>(dimension: Dimension, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Filter::In(dimension, values.into_iter().map(Into::into).collect())
    }

    /// `self ∧ other`.
    pub fn and(self, other: Filter) -> Self {
        match (self, other) {
            (Filter::All, f) | (f, Filter::All) => f,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) => {
                a.push(f);
                Filter::And(a)
            }
            (f, g) => Filter::And(vec![f, g]),
        }
    }

    /// `self ∨ other`.
    pub fn or(self, other: Filter) -> Self {
        Filter::Or(vec![self, other])
    }

    /// `¬self`.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Self {
        match self {
            Filter::Not(f) => *f,
            f => Filter::Not(Box::new(f)),
        }
    }

    /// Evaluates the filter on one series.
    pub fn matches(&self, row: &RowDims<'_>) -> bool {
        match self {
            Filter::All => true,
            Filter::Eq(d, v) => row.get(*d) == v,
            Filter::In(d, vs) => vs.contains(row.get(*d)),
            Filter::Not(f) => !f.matches(row),
            Filter::And(fs) => fs.iter().all(|f| f.matches(row)),
            Filter::Or(fs) => fs.iter().any(|f| f.matches(row)),
        }
    }

    /// The push-down form of this filter.
    ///
    /// ```
    /// use mozaggregator_core::{Dimension, Filter};
    /// let nf = Filter::eq(Dimension::Os, "Linux").and(Filter::eq(Dimension::Child, "gpu"))
    ///     .normal_form();
    /// assert!(nf.exact);
    /// assert_eq!(nf.allowed[&Dimension::Os].len(), 1);
    /// ```
    pub fn normal_form(&self) -> NormalForm {
        let mut nf = NormalForm {
            allowed: BTreeMap::new(),
            exact: true,
        };
        self.collect(&mut nf);
        nf
    }

    fn collect(&self, nf: &mut NormalForm) {
        match self {
            Filter::All => {}
            Filter::Eq(d, v) => nf.restrict(*d, std::iter::once(v.clone()).collect()),
            Filter::In(d, vs) => nf.restrict(*d, vs.clone()),
            Filter::And(fs) => fs.iter().for_each(|f| f.collect(nf)),
            Filter::Or(fs) => match single_dimension_union(fs) {
                Some((d, vs)) => nf.restrict(d, vs),
                None => nf.exact = false,
            },
            Filter::Not(_) => nf.exact = false,
        }
    }
}

/// `Or` of `Eq`/`In` tests on one dimension is a set: the common case of multi-value filters.
fn single_dimension_union(fs: &[Filter]) -> Option<(Dimension, BTreeSet<String>)> {
    let mut dim = None;
    let mut values = BTreeSet::new();
    for f in fs {
        let (d, vs): (Dimension, Vec<&String>) = match f {
            Filter::Eq(d, v) => (*d, vec![v]),
            Filter::In(d, vs) => (*d, vs.iter().collect()),
            _ => return None,
        };
        if dim.is_some_and(|x| x != d) {
            return None;
        }
        dim = Some(d);
        values.extend(vs.into_iter().cloned());
    }
    dim.map(|d| (d, values))
}

/// A filter as per-dimension allowed sets (the normal form a store pushes down; docs/store.md, "The contract in plain words").
///
/// A series passes the push-down when, for every dimension in `allowed`, its value is in the
/// set. When `exact` is true that is the whole filter; otherwise the store must still call
/// [`Filter::matches`] on what passes (the push-down is then a superset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormalForm {
    /// Allowed values per restricted dimension; dimensions absent here are unrestricted.
    pub allowed: BTreeMap<Dimension, BTreeSet<String>>,
    /// True when the allowed sets are equivalent to the filter.
    pub exact: bool,
}

impl NormalForm {
    fn restrict(&mut self, d: Dimension, values: BTreeSet<String>) {
        match self.allowed.get_mut(&d) {
            Some(existing) => existing.retain(|v| values.contains(v)),
            None => {
                self.allowed.insert(d, values);
            }
        }
    }

    /// True when no series can pass (some allowed set is empty).
    pub fn is_empty(&self) -> bool {
        self.allowed.values().any(BTreeSet::is_empty)
    }

    /// Evaluates the push-down part on one series.
    pub fn admits(&self, row: &RowDims<'_>) -> bool {
        self.allowed.iter().all(|(d, vs)| vs.contains(row.get(*d)))
    }
}

/// Query parameters of the metric routes that are filters, with their dimensions (see
/// [`crate::params`]).
pub const FILTER_PARAMS: [(&str, Dimension); 6] = [
    ("application", Dimension::Application),
    ("architecture", Dimension::Architecture),
    ("os", Dimension::Os),
    ("osVersion", Dimension::OsVersion),
    ("child", Dimension::Child),
    ("label", Dimension::Label),
];

/// The dimension of a filter parameter name (`application`, `architecture`, `os`,
/// `osVersion`, `child`, `label`); `None` for any other name.
pub fn param_dimension(key: &str) -> Option<Dimension> {
    FILTER_PARAMS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, d)| *d)
}

/// [`param_dimension`], or an error naming `what` (the parameter that held `key`).
///
/// # Errors
/// [`Error::Invalid`] for a name that is not a filter parameter.
pub fn parse_param_dimension(what: &'static str, key: &str) -> Result<Dimension> {
    param_dimension(key).ok_or_else(|| {
        Error::invalid(
            what,
            format!("`{key}` is not one of application, architecture, os, osVersion, child, label"),
        )
    })
}

impl Filter {
    /// A filter on one filter parameter (`application`, `os`, `child`, …) that admits any of
    /// `values`: an `Eq` for one value, an `In` for several (multi-value filters). `child`
    /// values are parsed as by [`parse_child`].
    ///
    /// ```
    /// use mozaggregator_core::{Dimension, Filter};
    /// let f = Filter::from_param("child", &["true", "gpu"]).unwrap();
    /// assert_eq!(f, Filter::is_in(Dimension::Child, ["content", "gpu"]));
    /// assert!(Filter::from_param("colour", &["red"]).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] for a key that is not a filter parameter, no values, or a bad `child`.
    pub fn from_param(key: &str, values: &[&str]) -> Result<Filter> {
        let dimension = parse_param_dimension("filter", key)?;
        let values = values
            .iter()
            .map(|v| {
                if dimension == Dimension::Child {
                    parse_child(v).map(|p| p.as_str().to_string())
                } else {
                    Ok((*v).to_string())
                }
            })
            .collect::<Result<BTreeSet<String>>>()?;
        match values.len() {
            0 => Err(Error::invalid("filter", format!("`{key}` has no value"))),
            1 => Ok(Filter::In(dimension, values).simplified()),
            _ => Ok(Filter::In(dimension, values)),
        }
    }

    /// `In` with one value as `Eq`; everything else unchanged.
    fn simplified(self) -> Filter {
        match self {
            Filter::In(d, vs) if vs.len() == 1 => match vs.into_iter().next() {
                Some(v) => Filter::Eq(d, v),
                None => Filter::In(d, BTreeSet::new()),
            },
            f => f,
        }
    }
}

/// A `child` parameter: a process name, or the legacy `true` (content) / `false` (parent).
///
/// # Errors
/// [`Error::Invalid`] for anything else.
pub fn parse_child(value: &str) -> Result<Process> {
    match value {
        "true" => Ok(Process::Content),
        "false" => Ok(Process::Parent),
        other => other.parse().map_err(|_| {
            Error::invalid(
                "child",
                format!("`{other}` is not content, parent, gpu, true or false"),
            )
        }),
    }
}

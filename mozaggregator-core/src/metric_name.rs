//! Metric names: the prefixes that say where a stored metric comes from, and the name the API
//! serves it under. The one place these strings live (docs/ingest.md, "Scalars, simple
//! measures, count histograms"; docs/api.md, "Metric queries").
//!
//! ```
//! use mozaggregator_core::metric_name::{self, Source};
//! assert_eq!(metric_name::scalar("browser.engagement.tab_open_event_count"),
//!            "SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT");
//! assert_eq!(metric_name::source("SIMPLE_MEASURES_UPTIME"), Source::SimpleMeasure);
//! assert_eq!(metric_name::source("[[COUNT]]_SEARCH_COUNTS"), Source::Count);
//! assert_eq!(metric_name::served("[[COUNT]]_SEARCH_COUNTS"), "SEARCH_COUNTS");
//! assert!(metric_name::source("GC_MS").has_fixed_labels() == false);
//! ```

use crate::layout::Kind;

/// Prefix of numeric scalars (`SCALARS_` + the scalar's dotted name in upper case).
pub const SCALARS_PREFIX: &str = "SCALARS_";
/// Prefix of simple measurements (`SIMPLE_MEASURES_` + the field name in upper case).
pub const SIMPLE_MEASURES_PREFIX: &str = "SIMPLE_MEASURES_";
/// Prefix of the stored name of a count histogram's number of pings (`[[COUNT]]_` + name).
pub const COUNT_PREFIX: &str = "[[COUNT]]_";
/// Prefix of use counters served as a ratio to a denominator.
pub const USE_COUNTER2_PREFIX: &str = "USE_COUNTER2_";
/// Denominator of `USE_COUNTER2_*_DOCUMENT` counters.
pub const DOCUMENTS_DESTROYED: &str = "[[COUNT]]_CONTENT_DOCUMENTS_DESTROYED";
/// Denominator of the other `USE_COUNTER2_*` counters.
pub const TOP_LEVEL_DOCUMENTS_DESTROYED: &str = "[[COUNT]]_TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED";

/// Where a stored metric comes from, as its name says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A histogram (plain or keyed), stored under its own name.
    Histogram,
    /// A numeric scalar ([`SCALARS_PREFIX`]).
    Scalar,
    /// A simple measurement ([`SIMPLE_MEASURES_PREFIX`]).
    SimpleMeasure,
    /// The per-ping count of a count histogram ([`COUNT_PREFIX`]).
    Count,
}

impl Source {
    /// True for scalars and simple measures, which are recorded over the fixed labels of
    /// their kind rather than a layout of their own.
    pub fn has_fixed_labels(self) -> bool {
        matches!(self, Source::Scalar | Source::SimpleMeasure)
    }
}

/// Where the stored metric `name` comes from (by its prefix, case-sensitive).
pub fn source(name: &str) -> Source {
    if name.starts_with(SCALARS_PREFIX) {
        Source::Scalar
    } else if name.starts_with(SIMPLE_MEASURES_PREFIX) {
        Source::SimpleMeasure
    } else if name.starts_with(COUNT_PREFIX) {
        Source::Count
    } else {
        Source::Histogram
    }
}

/// The stored name of the scalar `dotted` (`browser.engagement.total_uri_count`).
pub fn scalar(dotted: &str) -> String {
    let mut name = String::with_capacity(SCALARS_PREFIX.len() + dotted.len());
    name.push_str(SCALARS_PREFIX);
    name.extend(dotted.chars().flat_map(char::to_uppercase));
    name
}

/// True when `name` starts with [`SCALARS_PREFIX`] in any case (`scalars_a.b`).
pub fn is_scalar_ignoring_case(name: &str) -> bool {
    name.get(..SCALARS_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SCALARS_PREFIX))
}

/// The stored name of the number of pings of the count histogram `name`.
pub fn count(name: &str) -> String {
    format!("{COUNT_PREFIX}{name}")
}

/// The name a stored metric is served under: without the [`COUNT_PREFIX`].
pub fn served(name: &str) -> &str {
    name.strip_prefix(COUNT_PREFIX).unwrap_or(name)
}

/// The kind a series of the stored metric `name`, stored in a layout of kind `stored`, is
/// served (by the API) and exported as: `count` for a count histogram's series
/// ([`COUNT_PREFIX`]), which is stored in the scalars' exponential layout; `stored` otherwise.
///
/// ```
/// use mozaggregator_core::metric_name::{served_kind, stored_kind};
/// use mozaggregator_core::Kind;
/// assert_eq!(served_kind("[[COUNT]]_GC_SLICES", Kind::Exponential), Kind::Count);
/// assert_eq!(served_kind("GC_MS", Kind::Exponential), Kind::Exponential);
/// assert_eq!(stored_kind("[[COUNT]]_GC_SLICES", Kind::Count), Kind::Exponential);
/// assert_eq!(stored_kind("A11Y_FLAG", Kind::Count), Kind::Count);
/// ```
pub fn served_kind(name: &str, stored: Kind) -> Kind {
    if source(name) == Source::Count && stored == Kind::Exponential {
        Kind::Count
    } else {
        stored
    }
}

/// The inverse of [`served_kind`]: the kind of the stored layout of a series of `name` served
/// or exported as `served` (what `import` reads an export's `kind` as).
pub fn stored_kind(name: &str, served: Kind) -> Kind {
    if source(name) == Source::Count && served == Kind::Count {
        Kind::Exponential
    } else {
        served
    }
}

/// The denominator of the use counter `name` ([`USE_COUNTER2_PREFIX`]): documents destroyed
/// for `_DOCUMENT` counters, top-level documents destroyed for the others; `None` for any
/// other metric.
pub fn use_counter_denominator(name: &str) -> Option<&'static str> {
    if !name.starts_with(USE_COUNTER2_PREFIX) {
        return None;
    }
    Some(if name.ends_with("_DOCUMENT") {
        DOCUMENTS_DESTROYED
    } else {
        TOP_LEVEL_DOCUMENTS_DESTROYED
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_names() {
        assert_eq!(source("SCALARS_A.B"), Source::Scalar);
        assert_eq!(source("scalars_a.b"), Source::Histogram);
        assert!(is_scalar_ignoring_case("scalars_a.b"));
        assert!(!is_scalar_ignoring_case("SCALAR"));
        assert_eq!(source("GC_MS"), Source::Histogram);
        assert!(Source::SimpleMeasure.has_fixed_labels() && !Source::Count.has_fixed_labels());
        assert_eq!(count("X"), "[[COUNT]]_X");
        assert_eq!(served(&count("X")), "X");
        assert_eq!(served("X"), "X");
        assert_eq!(scalar("a.b_c"), "SCALARS_A.B_C");
        assert_eq!(
            use_counter_denominator("USE_COUNTER2_X_DOCUMENT"),
            Some(DOCUMENTS_DESTROYED)
        );
        assert_eq!(
            use_counter_denominator("USE_COUNTER2_X_PAGE"),
            Some(TOP_LEVEL_DOCUMENTS_DESTROYED)
        );
        assert_eq!(use_counter_denominator("GC_MS"), None);
    }
}

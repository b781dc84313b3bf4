//! The layout ingest stores a metric under, told from its name and its definition alone (for
//! sources that carry no layout of their own, such as the original service's database).

use crate::definitions::Definitions;
use crate::layout::LayoutSpec;
use crate::metric_name::{self, Source};

/// The layout `aggregate` stores the metric `metric` (a stored name) under:
///
/// - `SCALARS_*` and `[[COUNT]]_*`: the scalar labels ([`LayoutSpec::scalar`]);
/// - `SIMPLE_MEASURES_*`: the simple-measure labels ([`LayoutSpec::simple_measure`]);
/// - any other name: the layout a ping declares for its definition
///   ([`Definitions::lookup`], so use counters are boolean without one), as ingest stores what
///   pings declare — an enumerated definition is declared, and stored, as linear buckets
///   `0..=n_values`.
///
/// `None` for a histogram without a definition.
///
/// ```
/// use mozaggregator_core::aggregate::stored_layout;
/// use mozaggregator_core::definitions::Definitions;
/// use mozaggregator_core::{Kind, LayoutSpec};
/// let defs = Definitions::from_histograms_json(
///     r#"{"E": {"kind": "enumerated", "n_values": 10, "description": ""}}"#).unwrap();
/// assert_eq!(stored_layout(&defs, "SCALARS_A.B"), Some(LayoutSpec::scalar()));
/// assert_eq!(stored_layout(&defs, "[[COUNT]]_SEARCH_COUNTS"), Some(LayoutSpec::scalar()));
/// assert_eq!(stored_layout(&defs, "SIMPLE_MEASURES_UPTIME"), Some(LayoutSpec::simple_measure()));
/// assert_eq!(stored_layout(&defs, "USE_COUNTER2_X_PAGE"), Some(LayoutSpec::boolean()));
/// assert_eq!(stored_layout(&defs, "E"), Some(LayoutSpec::linear(1, 10, 11).unwrap()));
/// assert_eq!(stored_layout(&defs, "UNDEFINED"), None);
/// ```
pub fn stored_layout(definitions: &Definitions, metric: &str) -> Option<LayoutSpec> {
    match metric_name::source(metric) {
        Source::Scalar | Source::Count => Some(LayoutSpec::scalar()),
        Source::SimpleMeasure => Some(LayoutSpec::simple_measure()),
        Source::Histogram => {
            let spec = definitions.lookup(metric)?.layout.spec();
            LayoutSpec::from_ping(
                i64::from(spec.kind().histogram_type()),
                spec.low(),
                spec.high(),
                u64::from(spec.bucket_count()),
            )
            .ok()
        }
    }
}

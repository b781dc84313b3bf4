//! Mobile-metrics pings (Fennec, GeckoView): their own family of rows, as the original's
//! `mobile.py` made them (docs/ingest.md, "Mobile pings").
//!
//! A `mobile_metrics` ping is aggregated by an [`crate::Aggregator`] whose
//! [`crate::Options::doc_type`] is [`crate::DocType::MobileMetrics`]. Its rows are keyed by
//! submission date, channel, full app version, build id, application, architecture, os, os
//! version, metric, key and process, each with a count of pings, a sum and a histogram
//! ([`MobileHistogram`]). They are written with [`crate::Store::write_mobile`] into tables of
//! [`crate::Prefix::MobileMetrics`], which the desktop API never serves, and read back with
//! [`crate::Store::scan_mobile`] (`export --doc-type mobile_metrics`).
//!
//! ```
//! use mozaggregator_core::{Aggregates, Aggregator, DocType, MemoryStore, Options, Store};
//! let ping = br#"{"meta": {"submissionDate": "20240102", "normalizedChannel": "release",
//!     "appVersion": "8.0.1", "appBuildId": "323001230-GeckoView", "appName": "Focus"},
//!   "arch": "arm64-v8a", "os": "Android", "osversion": 27,
//!   "metrics": {"engine": {"histograms": {"GC_MS": {"sum": 38, "values": {"10": 2, "18": 1}}},
//!                          "scalars": {"sessions.count": 2}}}}"#;
//! let mut aggregator = Aggregator::new(Options { doc_type: DocType::MobileMetrics, ..Options::default() });
//! let mut aggregates = Aggregates::new();
//! aggregator.add_json(&mut aggregates, ping);
//! aggregator.add_json(&mut aggregates, ping);
//! let store = MemoryStore::new();
//! aggregates.write_to(&store, |_| {}).unwrap();
//! let mut rows = Vec::new();
//! store.scan_mobile(&Default::default(), &mut |table, key, h| {
//!     rows.push((table.version.clone(), key.metric.clone(), key.os_version.clone(), h.count(), h.sum()));
//!     Ok(())
//! }).unwrap();
//! assert_eq!(rows, [
//!     ("8.0.1".to_string(), "GC_MS".to_string(), "27".to_string(), 2, 76),
//!     ("8.0.1".to_string(), "SCALARS_SESSIONS.COUNT".to_string(), "27".to_string(), 2, 4),
//! ]);
//! ```

mod aggregates;
#[cfg(feature = "generate")]
mod generate;
mod ping;
mod row;

pub use aggregates::MobileAggregates;
#[cfg(feature = "generate")]
pub use generate::{MobileGenerator, MOBILE_OS};
pub(crate) use ping::add_mobile_ping;
pub use row::{check_mobile_row, MobileBatch, MobileHistogram, MobileKey};
pub(crate) use row::{merge_mobile_rows, MobileRows};

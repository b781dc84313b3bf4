//! Which kind of ping a job aggregates.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The document type of the pings an [`crate::Aggregator`] reads.
///
/// ```
/// use mozaggregator_core::DocType;
/// assert_eq!("mobile_metrics".parse::<DocType>().unwrap(), DocType::MobileMetrics);
/// assert_eq!("mobile-metrics".parse::<DocType>().unwrap(), DocType::MobileMetrics);
/// assert_eq!(DocType::default().as_str(), "main");
/// assert!("crash".parse::<DocType>().is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocType {
    /// Desktop `main` pings: the build-id and submission-date families.
    #[default]
    Main,
    /// `mobile_metrics` pings (Fennec, GeckoView): the mobile family ([`crate::mobile`]).
    MobileMetrics,
}

impl DocType {
    /// Every document type.
    pub const ALL: [DocType; 2] = [DocType::Main, DocType::MobileMetrics];

    /// `"main"` or `"mobile_metrics"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DocType::Main => "main",
            DocType::MobileMetrics => "mobile_metrics",
        }
    }
}

impl fmt::Display for DocType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocType {
    type Err = Error;

    /// The name, with `-` accepted for `_` (the pipeline's `docType` is `mobile-metrics`).
    fn from_str(s: &str) -> Result<Self> {
        let name = s.replace('-', "_");
        DocType::ALL
            .into_iter()
            .find(|d| d.as_str() == name)
            .ok_or_else(|| {
                Error::invalid("doc_type", format!("`{s}` is not main or mobile_metrics"))
            })
    }
}

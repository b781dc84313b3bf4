//! `labels/`: the labels of a keyed metric with their pings and samples, most pings first,
//! paged.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::definitions::Definitions;
use crate::error::Result;
use crate::params::DEFAULT_PER_PAGE;
use crate::store::Store;

use super::MetricRequest;

/// One page of labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelPage {
    /// Number of labels in all.
    pub total: usize,
    /// This page (1-based).
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// The labels of this page, most pings first (ties: label ascending).
    pub labels: Vec<LabelCount>,
}

/// One label's totals over the requested dates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LabelCount {
    /// The label (`""` for unkeyed metrics).
    pub label: String,
    /// Contributing histograms.
    pub pings: u64,
    /// Samples (Σ buckets).
    pub samples: u64,
}

impl LabelPage {
    /// The labels of `request`'s metric (its group, top and statistics are ignored).
    /// `Ok(None)` when nothing matches.
    ///
    /// # Errors
    /// Store failures.
    pub fn of(
        request: &MetricRequest,
        page: Option<usize>,
        per_page: Option<usize>,
        store: &dyn Store,
        definitions: &Definitions,
    ) -> Result<Option<LabelPage>> {
        let Some(response) = request.query.run(store, definitions)? else {
            return Ok(None);
        };
        let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        for p in response.data {
            let samples = p.histogram.iter().fold(0u64, |a, c| a.saturating_add(*c));
            let t = totals.entry(p.label).or_default();
            t.0 = t.0.saturating_add(p.count);
            t.1 = t.1.saturating_add(samples);
        }
        let mut labels: Vec<LabelCount> = totals
            .into_iter()
            .map(|(label, (pings, samples))| LabelCount {
                label,
                pings,
                samples,
            })
            .collect();
        labels.sort_by(|a, b| b.pings.cmp(&a.pings).then_with(|| a.label.cmp(&b.label)));
        let page = page.unwrap_or(1).max(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE).max(1);
        let total = labels.len();
        let start = (page - 1).saturating_mul(per_page).min(total);
        let end = start.saturating_add(per_page).min(total);
        Ok(Some(LabelPage {
            total,
            page,
            per_page,
            labels: labels.drain(start..end).collect(),
        }))
    }
}

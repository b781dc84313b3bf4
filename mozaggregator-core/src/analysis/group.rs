//! `group_by` and `top`: splitting a metric answer by one dimension, and keeping the labels
//! with the most pings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::filter::{Dimension, Filter};
use crate::query::{DataPoint, MetricQuery, MetricResponse};
use crate::store::Store;

use super::{add_point, OTHER_LABEL};

/// The answer split by `dimension` (not `label`): one query per value the (channel, version)
/// holds for it (restricted to the values the filter allows), each entry tagged with its
/// group. Groups whose served buckets differ from the ungrouped answer's (a rare layout change
/// within one selection) are left out, so the groups add up to the ungrouped answer whenever
/// one layout is served.
pub(super) fn grouped(
    query: &MetricQuery,
    dimension: Dimension,
    store: &dyn Store,
    definitions: &Definitions,
) -> Result<Option<MetricResponse>> {
    let Some(mut whole) = query.run(store, definitions)? else {
        return Ok(None);
    };
    let allowed = query.filter.normal_form().allowed.remove(&dimension);
    let values: Vec<String> = group_values(store, query, dimension)?
        .into_iter()
        .filter(|v| allowed.as_ref().is_none_or(|a| a.contains(v)))
        .collect();
    let order: HashMap<Date, usize> = query
        .dates
        .iter()
        .enumerate()
        .map(|(i, d)| (*d, i))
        .collect();
    let mut data = Vec::new();
    for value in values {
        let mut one = query.clone();
        one.filter = query
            .filter
            .clone()
            .and(Filter::eq(dimension, value.clone()));
        let Some(part) = one.run(store, definitions)? else {
            continue;
        };
        if part.buckets != whole.buckets || part.kind != whole.kind {
            continue;
        }
        data.extend(part.data.into_iter().map(|mut p| {
            p.group = Some(value.clone());
            p
        }));
    }
    data.sort_by(|a, b| {
        let rank = |p: &DataPoint| order.get(&p.date).copied().unwrap_or(usize::MAX);
        (rank(a), &a.label, &a.group).cmp(&(rank(b), &b.label, &b.group))
    });
    whole.data = data;
    Ok((!whole.data.is_empty()).then_some(whole))
}

/// The values one dimension takes in the (channel, version)'s filter options.
fn group_values(
    store: &dyn Store,
    query: &MetricQuery,
    dimension: Dimension,
) -> Result<BTreeSet<String>> {
    let Some(options) = store.filter_options(&query.channel, &query.version)? else {
        return Ok(BTreeSet::new());
    };
    Ok(match dimension {
        Dimension::Application => options.application,
        Dimension::Architecture => options.architecture,
        Dimension::Os => options.os.into_iter().map(|(os, _)| os).collect(),
        Dimension::OsVersion => options.os.into_iter().map(|(_, v)| v).collect(),
        Dimension::Child => options
            .child
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        Dimension::Metric | Dimension::Label => BTreeSet::new(),
    })
}

/// Keeps the entries of the `k` labels with the most pings over the whole answer (ties: label
/// ascending) and sums every other label into one [`OTHER_LABEL`] entry per (date, group),
/// placed after that date's kept labels.
///
/// # Errors
/// [`Error::Invalid`] (what: `top`) when the answer has no labels (an unkeyed metric).
pub(super) fn keep_top(response: &mut MetricResponse, k: usize, metric: &str) -> Result<()> {
    if response.data.iter().all(|p| p.label.is_empty()) {
        return Err(Error::invalid(
            "top",
            format!("`top` applies to keyed metrics; `{metric}` has no labels"),
        ));
    }
    let mut pings: BTreeMap<&str, u64> = BTreeMap::new();
    for p in &response.data {
        let total = pings.entry(p.label.as_str()).or_default();
        *total = total.saturating_add(p.count);
    }
    let mut ranked: Vec<(&str, u64)> = pings.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let kept: BTreeSet<String> = ranked.iter().take(k).map(|(l, _)| l.to_string()).collect();
    if kept.len() == ranked.len() {
        return Ok(());
    }
    let mut out: Vec<DataPoint> = Vec::with_capacity(response.data.len());
    // Entries arrive grouped by date; the `__other__` of a (date, group) follows the date's kept
    // entries.
    let mut others: Vec<DataPoint> = Vec::new();
    let flush = |out: &mut Vec<DataPoint>, others: &mut Vec<DataPoint>| out.append(others);
    let mut current_date: Option<Date> = None;
    for p in std::mem::take(&mut response.data) {
        if current_date != Some(p.date) {
            flush(&mut out, &mut others);
            current_date = Some(p.date);
        }
        if kept.contains(&p.label) {
            out.push(p);
            continue;
        }
        match others.iter_mut().find(|o| o.group == p.group) {
            Some(o) => {
                let mut counts = std::mem::take(&mut o.histogram);
                add_point(&mut counts, &mut o.sum, &mut o.count, &p);
                o.histogram = counts;
            }
            None => {
                let mut o = p;
                o.label = OTHER_LABEL.to_string();
                others.push(o);
            }
        }
    }
    flush(&mut out, &mut others);
    response.data = out;
    Ok(())
}

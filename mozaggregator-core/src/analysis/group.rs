//! `group_by` and `top`: splitting a metric answer by one dimension, and keeping the labels
//! with the most pings.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::date::Date;
use crate::definitions::Definitions;
use crate::error::{Error, Result};
use crate::filter::{Dimension, Filter};
use crate::query::{DataPoint, MetricQuery, MetricResponse};
use crate::store::Store;

use super::{add_point, ReplicateAnswers, OTHER_LABEL};

/// The answer split by `dimension` (not `label`): one query per value the (channel, version)
/// holds for it (restricted to the values the filter allows), each entry tagged with its
/// group. Groups whose served buckets differ from the ungrouped answer's (a rare layout change
/// within one selection) are left out, so the groups add up to the ungrouped answer whenever
/// one layout is served.
///
/// With `replicates`, each group value's replicate answers are read with it (one
/// [`Store::replicates`] call per value's store read) and tagged and ordered alike.
pub(super) fn grouped(
    query: &MetricQuery,
    dimension: Dimension,
    store: &dyn Store,
    definitions: &Definitions,
    replicates: bool,
) -> Result<Option<(MetricResponse, Option<ReplicateAnswers>)>> {
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
    let mut groups: Option<ReplicateAnswers> = None;
    for value in values {
        let mut one = query.clone();
        one.filter = query
            .filter
            .clone()
            .and(Filter::eq(dimension, value.clone()));
        let Some((part, part_groups)) = one.answer(store, definitions, replicates)? else {
            continue;
        };
        if part.buckets != whole.buckets || part.kind != whole.kind {
            continue;
        }
        let tag = |entries: &mut Vec<DataPoint>| {
            for p in entries {
                p.group = Some(value.clone());
            }
        };
        let mut part_data = part.data;
        tag(&mut part_data);
        data.extend(part_data);
        if let Some(mut part_groups) = part_groups {
            part_groups.each(tag);
            match &mut groups {
                Some(groups) => groups.append(part_groups)?,
                None => groups = Some(part_groups),
            }
        }
    }
    let sort = |entries: &mut Vec<DataPoint>| {
        entries.sort_by(|a, b| {
            let rank = |p: &DataPoint| order.get(&p.date).copied().unwrap_or(usize::MAX);
            (rank(a), &a.label, &a.group).cmp(&(rank(b), &b.label, &b.group))
        });
    };
    sort(&mut data);
    if let Some(groups) = &mut groups {
        groups.each(sort);
    }
    whole.data = data;
    if whole.data.is_empty() {
        return Ok(None);
    }
    Ok(Some((whole, groups)))
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

/// The `k` labels with the most pings over the whole answer (ties: label ascending); `None`
/// when that keeps every label.
///
/// # Errors
/// [`Error::Invalid`] (what: `top`) when the answer has no labels (an unkeyed metric).
pub(super) fn top_labels(
    response: &MetricResponse,
    k: usize,
    metric: &str,
) -> Result<Option<BTreeSet<String>>> {
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
    Ok((kept.len() < ranked.len()).then_some(kept))
}

/// Keeps the entries of the `kept` labels and sums every other label into one
/// [`OTHER_LABEL`] entry per (date, group), placed after that date's kept labels. The same
/// `kept` set shapes the main answer and each replicate group's.
pub(super) fn fold_others(data: &mut Vec<DataPoint>, kept: &BTreeSet<String>) {
    let mut out: Vec<DataPoint> = Vec::with_capacity(data.len());
    // Entries arrive grouped by date; the `__other__` of a (date, group) follows the date's kept
    // entries.
    let mut others: Vec<DataPoint> = Vec::new();
    let flush = |out: &mut Vec<DataPoint>, others: &mut Vec<DataPoint>| out.append(others);
    let mut current_date: Option<Date> = None;
    for p in std::mem::take(data) {
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
    *data = out;
}

//! The rules of docs/ingest.md ("Mobile pings"): a `mobile_metrics` ping's dimensions, and
//! what becomes of each histogram and scalar of each process, or why it is rejected.

use std::sync::LazyLock;

use serde_json::{Map, Value};

use super::aggregates::{MobileAggregates, TableKey};
use super::row::{MobileHistogram, MobileKey};
use crate::aggregate::rules::{push_upper, scalar_value, TWO_POW_64};
use crate::aggregate::Options;
use crate::completion::{parse_key, place};
use crate::date::Date;
use crate::layout::{bucket_index, BucketLayout, Kind, LayoutSpec};
use crate::metric_name;
use crate::ping::Scalar;
use crate::reject::{HistogramReject, PingReject, ScalarReject};
use crate::report::Report;

// Names never aggregated, as for main pings.
use crate::aggregate::parse::{IGNORED_KEYED_HISTOGRAMS, IGNORED_SCALAR_PREFIX};

/// One measurement of a ping, before it reaches its row.
struct Record {
    metric: String,
    key: String,
    process: String,
    layout: Option<LayoutSpec>,
    sum: u64,
    buckets: Vec<(u64, u64)>,
    scalar: bool,
    unplaced: u64,
    bad_keys: u64,
    non_integer: u64,
}

/// What one ping produced: its records and its rejects (added to the report only once the
/// ping's dimensions are valid).
#[derive(Default)]
struct Extracted {
    records: Vec<Record>,
    histograms_rejected: Vec<HistogramReject>,
    scalars_rejected: Vec<ScalarReject>,
}

/// Parses `json` as a mobile-metrics ping and adds it to `out` (its rejects to `report`).
/// `wanted_date` is the job's submission date as text, if any.
pub(crate) fn add_mobile_ping(
    options: &Options,
    wanted_date: Option<&str>,
    out: &mut MobileAggregates,
    report: &mut Report,
    text: &str,
) {
    let ping: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return report.reject_ping(crate::aggregate::parse_error_reason(&e)),
    };
    let Some(ping) = ping.as_object() else {
        return report.reject_ping(PingReject::NotAPingObject);
    };
    let (table, dims) = match dimensions(options, wanted_date, ping) {
        Ok(d) => d,
        Err(reason) => return report.reject_ping(reason),
    };
    let metrics = match ping.get("metrics") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return report.reject_ping(PingReject::InvalidMetrics),
    };
    let mut extracted = Extracted::default();
    for (process, sections) in metrics.into_iter().flatten() {
        extract_process(options, process, sections, &mut extracted);
    }
    report.pings_used += 1;
    for reason in extracted.histograms_rejected {
        report.reject_histogram(reason);
    }
    for reason in extracted.scalars_rejected {
        report.reject_scalar(reason);
    }
    let rows = out.tables.entry(table).or_default();
    let mut key = dims;
    for r in extracted.records {
        key.metric = r.metric;
        key.key = r.key;
        key.process = r.process;
        let row = rows
            .entry((key.clone(), r.layout))
            .or_insert_with(|| MobileHistogram::new(r.layout));
        if row.add_ping(r.sum, &r.buckets).is_err() {
            if r.scalar {
                report.reject_scalar(ScalarReject::Overflow);
            } else {
                report.reject_histogram(HistogramReject::Overflow);
            }
            continue;
        }
        if r.scalar {
            report.scalars_used += 1;
        } else {
            report.histograms_used += 1;
            report.bad_keys += r.bad_keys;
            report.non_integer_counts += r.non_integer;
            if r.unplaced > 0 {
                report.unplaced(&key.metric, r.unplaced);
            }
        }
    }
}

/// A required string field: absent or null is `missing`, another type `invalid`.
fn required<'p>(
    object: Option<&'p Map<String, Value>>,
    field: &str,
    missing: PingReject,
    invalid: PingReject,
) -> Result<&'p str, PingReject> {
    match object.and_then(|o| o.get(field)) {
        None | Some(Value::Null) => Err(missing),
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(_) => Err(invalid),
    }
}

/// The ping's table (submission date, channel, full version) and the key dimensions
/// (metric, key and process left empty), or why the ping is rejected.
fn dimensions(
    options: &Options,
    wanted_date: Option<&str>,
    ping: &Map<String, Value>,
) -> Result<(TableKey, MobileKey), PingReject> {
    let meta = match ping.get("meta") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err(PingReject::InvalidMeta),
    };
    let submission_date = match meta.and_then(|m| m.get("submissionDate")) {
        None | Some(Value::Null) => wanted_date.ok_or(PingReject::MissingSubmissionDate)?,
        Some(Value::String(d)) => {
            if wanted_date.is_some_and(|want| want != d) {
                return Err(PingReject::OtherSubmissionDate);
            }
            d
        }
        Some(_) => return Err(PingReject::InvalidSubmissionDate),
    };
    let submission_date =
        Date::parse(submission_date).map_err(|_| PingReject::InvalidSubmissionDate)?;
    let channel = required(
        meta,
        "normalizedChannel",
        PingReject::MissingChannel,
        PingReject::InvalidChannel,
    )?;
    options.select_channel(channel)?;
    let version = required(
        meta,
        "appVersion",
        PingReject::MissingVersion,
        PingReject::InvalidVersion,
    )?;
    options.select_version(version.split('.').next().unwrap_or(""))?;
    let build_id = required(
        meta,
        "appBuildId",
        PingReject::MissingBuildId,
        PingReject::InvalidBuildId,
    )?;
    let application = required(
        meta,
        "appName",
        PingReject::MissingApplication,
        PingReject::InvalidApplication,
    )?;
    let top = Some(ping);
    let architecture = required(
        top,
        "arch",
        PingReject::MissingArchitecture,
        PingReject::InvalidArchitecture,
    )?;
    let os = required(top, "os", PingReject::MissingOs, PingReject::InvalidOs)?;
    // Some clients send the OS version as a number: kept as its decimal text.
    let os_version = match ping.get("osversion") {
        None | Some(Value::Null) => return Err(PingReject::MissingOsVersion),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => n.to_string(),
        Some(_) => return Err(PingReject::InvalidOsVersion),
    };
    let table = (submission_date, channel.to_string(), version.to_string());
    let key = MobileKey {
        build_id: build_id.to_string(),
        application: application.to_string(),
        architecture: architecture.to_string(),
        os: os.to_string(),
        os_version,
        ..MobileKey::default()
    };
    Ok((table, key))
}

/// The sections of one process: `histograms`, `keyedHistograms`, `scalars`, `keyedScalars`.
fn extract_process(options: &Options, process: &str, sections: &Value, out: &mut Extracted) {
    let Some(sections) = sections.as_object() else {
        return out
            .histograms_rejected
            .push(HistogramReject::SectionNotAnObject);
    };
    let section = |name: &str| sections.get(name).filter(|v| !v.is_null());
    if let Some(histograms) = section("histograms") {
        match histograms.as_object() {
            Some(h) => {
                for (name, histogram) in h {
                    extract_histogram(options, process, name, "", histogram, out);
                }
            }
            None => out
                .histograms_rejected
                .push(HistogramReject::SectionNotAnObject),
        }
    }
    match section("keyedHistograms").map(Value::as_object) {
        None => {}
        Some(None) => out
            .histograms_rejected
            .push(HistogramReject::SectionNotAnObject),
        Some(Some(keyed)) => {
            for (name, keys) in keyed {
                if IGNORED_KEYED_HISTOGRAMS.contains(&name.as_str()) {
                    out.histograms_rejected.push(HistogramReject::IgnoredByName);
                    continue;
                }
                match keys.as_object() {
                    Some(keys) => {
                        for (key, histogram) in keys {
                            extract_histogram(options, process, name, key, histogram, out);
                        }
                    }
                    None => out.histograms_rejected.push(HistogramReject::NotAnObject),
                }
            }
        }
    }
    extract_scalars(process, &section, out);
}

/// `scalars` (name → value) and `keyedScalars` (name → key → value) of one process.
fn extract_scalars<'s>(
    process: &str,
    section: &impl Fn(&str) -> Option<&'s Value>,
    out: &mut Extracted,
) {
    if let Some(scalars) = section("scalars") {
        match scalars.as_object() {
            Some(s) => {
                for (name, value) in s {
                    extract_scalar(process, name, None, value, out);
                }
            }
            None => out.scalars_rejected.push(ScalarReject::SectionNotAnObject),
        }
    }
    if let Some(keyed) = section("keyedScalars") {
        match keyed.as_object() {
            Some(k) => {
                for (name, keys) in k {
                    match keys.as_object() {
                        Some(keys) => {
                            for (key, value) in keys {
                                extract_scalar(process, name, Some(key), value, out);
                            }
                        }
                        None => out.scalars_rejected.push(ScalarReject::NotAnObject),
                    }
                }
            }
            None => out.scalars_rejected.push(ScalarReject::SectionNotAnObject),
        }
    }
}

/// The lower bound of the scalar layout's bucket holding `value` (the layout's bounds are
/// computed once, not per value).
fn scalar_bound(value: u64) -> u64 {
    static SCALAR: LazyLock<BucketLayout> =
        LazyLock::new(|| BucketLayout::new(LayoutSpec::scalar()));
    let bounds = SCALAR.bounds();
    bounds[bucket_index(bounds, value)]
}

/// A JSON value as the parser's [`Scalar`].
fn scalar_of(v: &Value) -> Scalar {
    match v {
        Value::Null => Scalar::Null,
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Scalar::Unsigned(u),
            (None, Some(i)) => Scalar::Negative(i),
            _ => Scalar::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(_) => Scalar::String,
        Value::Array(_) => Scalar::Array,
        Value::Object(_) => Scalar::Object,
    }
}

/// One scalar value: a `SCALARS_…` row in the scalar layout (keyed: the key uppercased).
fn extract_scalar(
    process: &str,
    name: &str,
    key: Option<&str>,
    value: &Value,
    out: &mut Extracted,
) {
    if name.starts_with(IGNORED_SCALAR_PREFIX) {
        return out.scalars_rejected.push(ScalarReject::IgnoredByName);
    }
    let v = match scalar_value(scalar_of(value)) {
        Ok(v) => v,
        Err(reason) => return out.scalars_rejected.push(reason),
    };
    let mut metric = String::from(metric_name::SCALARS_PREFIX);
    push_upper(&mut metric, name);
    let mut label = String::new();
    if let Some(key) = key {
        push_upper(&mut label, key);
    }
    out.records.push(Record {
        metric,
        key: label,
        process: process.to_string(),
        layout: Some(LayoutSpec::scalar()),
        sum: v,
        buckets: vec![(scalar_bound(v), 1)],
        scalar: true,
        unplaced: 0,
        bad_keys: 0,
        non_integer: 0,
    });
}

/// One histogram (`sum` and `values`): laid out by its definition when there is one, else
/// kept sparse, as sent.
fn extract_histogram(
    options: &Options,
    process: &str,
    name: &str,
    key: &str,
    histogram: &Value,
    out: &mut Extracted,
) {
    let mut reject = |reason| out.histograms_rejected.push(reason);
    let Some(h) = histogram.as_object() else {
        return reject(HistogramReject::NotAnObject);
    };
    let sum = match h.get("sum").map(scalar_of) {
        Some(Scalar::Unsigned(s)) => s,
        Some(Scalar::Negative(_)) => return reject(HistogramReject::NegativeSum),
        Some(Scalar::Float(f)) if f.abs() >= TWO_POW_64 => {
            return reject(HistogramReject::NumberOutOfRange)
        }
        _ => return reject(HistogramReject::SumNotInteger),
    };
    let Some(values) = h.get("values").and_then(Value::as_object) else {
        return reject(HistogramReject::ValuesNotAnObject);
    };
    let definition = options.definitions.lookup(name);
    if definition.is_some_and(|d| d.layout.kind() == Kind::Count) {
        // A count histogram: a scalar-like row of its `sum`, as for main pings.
        return out.records.push(Record {
            metric: metric_name::count(name),
            key: key.to_string(),
            process: process.to_string(),
            layout: Some(LayoutSpec::scalar()),
            sum,
            buckets: vec![(scalar_bound(sum), 1)],
            scalar: false,
            unplaced: 0,
            bad_keys: 0,
            non_integer: 0,
        });
    }
    let layout = definition.map(|d| &d.layout);
    let mut record = Record {
        metric: name.to_string(),
        key: key.to_string(),
        process: process.to_string(),
        layout: layout.map(BucketLayout::spec),
        sum,
        buckets: Vec::with_capacity(values.len()),
        scalar: false,
        unplaced: 0,
        bad_keys: 0,
        non_integer: 0,
    };
    let mut total: u64 = 0;
    for (bucket, count) in values {
        let count = match scalar_of(count) {
            Scalar::Unsigned(c) => c,
            Scalar::Negative(_) => return reject(HistogramReject::NegativeCount),
            Scalar::Float(f) if f < 0.0 => return reject(HistogramReject::NegativeCount),
            Scalar::Float(f) if f >= TWO_POW_64 => {
                return reject(HistogramReject::NumberOutOfRange)
            }
            _ => {
                record.non_integer += 1;
                0
            }
        };
        let Some(t) = total.checked_add(count) else {
            return reject(HistogramReject::Overflow);
        };
        total = t;
        let parsed = parse_key(bucket);
        let bound = match (parsed, layout) {
            (Some(k), Some(layout)) => place(k, layout).map(|i| layout.bounds()[i]),
            (Some(k), None) => u64::try_from(k).ok(),
            (None, _) => None,
        };
        match bound {
            Some(b) => {
                if count > 0 {
                    record.buckets.push((b, count));
                }
            }
            None => {
                // Not an integer; or, kept sparse, negative: no bucket can hold it.
                if parsed.is_none() || layout.is_none() {
                    record.bad_keys += 1;
                }
                record.unplaced += count;
            }
        }
    }
    out.records.push(record);
}

//! Loading Histograms.json: every definition's kind, layout, description and keyedness.

use serde_json::{Map, Value};

use super::{expr, Definition};
use crate::error::{Error, Result};
use crate::layout::{BucketLayout, Kind, MAX_BUCKETS, MAX_HIGH};

/// Most buckets all the definitions of one file may have together (80 MB of bounds). A real
/// Histograms.json has about 100 000; the limit stops a small hostile file from allocating
/// gigabytes through many maximal layouts.
pub const MAX_TOTAL_BUCKETS: usize = 10_000_000;

/// Parses a Histograms.json document into definitions, skipping keys that start with `_`.
pub(super) fn parse(json: &str) -> Result<Vec<Definition>> {
    let doc: Value = serde_json::from_str(json).map_err(|e| Error::Parse {
        what: "Histograms.json".into(),
        reason: e.to_string(),
    })?;
    let Value::Object(entries) = doc else {
        return Err(Error::Parse {
            what: "Histograms.json".into(),
            reason: "the top level is not an object of definitions".into(),
        });
    };
    let mut out = Vec::with_capacity(entries.len());
    let mut budget = Budget {
        left: MAX_TOTAL_BUCKETS,
    };
    for (name, value) in &entries {
        if name.starts_with('_') {
            continue;
        }
        out.push(parse_one(name, value, &mut budget)?);
    }
    Ok(out)
}

/// The buckets the rest of the file may still allocate.
struct Budget {
    left: usize,
}

impl Budget {
    /// Takes `n` buckets for the layout of `name` before it is computed.
    fn take(&mut self, name: &str, field: &str, n: u64) -> Result<()> {
        match usize::try_from(n).ok().filter(|&n| n <= self.left) {
            Some(n) => {
                self.left -= n;
                Ok(())
            }
            None => Err(bad(
                name,
                field,
                format!("the file's definitions exceed {MAX_TOTAL_BUCKETS} buckets in total"),
            )),
        }
    }
}

fn bad(metric: &str, field: &str, reason: impl Into<String>) -> Error {
    Error::Definition {
        metric: metric.to_string(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn parse_one(name: &str, value: &Value, budget: &mut Budget) -> Result<Definition> {
    let Value::Object(fields) = value else {
        return Err(bad(name, "(definition)", "not an object"));
    };
    let kind_name = match fields.get("kind") {
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(bad(name, "kind", format!("not a string: {}", short(other)))),
        None => return Err(bad(name, "kind", "missing")),
    };
    let kind: Kind = kind_name
        .parse()
        .map_err(|_| bad(name, "kind", format!("unknown kind `{kind_name}`")))?;
    let layout = layout(name, kind, fields, budget)?;
    let description = match fields.get("description") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(bad(
                name,
                "description",
                format!("not a string: {}", short(other)),
            ))
        }
    };
    let keyed = match fields.get("keyed") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        Some(other) => {
            return Err(bad(
                name,
                "keyed",
                format!("expected true or false, got {}", short(other)),
            ))
        }
    };
    Ok(Definition {
        name: name.to_string(),
        kind,
        layout,
        description,
        keyed,
    })
}

fn layout(
    name: &str,
    kind: Kind,
    fields: &Map<String, Value>,
    budget: &mut Budget,
) -> Result<BucketLayout> {
    let to_layout = |field: &str, r: Result<BucketLayout>| {
        r.map_err(|e| match e {
            Error::InvalidLayout(reason) => bad(name, field, reason),
            other => other,
        })
    };
    match kind {
        Kind::Boolean => Ok(BucketLayout::boolean()),
        Kind::Flag => Ok(BucketLayout::flag()),
        Kind::Count => Ok(BucketLayout::count()),
        Kind::Enumerated => {
            let n_values = required(name, fields, "n_values")?;
            if n_values < 2 || n_values >= u64::from(MAX_BUCKETS) {
                return Err(bad(
                    name,
                    "n_values",
                    format!("{n_values} is outside 2..{MAX_BUCKETS}"),
                ));
            }
            budget.take(name, "n_values", n_values + 1)?;
            to_layout("n_values", BucketLayout::enumerated(n_values))
        }
        Kind::Categorical => {
            let labels = labels(name, fields)?;
            let n_values = number(name, fields, "n_values")?;
            if let Some(n) = n_values.filter(|&n| n >= u64::from(MAX_BUCKETS)) {
                return Err(bad(
                    name,
                    "n_values",
                    format!("{n} is not below {MAX_BUCKETS}"),
                ));
            }
            if labels.len() >= MAX_BUCKETS as usize {
                return Err(bad(
                    name,
                    "labels",
                    format!("{} labels, not fewer than {MAX_BUCKETS}", labels.len()),
                ));
            }
            let n = (labels.len() as u64).max(n_values.unwrap_or(0)).max(50) + 1;
            budget.take(name, "labels", n)?;
            to_layout("labels", BucketLayout::categorical(labels, n_values))
        }
        Kind::Exponential | Kind::Linear => {
            let low = number(name, fields, "low")?.unwrap_or(1);
            let high = required(name, fields, "high")?;
            let n = required(name, fields, "n_buckets")?;
            let n = u32::try_from(n)
                .ok()
                .filter(|&n| (3..=MAX_BUCKETS).contains(&n))
                .ok_or_else(|| {
                    bad(
                        name,
                        "n_buckets",
                        format!("{n} is outside 3..={MAX_BUCKETS}"),
                    )
                })?;
            if low < 1 {
                return Err(bad(name, "low", format!("{low} is below 1")));
            }
            if high <= low {
                return Err(bad(
                    name,
                    "high",
                    format!("{high} is not above low ({low})"),
                ));
            }
            if high > MAX_HIGH {
                return Err(bad(name, "high", format!("{high} is above 2^53")));
            }
            budget.take(name, "n_buckets", u64::from(n))?;
            let layout = if kind == Kind::Exponential {
                BucketLayout::exponential(low, high, n)
            } else {
                BucketLayout::linear(low, high, n)
            };
            to_layout("n_buckets", layout)
        }
    }
}

fn labels(name: &str, fields: &Map<String, Value>) -> Result<Vec<String>> {
    let Some(value) = fields.get("labels") else {
        return Err(bad(
            name,
            "labels",
            "missing (categorical histograms need labels)",
        ));
    };
    let Value::Array(items) = value else {
        return Err(bad(name, "labels", format!("not a list: {}", short(value))));
    };
    if items.is_empty() {
        return Err(bad(name, "labels", "empty"));
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(s) => Ok(s.clone()),
            other => Err(bad(
                name,
                "labels",
                format!("label {} is not a string", short(other)),
            )),
        })
        .collect()
}

fn required(name: &str, fields: &Map<String, Value>, field: &str) -> Result<u64> {
    number(name, fields, field)?.ok_or_else(|| bad(name, field, "missing"))
}

/// A non-negative integer field: a JSON integer, an integral float, or a string holding an
/// integer expression (`"32 * 1024"`, a symbolic constant).
fn number(name: &str, fields: &Map<String, Value>, field: &str) -> Result<Option<u64>> {
    let value = match fields.get(field) {
        None => return Ok(None),
        Some(v) => v,
    };
    let signed: i128 = match value {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                i128::from(u)
            } else if let Some(i) = n.as_i64() {
                i128::from(i)
            } else {
                match n.as_f64() {
                    // Integral floats such as `1e3` or `50.0` are exact below 2^53.
                    Some(f) if f.is_finite() && f.fract() == 0.0 && f.abs() <= MAX_HIGH as f64 => {
                        f as i128
                    }
                    _ => return Err(bad(name, field, format!("{n} is not an integer"))),
                }
            }
        }
        Value::String(s) => i128::from(expr::eval(s).map_err(|reason| bad(name, field, reason))?),
        other => {
            return Err(bad(
                name,
                field,
                format!("expected an integer, got {}", short(other)),
            ))
        }
    };
    u64::try_from(signed)
        .map(Some)
        .map_err(|_| bad(name, field, format!("{signed} is negative")))
}

/// A value for an error message, cut to a readable length.
fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

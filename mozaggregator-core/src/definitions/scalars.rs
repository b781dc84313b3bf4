//! Loading Scalars.yaml: `category → probe → {kind, description, keyed}`.

use serde_norway::{Mapping, Value};

use super::Definition;
use crate::error::{Error, Result};
use crate::layout::{BucketLayout, Kind, LayoutSpec};

/// The scalar kinds Scalars.yaml declares (Firefox writes `boolean`; `bool` is accepted too);
/// all are served over the scalar labels.
pub const SCALAR_KINDS: [&str; 4] = ["uint", "boolean", "bool", "string"];

/// Parses a Scalars.yaml document. An empty document defines nothing.
pub(super) fn parse(yaml: &str) -> Result<Vec<Definition>> {
    let doc: Value = serde_norway::from_str(yaml).map_err(|e| Error::Parse {
        what: "Scalars.yaml".into(),
        reason: e.to_string(),
    })?;
    let categories = match doc {
        Value::Null => return Ok(Vec::new()),
        Value::Mapping(m) => m,
        _ => {
            return Err(Error::Parse {
                what: "Scalars.yaml".into(),
                reason: "the top level is not a mapping of categories".into(),
            })
        }
    };
    let layout = BucketLayout::new(LayoutSpec::scalar());
    let mut out = Vec::new();
    for (category, probes) in &categories {
        let category = key_str(category, "(category)", "(category name)")?;
        let Value::Mapping(probes) = probes else {
            return Err(bad(category, "(category)", "not a mapping of probes"));
        };
        for (probe, fields) in probes {
            let probe = key_str(probe, category, "(probe name)")?;
            let dotted = format!("{category}.{probe}");
            let Value::Mapping(fields) = fields else {
                return Err(bad(&dotted, "(definition)", "not a mapping"));
            };
            out.push(parse_one(&dotted, fields, &layout)?);
        }
    }
    Ok(out)
}

fn key_str<'a>(key: &'a Value, metric: &str, field: &str) -> Result<&'a str> {
    key.as_str()
        .ok_or_else(|| bad(metric, field, "a name is not a string"))
}

fn bad(metric: &str, field: &str, reason: impl Into<String>) -> Error {
    Error::Definition {
        metric: metric.to_string(),
        field: field.to_string(),
        reason: reason.into(),
    }
}

fn parse_one(dotted: &str, fields: &Mapping, layout: &BucketLayout) -> Result<Definition> {
    match fields.get("kind") {
        Some(Value::String(k)) if SCALAR_KINDS.contains(&k.as_str()) => {}
        Some(Value::String(k)) => {
            return Err(bad(
                dotted,
                "kind",
                format!("unknown scalar kind `{k}` (expected uint, boolean or string)"),
            ))
        }
        Some(_) => return Err(bad(dotted, "kind", "not a string")),
        None => return Err(bad(dotted, "kind", "missing")),
    }
    let description = match fields.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim_end().to_string(),
        Some(_) => return Err(bad(dotted, "description", "not a string")),
    };
    let keyed = match fields.get("keyed") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s == "true" => true,
        Some(Value::String(s)) if s == "false" => false,
        Some(_) => return Err(bad(dotted, "keyed", "expected true or false")),
    };
    Ok(Definition {
        name: crate::metric_name::scalar(dotted),
        kind: Kind::Exponential,
        layout: layout.clone(),
        description,
        keyed,
    })
}

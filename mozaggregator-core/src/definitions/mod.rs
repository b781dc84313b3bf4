//! Probe definitions: Histograms.json and Scalars.yaml, loaded from files only.
//!
//! A definition gives a metric its kind, its bucket layout (categorical layouts with their
//! labels), its description and whether it is keyed. Histograms.json is read with the quirks of
//! old files (docs/definitions.md, "Loading definitions"): numbers written as strings or small integer expressions (`"32 * 1024"`),
//! two symbolic constants (`JS::gcreason::NUM_TELEMETRY_REASONS` = 101,
//! `mozilla::StartupTimeline::MAX_EVENT_ID` = 12), `"keyed": "true"`, a default `low` of 1, and
//! keys starting with `_` (such as `_provenance`) skipped. Scalars.yaml probes are stored as
//! `SCALARS_` + `category.probe` uppercased, kind `exponential`, over the scalar labels
//! ([`LayoutSpec::scalar`](crate::LayoutSpec::scalar)).
//!
//! Malformed files give [`Error::Definition`] naming the metric and field (or [`Error::Parse`]
//! for a syntax error), never a panic nor an outsized allocation.
//!
//! ```
//! use mozaggregator_core::definitions::Definitions;
//! use mozaggregator_core::Kind;
//!
//! let mut defs = Definitions::from_histograms_json(r#"{
//!     "GC_MS": {"kind": "exponential", "high": "10000", "n_buckets": 50,
//!               "description": "Time spent running JS GC (ms)"},
//!     "SEARCH_COUNTS": {"kind": "count", "keyed": "true", "description": "Searches"}
//! }"#).unwrap();
//! defs.add_scalars_yaml("telemetry:\n  event_counts:\n    kind: uint\n    keyed: true\n    description: Events\n").unwrap();
//!
//! assert_eq!(defs.layout("GC_MS").unwrap().bounds()[..5], [0, 1, 2, 3, 4]);
//! assert_eq!(defs.lookup("STARTUP_GC_MS").unwrap().name, "GC_MS");
//! assert_eq!(defs.lookup("SEARCH_COUNTS/google.urlbar").unwrap().kind, Kind::Count);
//! assert_eq!(defs.lookup("USE_COUNTER2_PROPERTY_FILL_PAGE").unwrap().kind, Kind::Boolean);
//! assert!(defs.lookup("SCALARS_TELEMETRY.EVENT_COUNTS").unwrap().keyed);
//! assert_eq!(defs.description("NOT_DEFINED"), "");
//! ```

mod expr;
mod histograms;
mod scalars;

use std::collections::HashMap;
use std::path::Path;
use std::sync::LazyLock;

use crate::error::{Error, Result};
use crate::layout::{BucketLayout, Kind};

pub use expr::CONSTANTS;
pub use histograms::MAX_TOTAL_BUCKETS;
pub use scalars::SCALAR_KINDS;

/// One metric's definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// Metric name as stored: a histogram name, or `SCALARS_` + the scalar's dotted name
    /// uppercased.
    pub name: String,
    /// Kind from the definition (scalars: `exponential`, served over the scalar labels).
    pub kind: Kind,
    /// The layout the definition implies (categorical layouts carry their labels).
    pub layout: BucketLayout,
    /// Description, `""` when there is none.
    pub description: String,
    /// True for keyed histograms and keyed scalars.
    pub keyed: bool,
}

impl Definition {
    /// The synthetic boolean definition every use counter gets: `name` is `prefix` + `*`.
    fn use_counter(prefix: &str) -> Self {
        Self {
            name: format!("{prefix}*"),
            kind: Kind::Boolean,
            layout: BucketLayout::boolean(),
            description: String::new(),
            keyed: false,
        }
    }
}

/// Name prefixes of use counters: boolean histograms that need no definition.
pub const USE_COUNTER_PREFIXES: [&str; 2] = ["USE_COUNTER_", "USE_COUNTER2_"];

static USE_COUNTERS: LazyLock<[Definition; 2]> = LazyLock::new(|| {
    [
        Definition::use_counter(USE_COUNTER_PREFIXES[0]),
        Definition::use_counter(USE_COUNTER_PREFIXES[1]),
    ]
});

/// A set of definitions: histograms and scalars, loaded from files only.
///
/// A definition added later replaces an earlier one of the same name.
#[derive(Clone, Debug, Default)]
pub struct Definitions {
    metrics: HashMap<String, Definition>,
}

impl Definitions {
    /// No definitions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads an optional Histograms.json and any number of Scalars.yaml files.
    ///
    /// # Errors
    /// [`Error::Io`] when a file cannot be read; [`Error::Parse`] and [`Error::Definition`]
    /// (its reason naming the file) for malformed files.
    pub fn load<P: AsRef<Path>>(histograms: Option<&Path>, scalars: &[P]) -> Result<Self> {
        let mut defs = Self::new();
        if let Some(path) = histograms {
            let text = read(path)?;
            defs.add_histograms_json(&text)
                .map_err(|e| in_file(e, path))?;
        }
        for path in scalars {
            let path = path.as_ref();
            let text = read(path)?;
            defs.add_scalars_yaml(&text).map_err(|e| in_file(e, path))?;
        }
        Ok(defs)
    }

    /// The definitions of a Histograms.json document.
    ///
    /// # Errors
    /// As [`Definitions::add_histograms_json`].
    pub fn from_histograms_json(json: &str) -> Result<Self> {
        let mut defs = Self::new();
        defs.add_histograms_json(json)?;
        Ok(defs)
    }

    /// Adds the definitions of a Histograms.json document; returns how many it defines.
    /// Nothing is added when the document is malformed.
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid JSON or a top level that is not an object;
    /// [`Error::Definition`] for a definition with a missing or bad field (unknown kind, wrong
    /// type, negative number, `high <= low`, fewer than 3 or more than 100 000 buckets, …).
    pub fn add_histograms_json(&mut self, json: &str) -> Result<usize> {
        let parsed = histograms::parse(json)?;
        Ok(self.extend(parsed))
    }

    /// Adds the scalar definitions of a Scalars.yaml document; returns how many it defines.
    /// Nothing is added when the document is malformed.
    ///
    /// # Errors
    /// [`Error::Parse`] for invalid YAML or a top level that is not a mapping;
    /// [`Error::Definition`] for a probe whose `kind` is missing or not `uint`, `boolean` or
    /// `string` (`bool` is accepted for `boolean`), or whose `description`/`keyed` has the wrong type.
    pub fn add_scalars_yaml(&mut self, yaml: &str) -> Result<usize> {
        let parsed = scalars::parse(yaml)?;
        Ok(self.extend(parsed))
    }

    fn extend(&mut self, defs: Vec<Definition>) -> usize {
        let n = defs.len();
        self.metrics
            .extend(defs.into_iter().map(|d| (d.name.clone(), d)));
        n
    }

    /// Adds (or replaces) one definition; returns the one it replaces.
    pub fn insert(&mut self, definition: Definition) -> Option<Definition> {
        self.metrics.insert(definition.name.clone(), definition)
    }

    /// The definition stored under exactly `name`, without fallbacks.
    pub fn get(&self, name: &str) -> Option<&Definition> {
        self.metrics.get(name)
    }

    /// The definition of a stored metric name, with the original service's fallbacks, in order:
    /// the exact name; a use counter (`USE_COUNTER_*`, `USE_COUNTER2_*`) gets a synthetic
    /// boolean definition with description `""`; the part before a `/`
    /// (`SEARCH_COUNTS/google` → `SEARCH_COUNTS`); that part without a leading `STARTUP_`;
    /// and, for scalars, the name uppercased (`SCALARS_telemetry.event_counts`).
    pub fn lookup(&self, metric: &str) -> Option<&Definition> {
        if let Some(def) = self.metrics.get(metric) {
            return Some(def);
        }
        if let Some(i) = USE_COUNTER_PREFIXES
            .iter()
            .position(|p| metric.starts_with(p))
        {
            return USE_COUNTERS.get(i);
        }
        let base = metric.split_once('/').map_or(metric, |(base, _)| base);
        if base.len() < metric.len() {
            if let Some(def) = self.metrics.get(base) {
                return Some(def);
            }
        }
        if let Some(def) = base
            .strip_prefix("STARTUP_")
            .and_then(|rest| self.metrics.get(rest))
        {
            return Some(def);
        }
        if crate::metric_name::is_scalar_ignoring_case(metric)
            && metric.bytes().any(|b| b.is_ascii_lowercase())
        {
            return self.metrics.get(&metric.to_ascii_uppercase());
        }
        None
    }

    /// The layout of a metric ([`Definitions::lookup`] rules).
    pub fn layout(&self, metric: &str) -> Option<&BucketLayout> {
        self.lookup(metric).map(|d| &d.layout)
    }

    /// The kind of a metric ([`Definitions::lookup`] rules).
    pub fn kind(&self, metric: &str) -> Option<Kind> {
        self.lookup(metric).map(|d| d.kind)
    }

    /// The description of a metric ([`Definitions::lookup`] rules), `""` when it has none.
    pub fn description(&self, metric: &str) -> &str {
        self.lookup(metric).map_or("", |d| d.description.as_str())
    }

    /// Every definition, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Definition> {
        self.metrics.values()
    }

    /// Every definition, sorted by name.
    pub fn sorted(&self) -> Vec<&Definition> {
        let mut all: Vec<&Definition> = self.metrics.values().collect();
        all.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        all
    }

    /// Number of definitions.
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// True when there are no definitions.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Adds the file to a definition error's reason (the error already names metric and field).
fn in_file(err: Error, path: &Path) -> Error {
    match err {
        Error::Definition {
            metric,
            field,
            reason,
        } => Error::Definition {
            metric,
            field,
            reason: format!("{reason} (in {})", path.display()),
        },
        Error::Parse { what, reason } => Error::Parse {
            what: format!("{what} {}", path.display()),
            reason,
        },
        other => other,
    }
}

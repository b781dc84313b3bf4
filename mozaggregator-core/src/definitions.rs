//! Probe definitions (Histograms.json, Scalars.yaml). (Being written: the API below is fixed,
//! the loaders are filled in by the definitions work.)

use std::collections::HashMap;
use std::path::Path;

use crate::error::Result;
use crate::layout::{BucketLayout, Kind};

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

/// A set of definitions: histograms and scalars, loaded from files only.
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
    /// I/O errors and malformed files.
    pub fn load<P: AsRef<Path>>(histograms: Option<&Path>, scalars: &[P]) -> Result<Self> {
        let _ = (histograms, scalars);
        Ok(Self::new())
    }

    /// The definition of a stored metric name, with the `/suffix` and `STARTUP_` fallbacks.
    pub fn lookup(&self, metric: &str) -> Option<&Definition> {
        self.metrics.get(metric)
    }

    /// Every definition, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Definition> {
        self.metrics.values()
    }
}

impl Definitions {
    /// Adds (or replaces) one definition, under its `name`.
    pub fn insert(&mut self, definition: Definition) {
        self.metrics.insert(definition.name.clone(), definition);
    }
}

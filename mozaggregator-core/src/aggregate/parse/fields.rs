//! The fields the parser reads, one enum per kind of object, each variant with its JSON key.
//! Any other key is not read (skipped by serde_json).

use crate::keys::Process;

/// A field enum: the field named by a JSON key.
pub(super) trait Field: Sized {
    /// The field whose key is `key`, `None` for a key the parser does not read.
    fn from_key(key: &str) -> Option<Self>;
}

/// Declares a field enum with the JSON key of each variant, and its [`Field`] impl.
macro_rules! fields {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $key:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(super) enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// Every field with its key.
            #[cfg(test)]
            pub(super) const KEYS: &'static [(&'static str, $name)] =
                &[$(($key, $name::$variant),)*];
        }

        impl Field for $name {
            // Out of line, so that serde_json's key read around it stays small enough to be
            // inlined into the object's loop (inlined, the match cost ~2 % more instructions
            // per ping: measured with cachegrind on generated pings).
            #[inline(never)]
            fn from_key(key: &str) -> Option<Self> {
                match key {
                    $($key => Some($name::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    /// The fields of a ping read: the envelope (for the dimensions) and the payload.
    PingField {
        /// `meta`: submission date and sample id, as Mozilla's pipeline stores pings.
        Meta => "meta",
        /// `clientId`, for a sample id when `meta` has none.
        ClientId => "clientId",
        /// `application`: channel, version, build id, name, architecture.
        Application => "application",
        /// `environment`: the OS and its version.
        Environment => "environment",
        /// `payload`: the measurements.
        Payload => "payload",
    }
}

fields! {
    /// The fields of a payload read (the ping's own, or a legacy child payload's).
    PayloadField {
        /// `histograms`: name → histogram.
        Histograms => "histograms",
        /// `keyedHistograms`: name → key → histogram.
        KeyedHistograms => "keyedHistograms",
        /// `simpleMeasurements`: name → value, or name → sub-name → value.
        SimpleMeasurements => "simpleMeasurements",
        /// `processes`: process name → process (the ping's own payload only).
        Processes => "processes",
        /// `childPayloads`: legacy (Firefox < 51) content payloads (the ping's own payload only).
        ChildPayloads => "childPayloads",
    }
}

fields! {
    /// The processes of `payload.processes` read (`extension`, `dynamic`, … are not).
    ProcessName {
        /// `parent`: the main process (scalars only: its histograms are the payload's).
        Parent => "parent",
        /// `content`.
        Content => "content",
        /// `gpu`.
        Gpu => "gpu",
    }
}

impl From<ProcessName> for Process {
    fn from(name: ProcessName) -> Process {
        match name {
            ProcessName::Parent => Process::Parent,
            ProcessName::Content => Process::Content,
            ProcessName::Gpu => Process::Gpu,
        }
    }
}

fields! {
    /// The fields of a process of `payload.processes` read.
    ProcessField {
        /// `histograms` (not read for the parent process).
        Histograms => "histograms",
        /// `keyedHistograms` (not read for the parent process).
        KeyedHistograms => "keyedHistograms",
        /// `scalars`: name → value.
        Scalars => "scalars",
        /// `keyedScalars`: name → key → value.
        KeyedScalars => "keyedScalars",
    }
}

fields! {
    /// The fields of a histogram read (docs/ingest.md, "One histogram").
    HistogramField {
        /// `values`: bucket lower bound → count.
        Values => "values",
        /// `sum`.
        Sum => "sum",
        /// `histogram_type`: the kind of layout.
        HistogramType => "histogram_type",
        /// `bucket_count`.
        BucketCount => "bucket_count",
        /// `range`: `[low, high]`.
        Range => "range",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check<F: Field + Copy + PartialEq + std::fmt::Debug>(keys: &[(&str, F)]) {
        for &(key, field) in keys {
            assert_eq!(F::from_key(key), Some(field), "{key}");
            // Keys are matched exactly: case and surrounding text matter.
            assert_eq!(F::from_key(&key.to_uppercase()), None, "{key}");
            assert_eq!(F::from_key(&format!("{key} ")), None, "{key}");
        }
        assert_eq!(F::from_key(""), None);
    }

    #[test]
    fn every_key_names_its_field_and_nothing_else() {
        check(PingField::KEYS);
        check(PayloadField::KEYS);
        check(ProcessName::KEYS);
        check(ProcessField::KEYS);
        check(HistogramField::KEYS);
        let processes: Vec<Process> = ProcessName::KEYS.iter().map(|&(_, p)| p.into()).collect();
        assert_eq!(processes, Process::ALL);
    }
}

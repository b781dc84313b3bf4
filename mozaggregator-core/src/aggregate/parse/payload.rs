//! The payload and its processes: which sections are read, and in which process they count
//! (docs/ingest.md, "What is extracted").

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;

use super::fields::{Field, PayloadField, ProcessField, ProcessName};
use super::histogram::{Histograms, KeyedHistograms};
use super::scalar::{KeyedScalars, Measures, Scalars};
use super::{wrong_type, Entries, Section};
use crate::aggregate::rules::{Ctx, Scratch};
use crate::keys::Process;
use crate::reject::HistogramReject;

/// A payload: the ping's own (`legacy_child: false`, parent process, with `processes` and
/// `childPayloads`) or one of the legacy `childPayloads` (content process, histograms and
/// simple measurements only).
#[derive(Clone, Copy)]
pub(super) struct Payload {
    pub(super) legacy_child: bool,
}

impl Entries for Payload {
    fn expecting(self) -> &'static str {
        if self.legacy_child {
            "a child payload"
        } else {
            "a payload"
        }
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(if self.legacy_child {
            HistogramReject::SectionNotAnObject
        } else {
            HistogramReject::PayloadNotAnObject
        });
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let top = !self.legacy_child;
        // Legacy child payloads are content processes.
        let process = if top {
            Process::Parent
        } else {
            Process::Content
        };
        match PayloadField::from_key(key) {
            Some(PayloadField::Histograms) => map.next_value_seed(Section {
                ctx,
                entries: Histograms { process },
            }),
            Some(PayloadField::KeyedHistograms) => map.next_value_seed(Section {
                ctx,
                entries: KeyedHistograms { process },
            }),
            Some(PayloadField::SimpleMeasurements) => map.next_value_seed(Section {
                ctx,
                entries: Measures { process },
            }),
            Some(PayloadField::Processes) if top => map.next_value_seed(Section {
                ctx,
                entries: Processes,
            }),
            Some(PayloadField::ChildPayloads) if top => map.next_value_seed(ChildrenSeed { ctx }),
            // A legacy child payload has no processes or children of its own.
            Some(PayloadField::Processes | PayloadField::ChildPayloads) | None => {
                map.next_value::<IgnoredAny>().map(drop)
            }
        }
    }
}

/// `payload.processes`: process name → process.
#[derive(Clone, Copy)]
struct Processes;

impl Entries for Processes {
    fn expecting(self) -> &'static str {
        "payload.processes"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(HistogramReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match ProcessName::from_key(key) {
            Some(name) => map.next_value_seed(Section {
                ctx,
                entries: OneProcess {
                    process: name.into(),
                },
            }),
            // extension, dynamic, …: not read.
            None => map.next_value::<IgnoredAny>().map(drop),
        }
    }
}

/// One process of `payload.processes`.
#[derive(Clone, Copy)]
struct OneProcess {
    process: Process,
}

impl Entries for OneProcess {
    fn expecting(self) -> &'static str {
        "a process"
    }

    fn not_an_object(self, scratch: &mut Scratch) {
        scratch.reject_hist(HistogramReject::SectionNotAnObject);
    }

    fn entry<'de, A: MapAccess<'de>>(
        self,
        ctx: &mut Ctx<'_>,
        key: &str,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let process = self.process;
        // Parent histograms live in payload.histograms: processes.parent's are not read.
        let histograms = process != Process::Parent;
        match ProcessField::from_key(key) {
            Some(ProcessField::Histograms) if histograms => map.next_value_seed(Section {
                ctx,
                entries: Histograms { process },
            }),
            Some(ProcessField::KeyedHistograms) if histograms => map.next_value_seed(Section {
                ctx,
                entries: KeyedHistograms { process },
            }),
            Some(ProcessField::Scalars) => map.next_value_seed(Section {
                ctx,
                entries: Scalars { process },
            }),
            Some(ProcessField::KeyedScalars) => map.next_value_seed(Section {
                ctx,
                entries: KeyedScalars { process },
            }),
            Some(ProcessField::Histograms | ProcessField::KeyedHistograms) | None => {
                map.next_value::<IgnoredAny>().map(drop)
            }
        }
    }
}

/// `payload.childPayloads`: an array of legacy child payloads.
struct ChildrenSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
}

impl<'de> DeserializeSeed<'de> for ChildrenSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ChildrenSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payload.childPayloads")
    }

    wrong_type!(primitives, |s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));
    wrong_type!(map, |s: Self| s
        .ctx
        .scratch
        .reject_hist(HistogramReject::SectionNotAnObject));

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let ctx = self.ctx;
        while seq
            .next_element_seed(Section {
                ctx: &mut *ctx,
                entries: Payload { legacy_child: true },
            })?
            .is_some()
        {}
        Ok(())
    }
}

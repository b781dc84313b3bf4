//! The payload and its processes: which sections are read, and in which process they count
//! (docs/ingest.md, "What is extracted").

use serde::de::{IgnoredAny, SeqAccess};

use super::fields::{Field, PayloadField, ProcessField, ProcessName};
use super::histogram::{Histograms, KeyedHistograms};
use super::scalar::{Measures, Scalars};
use super::{any_seed, next_section, section, wrong_type, Section};
use crate::aggregate::rules::Ctx;
use crate::keys::Process;
use crate::reject::HistogramReject;

section! {
    /// A payload: the ping's own (`legacy_child: false`, parent process, with `processes` and
    /// `childPayloads`) or one of the legacy `childPayloads` (content process, histograms and
    /// simple measurements only).
    pub(super) struct Payload { pub(super) legacy_child: bool }
    expecting if self.legacy_child { "a child payload" } else { "a payload" },
    else reject_hist(if self.legacy_child {
        HistogramReject::SectionNotAnObject
    } else {
        HistogramReject::PayloadNotAnObject
    });
    fn entry(self, ctx, key, map) {
        let top = !self.legacy_child;
        // Legacy child payloads are content processes.
        let process = if top {
            Process::Parent
        } else {
            Process::Content
        };
        match PayloadField::from_key(key) {
            Some(PayloadField::Histograms) => next_section(map, ctx, Histograms { process }),
            Some(PayloadField::KeyedHistograms) => {
                next_section(map, ctx, KeyedHistograms { process })
            }
            Some(PayloadField::SimpleMeasurements) => {
                next_section(map, ctx, Measures { process })
            }
            Some(PayloadField::Processes) if top => next_section(map, ctx, Processes),
            Some(PayloadField::ChildPayloads) if top => map.next_value_seed(ChildrenSeed { ctx }),
            // A legacy child payload has no processes or children of its own.
            Some(PayloadField::Processes | PayloadField::ChildPayloads) | None => {
                map.next_value::<IgnoredAny>().map(drop)
            }
        }
    }
}

section! {
    /// `payload.processes`: process name → process.
    struct Processes;
    expecting "payload.processes", else reject_hist(HistogramReject::SectionNotAnObject);
    fn entry(self, ctx, key, map) {
        match ProcessName::from_key(key) {
            Some(name) => next_section(map, ctx, OneProcess { process: name.into() }),
            // extension, dynamic, …: not read.
            None => map.next_value::<IgnoredAny>().map(drop),
        }
    }
}

section! {
    /// One process of `payload.processes`.
    struct OneProcess { process: Process }
    expecting "a process", else reject_hist(HistogramReject::SectionNotAnObject);
    fn entry(self, ctx, key, map) {
        let process = self.process;
        // Parent histograms live in payload.histograms: processes.parent's are not read.
        let histograms = process != Process::Parent;
        match ProcessField::from_key(key) {
            Some(ProcessField::Histograms) if histograms => {
                next_section(map, ctx, Histograms { process })
            }
            Some(ProcessField::KeyedHistograms) if histograms => {
                next_section(map, ctx, KeyedHistograms { process })
            }
            Some(ProcessField::Scalars) => {
                next_section(map, ctx, Scalars { process, keyed: false })
            }
            Some(ProcessField::KeyedScalars) => {
                next_section(map, ctx, Scalars { process, keyed: true })
            }
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

any_seed! {
    ChildrenSeed<'_, '_> => (), "payload.childPayloads";

    wrong_type!(primitives, map; |s: Self| {
        s.ctx.scratch.reject_hist(HistogramReject::SectionNotAnObject)
    });

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

//! Batches: the aggregates of one submission date (or of one channel and version of it) as
//! the rows a [`Store`] writes, and the write of all of them ([`Aggregates::write_to`]).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use hashbrown::hash_map::Entry;

use super::{Aggregates, GroupKey, Map, Series, SeriesId};
use crate::date::Date;
use crate::error::{Error, Result};
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::mobile::MobileBatch;
use crate::store::{Batch, ReplicateTables, RowReject, Store, WriteReport};
use crate::tally::Tally;

/// Rows per target, as in [`Batch::tables`].
type Tables = BTreeMap<Target, Vec<(SeriesKey, Histogram)>>;

/// Which aggregates of a submission date a batch holds.
#[derive(Clone, Copy)]
enum Part {
    All,
    /// Those of one channel and version (interned ids).
    Only {
        channel: u32,
        version: u32,
    },
    /// None (a channel or version never seen).
    Nothing,
}

/// A batch, and the replicate group rows its builder left out (which [`Batch`] has no place
/// for: its `rows_refused` counts normal rows).
struct Built {
    batch: Batch,
    replicate_refused: Tally<RowReject>,
}

impl Aggregates {
    /// The batch of one submission date: its build-id aggregates (targets dated by build id)
    /// and its submission-date aggregates (build ids merged). Rows are sorted by series key,
    /// then layout. An unknown date gives an empty batch. A submission-date series whose build
    /// ids cannot be summed within 2^64 is left out and counted in
    /// [`Batch::rows_refused`] as `merge_overflow`.
    ///
    /// With replicate groups ([`Aggregates::replicates`]), [`Batch::replicates`] holds the
    /// rows of each of the R groups, built the same way from the group's pings (a group
    /// without pings that day has no tables); otherwise it is `None`. A replicate row left out
    /// for `merge_overflow` is not counted in `rows_refused` (that row's normal row is
    /// refused too); [`Aggregates::write_to`] counts it in the report's
    /// `replicate_rows_rejected`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an interned date that is not a date (see
    /// [`Aggregates::submission_dates`]), or (`replicates`) for parts made with different
    /// replicate counts merged together.
    pub fn batch(&self, submission_date: Date) -> Result<Batch> {
        let ranks = Ranks::of(self);
        Ok(self.build_batch(submission_date, Part::All, &ranks)?.batch)
    }

    /// The (channel, version) pairs present on a submission date, sorted.
    pub fn channel_versions(&self, submission_date: Date) -> Vec<(String, String)> {
        let Some(date) = self.strings.get(&submission_date.to_string()) else {
            return Vec::new();
        };
        let pairs: BTreeSet<(&str, &str)> = self
            .groups
            .keys()
            .filter(|k| k.submission_date == date && k.is_normal())
            .map(|k| (self.strings.name(k.channel), self.strings.name(k.version)))
            .collect();
        pairs
            .into_iter()
            .map(|(c, v)| (c.to_string(), v.to_string()))
            .collect()
    }

    /// The part of [`Aggregates::batch`] for one channel and version: all of its tables, so
    /// that writing the parts one after the other needs the memory of the largest part only.
    /// Each table is complete in one part, so the store's idempotency per (table, submission
    /// date) holds: a job stopped between parts is finished by running it again. Its
    /// replicate groups hold the rows of that channel and version only.
    ///
    /// # Errors
    /// As [`Aggregates::batch`].
    pub fn batch_part(&self, submission_date: Date, channel: &str, version: &str) -> Result<Batch> {
        let ranks = Ranks::of(self);
        Ok(self.part(submission_date, channel, version, &ranks)?.batch)
    }

    fn part(
        &self,
        submission_date: Date,
        channel: &str,
        version: &str,
        ranks: &Ranks,
    ) -> Result<Built> {
        let part = match (self.strings.get(channel), self.strings.get(version)) {
            (Some(channel), Some(version)) => Part::Only { channel, version },
            _ => Part::Nothing,
        };
        self.build_batch(submission_date, part, ranks)
    }

    /// The batch of `part` of `submission_date`.
    fn build_batch(&self, submission_date: Date, part: Part, ranks: &Ranks) -> Result<Built> {
        let mut built = Built {
            batch: Batch::new(submission_date),
            replicate_refused: Tally::default(),
        };
        let count = self.replicates()?;
        let batch = &mut built.batch;
        batch.replicates = count.map(ReplicateTables::new);
        let Some(date) = self.strings.get(&submission_date.to_string()) else {
            return Ok(built);
        };
        let selected = |k: &GroupKey| {
            k.submission_date == date
                && match part {
                    Part::All => true,
                    Part::Only { channel, version } => k.channel == channel && k.version == version,
                    Part::Nothing => false,
                }
        };
        let normal = self
            .groups
            .iter()
            .filter(|(k, _)| k.is_normal() && selected(k));
        let (tables, refused) = self.tables(ranks, normal)?;
        batch.tables = tables;
        if refused > 0 {
            batch.rows_refused.add(RowReject::MergeOverflow, refused);
        }
        let Some(replicates) = &mut batch.replicates else {
            return Ok(built);
        };
        let mut members: Vec<Vec<(&GroupKey, &Series)>> = vec![Vec::new(); replicates.groups.len()];
        for (key, series) in self
            .groups
            .iter()
            .filter(|(k, _)| !k.is_normal() && selected(k))
        {
            let g = usize::from(key.replicate - 1);
            let of = members.len();
            members
                .get_mut(g)
                .ok_or_else(|| {
                    Error::invalid("replicates", format!("replicate group {g} of {of} groups"))
                })?
                .push((key, series));
        }
        for (tables, members) in replicates.groups.iter_mut().zip(members) {
            let (group_tables, refused) = self.tables(ranks, members)?;
            *tables = group_tables;
            if refused > 0 {
                built
                    .replicate_refused
                    .add(RowReject::MergeOverflow, refused);
            }
        }
        Ok(built)
    }

    /// The tables of the rows of `groups` (build-id aggregates of one submission date): each
    /// as a build-id row, and summed over build ids as a submission-date row. Rows are sorted
    /// by series key, then layout. Also returns the number of submission-date rows refused
    /// because their build ids cannot be summed within 2^64.
    fn tables<'a>(
        &self,
        ranks: &Ranks,
        groups: impl IntoIterator<Item = (&'a GroupKey, &'a Series)>,
    ) -> Result<(Tables, u64)> {
        // Rows are sorted by their interned ids' ranks before their strings exist: the same
        // order as sorting the built rows, without comparing strings or moving whole rows.
        let mut by_target: BTreeMap<Target, Vec<Row<'_>>> = BTreeMap::new();
        // `None`: the build ids of that series cannot be summed within 2^64; the row is
        // refused (counted), never fatal, and never a partial sum that would depend on the
        // order of the build ids.
        let mut by_date: Map<(GroupKey, SeriesId), Option<Histogram>> = Map::default();
        for (key, series) in groups {
            let target = self.target(Prefix::BuildId, key, key.build_id)?;
            let rows = by_target.entry(target).or_default();
            rows.reserve(series.len());
            let short = key.submission_date_key();
            for (sid, histogram) in series {
                rows.push(Row::new(ranks, *key, *sid, Cow::Borrowed(histogram)));
                match by_date.entry((short, *sid)) {
                    Entry::Vacant(v) => {
                        v.insert(Some(histogram.clone()));
                    }
                    Entry::Occupied(mut o) => {
                        let merged = o.get_mut().as_mut().map(|h| h.merge(histogram));
                        if let Some(Err(_)) = merged {
                            *o.get_mut() = None;
                        }
                    }
                }
            }
        }
        let mut date_targets: BTreeMap<GroupKey, Target> = BTreeMap::new();
        let mut refused = 0u64;
        for ((short, sid), histogram) in by_date {
            let Some(histogram) = histogram else {
                refused += 1;
                continue;
            };
            let target = match date_targets.entry(short) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(self.target(Prefix::SubmissionDate, &short, short.submission_date)?)
                }
            };
            by_target.entry(target.clone()).or_default().push(Row::new(
                ranks,
                short,
                sid,
                Cow::Owned(histogram),
            ));
        }
        let mut tables = Tables::new();
        for (target, mut rows) in by_target {
            rows.sort_unstable_by_key(|row| row.order);
            let rows = rows.into_iter().map(|row| {
                let key = self.series_key(&row.sid, self.dims(&row.group));
                (key, row.histogram.into_owned())
            });
            tables.insert(target, rows.collect());
        }
        Ok((tables, refused))
    }

    /// Writes everything into `store`, one part per (submission date, channel, version), so
    /// memory holds the largest part only. Every table is whole in one part, so the store's
    /// idempotency per (table, submission date) holds: a job stopped between parts is completed
    /// by running it again. Each part's write report and refused rows are added to
    /// [`Aggregates::report`]; `on_part` hears of each part before it is written (for a progress
    /// display). Returns the writes' reports summed (with the rows the batches' builder left
    /// out in `rows_rejected` and `replicate_rows_rejected`). This is the write step of the
    /// CLI, the Python module and the Spark helper alike. One thread: see
    /// [`Aggregates::write_with`].
    ///
    /// # Errors
    /// The store's write errors (parts written before stay written); [`crate::Error::Invalid`]
    /// (`replicates`), before anything is written, when parts made with different replicate
    /// counts were merged.
    pub fn write_to(
        &mut self,
        store: &dyn Store,
        on_part: impl FnMut(WritePart<'_>),
    ) -> Result<WriteReport> {
        self.write_with(store, 1, on_part)
    }

    /// [`Aggregates::write_to`] on `threads` threads (0: as many as there are cores). With
    /// more than one, the store writes each part on a second thread while this one builds the
    /// next part's batch (and frees those written): writes stay one at a time and in the same
    /// order, each atomic as before, and memory holds about three parts instead of one. The
    /// store sees the same batches, and the result is the same. `on_part` may hear of a part
    /// or two beyond a write that fails; none of them is written.
    ///
    /// # Errors
    /// As [`Aggregates::write_to`].
    pub fn write_with(
        &mut self,
        store: &dyn Store,
        threads: usize,
        mut on_part: impl FnMut(WritePart<'_>),
    ) -> Result<WriteReport> {
        self.replicates()?;
        let parts: Vec<(Date, String, String)> = self
            .desktop_submission_dates()?
            .into_iter()
            .flat_map(|date| {
                self.channel_versions(date)
                    .into_iter()
                    .map(move |(channel, version)| (date, channel, version))
            })
            .collect();
        let mobile_parts: Vec<MobileBatch> = self
            .mobile
            .tables
            .iter()
            .map(|((date, channel, version), rows)| {
                let mut batch = MobileBatch::new(*date);
                let rows = rows.iter().map(|((k, _), h)| (k.clone(), h.clone()));
                batch
                    .tables
                    .insert(batch.target(channel, version), rows.collect());
                batch
            })
            .collect();
        let of = parts.len() + mobile_parts.len();
        let ranks = Ranks::of(self);
        // The desktop parts' writes summed (with the rows their builder refused), added to
        // `self.report` at the end, also on an error: what was written stays written.
        let mut total = WriteReport::default();
        let mut announce = |index: usize| {
            let (date, channel, version) = &parts[index];
            on_part(WritePart {
                index,
                of,
                date: *date,
                channel,
                version,
            });
        };
        let mut account = |written: WriteReport, built: &Built| {
            total.add(
                &written,
                &built.batch.rows_refused,
                &built.replicate_refused,
            );
        };
        let desktop = if threads == 1 {
            parts
                .iter()
                .enumerate()
                .try_for_each(|(index, (date, channel, version))| {
                    announce(index);
                    let built = self.part(*date, channel, version, &ranks)?;
                    account(store.write(&built.batch)?, &built);
                    Ok(())
                })
        } else {
            // This thread builds the batches (and frees them once written); a second one writes
            // them in order. One part waits built while one is written: about three parts in
            // memory. The batches are allocated and freed on the thread that aggregated.
            std::thread::scope(|scope| -> Result<()> {
                let (to_write, queued) = std::sync::mpsc::sync_channel::<Built>(1);
                let (written_tx, written) =
                    std::sync::mpsc::channel::<Result<(WriteReport, Built)>>();
                scope.spawn(move || {
                    for built in queued {
                        let result = store.write(&built.batch).map(|w| (w, built));
                        let failed = result.is_err();
                        if written_tx.send(result).is_err() || failed {
                            break;
                        }
                    }
                });
                let mut finished = |result: Result<(WriteReport, Built)>| -> Result<()> {
                    let (report, built) = result?;
                    account(report, &built);
                    Ok(())
                };
                let mut outcome = Ok(());
                for (index, (date, channel, version)) in parts.iter().enumerate() {
                    let built = match self.part(*date, channel, version, &ranks) {
                        Ok(built) => built,
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    };
                    announce(index);
                    // The writer stopped: its error is in `written`, read below.
                    if to_write.send(built).is_err() {
                        break;
                    }
                    if let Err(e) = written.try_iter().try_for_each(&mut finished) {
                        outcome = Err(e);
                        break;
                    }
                }
                drop(to_write);
                // Every write that finished is accounted for, then the first error returned.
                let drained = written.iter().try_for_each(&mut finished);
                outcome.and(drained)
            })
        };
        // `total` holds the refused rows in `rows_rejected` and `replicate_rows_rejected`.
        self.report.add_write(&total);
        desktop?;
        for (index, batch) in mobile_parts.iter().enumerate() {
            if let Some(target) = batch.tables.keys().next() {
                on_part(WritePart {
                    index: parts.len() + index,
                    of,
                    date: batch.submission_date,
                    channel: &target.channel,
                    version: &target.version,
                });
            }
            let written = store.write_mobile(batch)?;
            self.report.add_write(&written);
            total.add(&written, &Tally::default(), &Tally::default());
        }
        Ok(total)
    }

    /// One batch per submission date, in date order.
    ///
    /// # Errors
    /// As [`Aggregates::batch`].
    pub fn batches(&self) -> Result<Vec<Batch>> {
        let ranks = Ranks::of(self);
        self.desktop_submission_dates()?
            .into_iter()
            .map(|d| Ok(self.build_batch(d, Part::All, &ranks)?.batch))
            .collect()
    }

    fn target(&self, prefix: Prefix, key: &GroupKey, date: u32) -> Result<Target> {
        Ok(Target {
            prefix,
            channel: self.strings.name(key.channel).to_string(),
            version: self.strings.name(key.version).to_string(),
            date: self.date(date)?,
        })
    }

    fn dims(&self, key: &GroupKey) -> Dims {
        Dims {
            application: self.strings.name(key.application).to_string(),
            architecture: self.strings.name(key.architecture).to_string(),
            os: self.strings.name(key.os).to_string(),
            os_version: self.strings.name(key.os_version).to_string(),
        }
    }

    fn series_key(&self, sid: &SeriesId, dims: Dims) -> SeriesKey {
        SeriesKey {
            metric: self.strings.name(sid.metric).to_string(),
            label: self.strings.name(sid.label).to_string(),
            process: sid.process,
            dims,
        }
    }
}

/// The part [`Aggregates::write_to`] is about to write: the `index`-th of `of`.
#[derive(Clone, Copy, Debug)]
pub struct WritePart<'a> {
    /// From 0.
    pub index: usize,
    /// How many parts the write has.
    pub of: usize,
    /// Submission date.
    pub date: Date,
    /// Channel.
    pub channel: &'a str,
    /// Major version.
    pub version: &'a str,
}

/// The rank of every interned string in the sorted order of all of them: comparing ranks
/// orders ids as comparing their strings would.
struct Ranks(Vec<u32>);

impl Ranks {
    fn of(aggregates: &Aggregates) -> Self {
        let strings = &aggregates.strings;
        let mut ids: Vec<u32> = (0..strings.len() as u32).collect();
        ids.sort_unstable_by(|&a, &b| strings.name(a).cmp(strings.name(b)));
        let mut ranks = vec![0; ids.len()];
        for (rank, id) in ids.into_iter().enumerate() {
            // Fewer than 2^32 strings: ids are u32.
            ranks[id as usize] = rank as u32;
        }
        Ranks(ranks)
    }

    fn get(&self, id: u32) -> u32 {
        self.0.get(id as usize).copied().unwrap_or(u32::MAX)
    }
}

/// A row of a batch before its strings are built: its place in [`SeriesKey`]'s order (metric,
/// label, process, then the dims, as ranks), then the layout.
struct Row<'a> {
    order: (u32, u32, Process, [u32; 4], LayoutSpec),
    group: GroupKey,
    sid: SeriesId,
    histogram: Cow<'a, Histogram>,
}

impl<'a> Row<'a> {
    fn new(ranks: &Ranks, group: GroupKey, sid: SeriesId, histogram: Cow<'a, Histogram>) -> Self {
        let dims = group.dims_ids().map(|id| ranks.get(id));
        Row {
            order: (
                ranks.get(sid.metric),
                ranks.get(sid.label),
                sid.process,
                dims,
                histogram.layout(),
            ),
            group,
            sid,
            histogram,
        }
    }
}

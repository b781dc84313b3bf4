//! Batches: the aggregates of one submission date (or of one channel and version of it) as
//! the rows a [`Store`] writes, and the write of all of them ([`Aggregates::write_to`]).

use std::collections::{BTreeMap, BTreeSet};

use hashbrown::hash_map::Entry;

use super::{Aggregates, GroupKey, Map, SeriesId};
use crate::date::Date;
use crate::error::Result;
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, SeriesKey, Target};
use crate::store::{Batch, RowReject, Store, WriteReport};

impl Aggregates {
    /// The batch of one submission date: its build-id aggregates (targets dated by build id)
    /// and its submission-date aggregates (build ids merged). Rows are sorted by series key,
    /// then layout. An unknown date gives an empty batch. A submission-date series whose build
    /// ids cannot be summed within 2^64 is left out and counted in
    /// [`Batch::rows_refused`] as `merge_overflow`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] for an interned date that is not a date (see
    /// [`Aggregates::submission_dates`]).
    pub fn batch(&self, submission_date: Date) -> Result<Batch> {
        self.build_batch(submission_date, None)
    }

    /// The (channel, version) pairs present on a submission date, sorted.
    pub fn channel_versions(&self, submission_date: Date) -> Vec<(String, String)> {
        let Some(date) = self.strings.get(&submission_date.to_string()) else {
            return Vec::new();
        };
        let pairs: BTreeSet<(&str, &str)> = self
            .groups
            .keys()
            .filter(|k| k.submission_date == date)
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
    /// date) holds: a job stopped between parts is finished by running it again.
    ///
    /// # Errors
    /// As [`Aggregates::batch`].
    pub fn batch_part(&self, submission_date: Date, channel: &str, version: &str) -> Result<Batch> {
        match (self.strings.get(channel), self.strings.get(version)) {
            (Some(c), Some(v)) => self.build_batch(submission_date, Some((c, v))),
            _ => Ok(Batch::new(submission_date)),
        }
    }

    fn build_batch(&self, submission_date: Date, part: Option<(u32, u32)>) -> Result<Batch> {
        let mut batch = Batch::new(submission_date);
        let Some(date) = self.strings.get(&submission_date.to_string()) else {
            return Ok(batch);
        };
        let selected = |k: &GroupKey| {
            k.submission_date == date && part.is_none_or(|(c, v)| k.channel == c && k.version == v)
        };
        // `None`: the build ids of that series cannot be summed within 2^64; the row is
        // refused (counted), never fatal, and never a partial sum that would depend on the
        // order of the build ids.
        let mut by_date: Map<(GroupKey, SeriesId), Option<Histogram>> = Map::default();
        for (key, series) in self.groups.iter().filter(|(k, _)| selected(k)) {
            let target = self.target(Prefix::BuildId, key, key.build_id)?;
            let dims = self.dims(key);
            let rows = batch.tables.entry(target).or_default();
            rows.reserve(series.len());
            let short = key.submission_date_key();
            for (sid, histogram) in series {
                rows.push((self.series_key(sid, &dims), histogram.clone()));
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
        let mut dims_cache: BTreeMap<GroupKey, (Target, Dims)> = BTreeMap::new();
        let mut refused = 0u64;
        for ((short, sid), histogram) in by_date {
            let Some(histogram) = histogram else {
                refused += 1;
                continue;
            };
            let (target, dims) = match dims_cache.entry(short) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => v.insert((
                    self.target(Prefix::SubmissionDate, &short, short.submission_date)?,
                    self.dims(&short),
                )),
            };
            let key = self.series_key(&sid, dims);
            batch
                .tables
                .entry(target.clone())
                .or_default()
                .push((key, histogram));
        }
        for rows in batch.tables.values_mut() {
            rows.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.layout().cmp(&b.1.layout())));
        }
        if refused > 0 {
            batch.rows_refused.add(RowReject::MergeOverflow, refused);
        }
        Ok(batch)
    }

    /// Writes everything into `store`, one part per (submission date, channel, version), so
    /// memory holds the largest part only. Every table is whole in one part, so the store's
    /// idempotency per (table, submission date) holds: a job stopped between parts is completed
    /// by running it again. Each part's write report and refused rows are added to
    /// [`Aggregates::report`]; `on_part` hears of each part before it is written (for a progress
    /// display). Returns the writes' reports summed. This is the write step of the CLI, the
    /// Python module and the Spark helper alike.
    ///
    /// # Errors
    /// The store's write errors (parts written before stay written).
    pub fn write_to(
        &mut self,
        store: &dyn Store,
        mut on_part: impl FnMut(WritePart<'_>),
    ) -> Result<WriteReport> {
        let parts: Vec<(Date, String, String)> = self
            .submission_dates()?
            .into_iter()
            .flat_map(|date| {
                self.channel_versions(date)
                    .into_iter()
                    .map(move |(channel, version)| (date, channel, version))
            })
            .collect();
        let mut total = WriteReport::default();
        for (index, (date, channel, version)) in parts.iter().enumerate() {
            on_part(WritePart {
                index,
                of: parts.len(),
                date: *date,
                channel,
                version,
            });
            let batch = self.batch_part(*date, channel, version)?;
            let written = store.write(&batch)?;
            self.report.add_write(&written);
            self.report.add_refused(&batch.rows_refused);
            total.targets_written += written.targets_written;
            total.targets_skipped.extend(written.targets_skipped);
            total.rows_written += written.rows_written;
            total.rows_rejected.merge(&written.rows_rejected);
            total.rows_rejected.merge(&batch.rows_refused);
        }
        Ok(total)
    }

    /// One batch per submission date, in date order.
    ///
    /// # Errors
    /// As [`Aggregates::batch`].
    pub fn batches(&self) -> Result<Vec<Batch>> {
        self.submission_dates()?
            .into_iter()
            .map(|d| self.batch(d))
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

    fn series_key(&self, sid: &SeriesId, dims: &Dims) -> SeriesKey {
        SeriesKey {
            metric: self.strings.name(sid.metric).to_string(),
            label: self.strings.name(sid.label).to_string(),
            process: sid.process,
            dims: dims.clone(),
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

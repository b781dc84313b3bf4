//! The entries of each replicate group of a request (docs/statistics.md, "Intervals"), read
//! with one [`Store::replicates`] call per store read of the main answer and shaped by the
//! same rules — served layout, kind conversions, OR filters, `group_by`, the main answer's
//! top-K labels — so that each main entry finds its part in every group.

use std::collections::HashMap;

use crate::date::Date;
use crate::error::{Error, Result};
use crate::layout::LayoutSpec;
use crate::query::DataPoint;
use crate::replicate::ReplicateCount;
use crate::store::{QueryRow, ReplicateRows, SeriesQuery, Store};

/// Each replicate group's entries for one request, shaped like the main answer's `data`.
///
/// An entry of the main answer that a group lacks is an empty part of that group (no pings of
/// that group went into it).
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicateAnswers {
    /// R, the number of groups.
    pub count: ReplicateCount,
    /// `groups[g]`: group g's entries.
    pub groups: Vec<Vec<DataPoint>>,
}

/// Group `g`'s rows of a read, none when the read was not made.
fn rows_of(rows: Option<&ReplicateRows>, g: usize) -> &[QueryRow] {
    rows.and_then(|r| r.groups.get(g))
        .map_or(&[], Vec::as_slice)
}

/// What identifies an entry in an answer: its date, label and group value.
type EntryKey<'a> = (Date, &'a str, Option<&'a str>);

fn key_of(p: &DataPoint) -> EntryKey<'_> {
    (p.date, p.label.as_str(), p.group.as_deref())
}

/// True when `a` and `b` are the same entry (`key_of(a) == key_of(b)`). Empty strings are
/// compared by length alone: `memcmp` of zero bytes at an empty string's dangling address
/// can cost a microcode assist (a masked vector load of an unmapped page), about 100 ns.
fn same_entry(a: &DataPoint, b: &DataPoint) -> bool {
    let same = |x: &str, y: &str| x.len() == y.len() && (x.is_empty() || x == y);
    a.date == b.date
        && same(&a.label, &b.label)
        && match (&a.group, &b.group) {
            (None, None) => true,
            (Some(x), Some(y)) => same(x, y),
            _ => false,
        }
}

impl ReplicateAnswers {
    /// R groups without entries.
    pub fn new(count: ReplicateCount) -> Self {
        Self {
            count,
            groups: vec![Vec::new(); count.get()],
        }
    }

    /// Each group's rows of one store read, without the rows of layouts other than `spec`
    /// (the layout the main answer serves).
    ///
    /// # Errors
    /// As [`Store::replicates`]; [`Error::NoReplicates`] when it finds no table (the main
    /// answer did, so the groups cannot cover it).
    pub(crate) fn read(
        store: &dyn Store,
        query: &SeriesQuery,
        spec: LayoutSpec,
    ) -> Result<ReplicateRows> {
        let mut rows = store.replicates(query)?.ok_or_else(|| {
            Error::NoReplicates(format!(
                "the store has no replicate groups for `{}` on the dates asked",
                query.metric
            ))
        })?;
        for group in &mut rows.groups {
            group.retain(|r| r.histogram.layout() == spec);
        }
        Ok(rows)
    }

    /// The entries `entries` makes of each group's rows.
    pub(crate) fn from_rows(
        rows: ReplicateRows,
        entries: impl FnMut(Vec<QueryRow>) -> Vec<DataPoint>,
    ) -> Self {
        Self {
            count: rows.count,
            groups: rows.groups.into_iter().map(entries).collect(),
        }
    }

    /// The entries `entries` makes of each group's rows of two reads (a use counter and its
    /// denominator); a read that was not made (`None`) counts as no rows.
    ///
    /// # Errors
    /// [`Error::NoReplicates`] when the two reads have different replicate counts, or when
    /// neither was made.
    pub(crate) fn compose(
        first: Option<ReplicateRows>,
        second: Option<ReplicateRows>,
        mut entries: impl FnMut(&[QueryRow], &[QueryRow]) -> Vec<DataPoint>,
    ) -> Result<Self> {
        let count = match (&first, &second) {
            (Some(a), Some(b)) if a.count != b.count => {
                return Err(Error::NoReplicates(format!(
                    "the counter has {} replicate groups and its denominator {}; they cannot \
                     be paired",
                    a.count, b.count
                )))
            }
            (Some(a), _) => a.count,
            (None, Some(b)) => b.count,
            (None, None) => {
                return Err(Error::NoReplicates(
                    "no replicate groups were read".to_string(),
                ))
            }
        };
        let groups = (0..count.get())
            .map(|g| entries(rows_of(first.as_ref(), g), rows_of(second.as_ref(), g)))
            .collect();
        Ok(Self { count, groups })
    }

    /// Appends `other`'s entries to this one's, group by group.
    ///
    /// # Errors
    /// [`Error::NoReplicates`] when the two have different replicate counts.
    pub(crate) fn append(&mut self, other: ReplicateAnswers) -> Result<()> {
        if other.count != self.count {
            return Err(Error::NoReplicates(format!(
                "parts of the answer have different replicate counts ({} and {}); they cannot \
                 be paired",
                self.count, other.count
            )));
        }
        for (mine, theirs) in self.groups.iter_mut().zip(other.groups) {
            mine.extend(theirs);
        }
        Ok(())
    }

    /// Applies `f` to each group's entries.
    pub(crate) fn each(&mut self, f: impl FnMut(&mut Vec<DataPoint>)) {
        self.groups.iter_mut().for_each(f);
    }

    /// For each entry of `main` (by date, label and group), its part in each group:
    /// `parts[i * R + g]` is entry i's part in group g, `None` when group g has no such entry.
    pub(crate) fn parts_of(&self, main: &[DataPoint]) -> Vec<Option<&DataPoint>> {
        let r = self.groups.len();
        // Entries are looked up by key only when a group's entries are not in the main
        // answer's order (a group lacks an entry).
        let mut index: Option<HashMap<EntryKey<'_>, usize>> = None;
        let mut parts = vec![None; main.len() * r];
        for (g, group) in self.groups.iter().enumerate() {
            let mut next = 0;
            for p in group {
                let i = match main.get(next) {
                    Some(m) if same_entry(m, p) => Some(next),
                    _ => index
                        .get_or_insert_with(|| {
                            main.iter()
                                .enumerate()
                                .map(|(i, p)| (key_of(p), i))
                                .collect()
                        })
                        .get(&key_of(p))
                        .copied(),
                };
                if let Some(i) = i {
                    parts[i * r + g] = Some(p);
                    next = i + 1;
                }
            }
        }
        parts
    }

    /// Each group's entries pooled into one: (bucket counts, sum, pings), summed as
    /// [`crate::query::MetricResponse::pooled`] sums the main answer.
    pub(crate) fn pooled(&self) -> Vec<(Vec<u64>, u64, u64)> {
        self.groups
            .iter()
            .map(|entries| {
                let (mut counts, mut sum, mut pings) = (Vec::new(), 0, 0);
                for p in entries {
                    super::add_point(&mut counts, &mut sum, &mut pings, p);
                }
                (counts, sum, pings)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(date: &str, label: &str, group: Option<&str>) -> Result<DataPoint> {
        let mut p = DataPoint::new(Date::parse(date)?, label.to_string(), 1, 1, vec![1]);
        p.group = group.map(str::to_string);
        Ok(p)
    }

    /// Each main entry finds its part in every group, whether a group lists its entries in
    /// the main order, out of order, with gaps, or with entries the main answer lacks.
    #[test]
    fn parts_are_found_in_any_order() -> Result<()> {
        let main = vec![
            entry("20240101", "", None)?,
            entry("20240102", "", None)?,
            entry("20240102", "a", None)?,
            entry("20240102", "a", Some("Linux"))?,
        ];
        let answers = ReplicateAnswers {
            count: ReplicateCount::new(4)?,
            groups: vec![
                main.clone(),
                vec![main[3].clone(), main[0].clone()],
                vec![
                    entry("20240103", "", None)?,
                    main[1].clone(),
                    main[2].clone(),
                ],
                vec![
                    entry("20240102", "b", None)?,
                    entry("20240102", "a", Some("Darwin"))?,
                ],
            ],
        };
        let parts = answers.parts_of(&main);
        let found: Vec<Vec<bool>> = parts
            .chunks(4)
            .map(|c| c.iter().map(Option::is_some).collect())
            .collect();
        assert_eq!(
            found,
            vec![
                vec![true, true, false, false],
                vec![true, false, true, false],
                vec![true, false, true, false],
                vec![true, true, false, false],
            ]
        );
        for (i, chunk) in parts.chunks(4).enumerate() {
            for p in chunk.iter().flatten() {
                assert_eq!(key_of(p), key_of(&main[i]));
            }
        }
        Ok(())
    }
}

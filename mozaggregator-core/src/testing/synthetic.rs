//! Synthetic aggregates shaped like real ones, for benchmarks and load tests.
//!
//! The default [`Shape`] is the store benchmark's: 30 submission dates × ~100k series rows;
//! 500 metrics with 50-bucket exponential layouts, 45 % of them keyed with 2–20 labels;
//! processes parent/content/gpu; 24 application/architecture/os/os-version combinations;
//! 5–15 contiguous non-zero buckets per row. Two metrics are fully populated on every date:
//! [`Synthetic::hot_plain_metric`] (72 series per date) and [`Synthetic::hot_keyed_metric`]
//! (20 labels, 1440 series per date). Everything is derived from a seed, so two runs produce
//! the same batches.
//!
//! ```
//! use mozaggregator_core::testing::synthetic::{Shape, Synthetic};
//! let data = Synthetic::new(Shape { dates: 2, rows_per_date: 1_000, ..Shape::default() });
//! let batch = data.batch(0);
//! assert!(batch.rows() > 900 && batch.rows() < 1_100 + 72 + 1440);
//! assert_eq!(data.dates().len(), 2);
//! ```

use std::time::Instant;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::date::Date;
use crate::error::Result;
use crate::filter::Filter;
use crate::histogram::Histogram;
use crate::keys::{Dims, Prefix, Process, SeriesKey, Target};
use crate::layout::LayoutSpec;
use crate::replicate::ReplicateCount;
use crate::store::{Batch, ReplicateTables, SeriesQuery, Store, WriteReport};

/// The size and addressing of a synthetic data set.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    /// Number of consecutive dates (one target table each).
    pub dates: usize,
    /// Approximate number of series rows per date.
    pub rows_per_date: usize,
    /// Number of metrics.
    pub metrics: usize,
    /// Share of keyed metrics.
    pub keyed_share: f64,
    /// Seed of every random choice.
    pub seed: u64,
    /// Family of the target tables.
    pub prefix: Prefix,
    /// Channel of the target tables.
    pub channel: String,
    /// Version of the target tables.
    pub version: String,
    /// First date.
    pub first_date: Date,
    /// Replicate groups of the two hot metrics (the rows the benchmarks query): each row's
    /// pings are dealt at random to the groups and its samples split accordingly. Other
    /// metrics get none: a query reads the rows of its own metric only.
    pub replicates: Option<ReplicateCount>,
}

impl Default for Shape {
    fn default() -> Self {
        Self {
            dates: 30,
            rows_per_date: 100_000,
            metrics: 500,
            keyed_share: 0.45,
            seed: 42,
            prefix: Prefix::SubmissionDate,
            channel: "nightly".into(),
            version: "130".into(),
            first_date: Date::from_ymd(2024, 1, 1)
                .unwrap_or_else(|e| unreachable!("2024-01-01 is a day: {e}")),
            replicates: None,
        }
    }
}

struct Metric {
    name: String,
    labels: Vec<String>,
    layout: LayoutSpec,
    /// Probability that one candidate series is present on a date.
    presence: f64,
    /// Typical magnitude of bucket counts.
    scale: f64,
}

/// A deterministic synthetic data set (see the module documentation).
pub struct Synthetic {
    shape: Shape,
    metrics: Vec<Metric>,
    dims: Vec<Dims>,
    dates: Vec<Date>,
}

const PROCESS_WEIGHT: [f64; 3] = [1.0, 0.9, 0.45];

/// The 24 application/architecture/os/os-version combinations.
pub fn dims_combinations() -> Vec<Dims> {
    let mut out = Vec::new();
    for application in ["Firefox", "Fennec"] {
        for architecture in ["x86", "x86-64"] {
            for (os, os_version) in [
                ("Windows_NT", "6.1"),
                ("Windows_NT", "10.0"),
                ("Darwin", "19.6"),
                ("Darwin", "23.1"),
                ("Linux", "5.1"),
                ("Linux", "6.1"),
            ] {
                out.push(Dims {
                    application: application.into(),
                    architecture: architecture.into(),
                    os: os.into(),
                    os_version: os_version.into(),
                });
            }
        }
    }
    out
}

fn dims_weight(d: &Dims) -> f64 {
    let os = match d.os.as_str() {
        "Windows_NT" => 1.0,
        "Darwin" => 0.6,
        _ => 0.4,
    };
    let app = if d.application == "Firefox" { 1.0 } else { 0.5 };
    os * app
}

impl Synthetic {
    /// The data set of `shape`.
    pub fn new(shape: Shape) -> Self {
        let mut rng = SmallRng::seed_from_u64(shape.seed);
        let dims = dims_combinations();
        let highs = [1_000u64, 10_000, 60_000, 100_000, 1_000_000];
        let keyed = ((shape.metrics as f64) * shape.keyed_share).round() as usize;
        let mut metrics: Vec<Metric> = (0..shape.metrics)
            .map(|i| {
                let is_keyed = i >= shape.metrics - keyed;
                let n_labels = if i == shape.metrics - 1 {
                    20
                } else if is_keyed {
                    rng.random_range(2..=20)
                } else {
                    1
                };
                let labels = if is_keyed {
                    (0..n_labels)
                        .map(|j| format!("key-{j:02}-{}", i % 7))
                        .collect()
                } else {
                    vec![String::new()]
                };
                let high = highs[rng.random_range(0..highs.len())];
                Metric {
                    name: format!(
                        "SYNTHETIC_METRIC_{i:03}{}",
                        if is_keyed { "_KEYED" } else { "" }
                    ),
                    labels,
                    layout: LayoutSpec::exponential(1, high, 50)
                        .unwrap_or_else(|_| LayoutSpec::scalar()),
                    presence: rng.random_range(0.05..1.0),
                    scale: 10f64.powf(rng.random_range(0.5..4.5)),
                }
            })
            .collect();
        // Scale presences so that a date has about `rows_per_date` rows; the two hot metrics
        // (the first plain one and the last keyed one) have every series.
        let hot = [0, shape.metrics.saturating_sub(1)];
        let full: f64 = dims.len() as f64 * 3.0;
        let hot_rows: f64 = hot
            .iter()
            .filter_map(|&i| metrics.get(i))
            .map(|m| m.labels.len() as f64 * full)
            .sum();
        let weights: Vec<f64> = PROCESS_WEIGHT
            .iter()
            .flat_map(|p| dims.iter().map(move |d| p * dims_weight(d)))
            .collect();
        let rows_at = |factor: f64| -> f64 {
            metrics
                .iter()
                .enumerate()
                .filter(|(i, _)| !hot.contains(i))
                .map(|(_, m)| {
                    let per_label: f64 = weights
                        .iter()
                        .map(|w| (m.presence * factor * w).min(1.0))
                        .sum();
                    per_label * m.labels.len() as f64
                })
                .sum()
        };
        // Presence probabilities are capped at 1, so find the scale factor by bisection.
        let wanted = (shape.rows_per_date as f64 - hot_rows).max(0.0);
        let (mut lo, mut hi) = (0.0f64, 1e6f64);
        for _ in 0..100 {
            let mid = (lo + hi) / 2.0;
            if rows_at(mid) < wanted {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let factor = lo;
        for (i, m) in metrics.iter_mut().enumerate() {
            m.presence = if hot.contains(&i) {
                f64::INFINITY
            } else {
                m.presence * factor
            };
            if hot.contains(&i) {
                m.scale = 20_000.0;
            }
        }
        let dates = (0..shape.dates)
            .map(|i| {
                shape
                    .first_date
                    .add_days(i as i64)
                    .unwrap_or(shape.first_date)
            })
            .collect();
        Self {
            shape,
            metrics,
            dims,
            dates,
        }
    }

    /// The dates, oldest first.
    pub fn dates(&self) -> &[Date] {
        &self.dates
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.shape
    }

    /// The query of `metric` (filtered by `filter`) over every date of the data.
    pub fn query(&self, metric: &str, filter: Filter) -> SeriesQuery {
        SeriesQuery {
            prefix: self.shape.prefix,
            channel: self.shape.channel.clone(),
            version: self.shape.version.clone(),
            dates: self.dates.clone(),
            metric: metric.into(),
            filter,
        }
    }

    /// The plain metric with every series on every date (72 per date).
    pub fn hot_plain_metric(&self) -> &str {
        self.metrics.first().map_or("", |m| m.name.as_str())
    }

    /// Series rows of the two hot metrics over all dates (every one is present).
    pub fn hot_series(&self) -> usize {
        let full = self.dims.len() * Process::ALL.len() * self.dates.len();
        [self.metrics.first(), self.metrics.last()]
            .into_iter()
            .flatten()
            .map(|m| m.labels.len() * full)
            .sum()
    }

    /// The keyed metric with 20 labels and every series on every date (1440 per date).
    pub fn hot_keyed_metric(&self) -> &str {
        self.metrics.last().map_or("", |m| m.name.as_str())
    }

    /// The target table of date `i`.
    pub fn target(&self, i: usize) -> Target {
        Target {
            prefix: self.shape.prefix,
            channel: self.shape.channel.clone(),
            version: self.shape.version.clone(),
            date: self.dates.get(i).copied().unwrap_or(self.shape.first_date),
        }
    }

    /// The batch of date `i`: one target table, submission date = the table's date.
    pub fn batch(&self, i: usize) -> Batch {
        let target = self.target(i);
        let mut rng = SmallRng::seed_from_u64(self.shape.seed ^ ((i as u64 + 1) << 32));
        let mut rows = Vec::with_capacity(self.shape.rows_per_date + self.shape.rows_per_date / 10);
        let mut replicates = self.shape.replicates.map(ReplicateTables::new);
        let hot = [self.hot_plain_metric(), self.hot_keyed_metric()];
        for m in &self.metrics {
            for label in &m.labels {
                for (p, process) in Process::ALL.into_iter().enumerate() {
                    for d in &self.dims {
                        let presence = m.presence * PROCESS_WEIGHT[p] * dims_weight(d);
                        if presence.is_finite() && rng.random::<f64>() >= presence {
                            continue;
                        }
                        let key = SeriesKey {
                            metric: m.name.clone(),
                            label: label.clone(),
                            process,
                            dims: d.clone(),
                        };
                        let h = histogram(&mut rng, m);
                        if let Some(reps) = replicates.as_mut().filter(|_| hot.contains(&&*m.name))
                        {
                            for (group, part) in
                                reps.groups
                                    .iter_mut()
                                    .zip(split(&mut rng, &h, reps.count.get()))
                            {
                                if !part.is_empty() {
                                    group
                                        .entry(target.clone())
                                        .or_default()
                                        .push((key.clone(), part));
                                }
                            }
                        }
                        rows.push((key, h));
                    }
                }
            }
        }
        let mut batch = Batch::new(target.date);
        batch.tables.insert(target, rows);
        batch.replicates = replicates;
        batch
    }
}

/// 5–15 contiguous non-zero buckets around a random mode, bell-shaped, with a per-row
/// magnitude; `count` ≈ samples / 3 (several samples per ping), `sum` from the bucket bounds.
fn histogram(rng: &mut SmallRng, m: &Metric) -> Histogram {
    let n = m.layout.len();
    let width = rng.random_range(5..=15usize).min(n);
    let start = rng.random_range(0..=n - width);
    let magnitude = m.scale * rng.random_range(0.2..5.0);
    let mut counts = vec![0u64; n];
    let bounds = m.layout.bounds();
    let mut samples = 0u64;
    let mut sum = 0u64;
    let mid = width as f64 / 2.0;
    for j in 0..width {
        let x = (j as f64 + 0.5 - mid) / (mid * 0.6);
        let c = (magnitude * (-x * x).exp() * rng.random_range(0.7..1.3)).round() as u64 + 1;
        counts[start + j] = c;
        samples += c;
        sum = sum.saturating_add(c.saturating_mul(bounds.get(start + j).copied().unwrap_or(0)));
    }
    let count = (samples / 3).max(1);
    Histogram::from_parts(m.layout, counts, sum.min(i64::MAX as u64), count)
        .unwrap_or_else(|_| Histogram::empty(m.layout))
}

/// `h` split over the groups of `reps`: its pings (`count`) dealt at random to the groups,
/// each bucket's samples, and the sum, shared in proportion (largest remainders), so the
/// parts add up to `h` exactly. A group that gets no ping gets nothing.
fn split(rng: &mut SmallRng, h: &Histogram, groups: usize) -> Vec<Histogram> {
    let layout = h.layout();
    let mut pings = vec![0u64; groups];
    for _ in 0..h.count().min(5_000) {
        pings[rng.random_range(0..groups)] += 1;
    }
    let dealt: u64 = pings.iter().sum();
    let share = |total: u64| -> Vec<u64> {
        let exact: Vec<f64> = pings
            .iter()
            .map(|&p| total as f64 * p as f64 / dealt.max(1) as f64)
            .collect();
        let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
        let mut left = total.saturating_sub(out.iter().sum());
        let mut order: Vec<usize> = (0..groups).filter(|&g| pings[g] > 0).collect();
        order.sort_by(|&a, &b| {
            (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor()))
        });
        // Flooring leaves less than one per group with pings.
        for &g in order
            .iter()
            .take(usize::try_from(left).unwrap_or(usize::MAX))
        {
            out[g] += 1;
            left -= 1;
        }
        if let Some(&g) = order.first() {
            out[g] += left;
        }
        out
    };
    let counts: Vec<Vec<u64>> = h.counts().iter().map(|&c| share(c)).collect();
    let sums = share(h.sum());
    let numbers = share(h.count());
    (0..groups)
        .map(|g| {
            let c: Vec<u64> = counts.iter().map(|per| per[g]).collect();
            Histogram::from_parts(layout, c, sums[g], numbers[g])
                .unwrap_or_else(|_| Histogram::empty(layout))
        })
        .collect()
}

/// Timings of [`Synthetic::write_all`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteStats {
    /// Rows written.
    pub rows: u64,
    /// Seconds spent generating batches.
    pub generate_seconds: f64,
    /// Seconds spent in [`Store::write`].
    pub write_seconds: f64,
}

impl WriteStats {
    /// Rows written per second of [`Store::write`].
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.write_seconds.max(1e-9)
    }
}

impl Synthetic {
    /// Writes every date's batch into `store`, calling `progress(date index, report)` after
    /// each write.
    ///
    /// # Errors
    /// The first write error.
    pub fn write_all(
        &self,
        store: &dyn Store,
        mut progress: impl FnMut(usize, &WriteReport),
    ) -> Result<WriteStats> {
        let mut stats = WriteStats::default();
        // Generate the next batch on another thread while the store writes the current one.
        let (send, receive) = std::sync::mpsc::sync_channel::<(Batch, f64)>(1);
        std::thread::scope(|scope| -> Result<()> {
            scope.spawn(move || {
                for i in 0..self.dates.len() {
                    let started = Instant::now();
                    let batch = self.batch(i);
                    if send.send((batch, started.elapsed().as_secs_f64())).is_err() {
                        return;
                    }
                }
            });
            for (i, (batch, seconds)) in receive.iter().enumerate() {
                stats.generate_seconds += seconds;
                let started = Instant::now();
                let report = store.write(&batch)?;
                stats.write_seconds += started.elapsed().as_secs_f64();
                stats.rows += report.rows_written;
                progress(i, &report);
            }
            Ok(())
        })?;
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicate_groups_add_up_to_the_rows() {
        let data = Synthetic::new(Shape {
            dates: 1,
            rows_per_date: 500,
            replicates: ReplicateCount::new(20).ok(),
            ..Shape::default()
        });
        let batch = data.batch(0);
        let reps = batch.replicates.as_ref().expect("groups");
        let hot = data.hot_plain_metric();
        for (key, h) in batch
            .tables
            .values()
            .flatten()
            .filter(|(k, _)| k.metric == hot)
        {
            let mut sum = Histogram::empty(h.layout());
            let mut groups = 0;
            for group in &reps.groups {
                for (_, part) in group.values().flatten().filter(|(k, _)| k == key) {
                    sum.merge(part).expect("small numbers");
                    groups += 1;
                }
            }
            assert_eq!(&sum, h, "{key:?}");
            assert!(groups > 1 && groups <= 20);
        }
    }
}

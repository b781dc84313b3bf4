//! The JSON of a metric answer, written straight into bytes.
//!
//! A [`MetricResponse`] is the answer the HTTP API serves most, and with statistics each of its
//! entries carries a dozen numbers and keys more. Through serde every token of those costs a
//! dispatch and a few small copies. Written directly, the statistics of a 30-date answer cost a
//! third of their time through serde (bench/analysis.sh). The serde encoding
//! (`serde_json::to_vec`) stays the definition. [`MetricResponse::to_json`] writes the same
//! bytes, which the tests check on generated answers.

use serde::Serialize;

use crate::analysis::EntryCi;
use crate::query::{Bucket, DataPoint, MetricResponse};
use crate::stats::Summary;

impl MetricResponse {
    /// The answer's JSON: the same bytes as `serde_json::to_vec(self)`, written faster.
    ///
    /// ```
    /// use mozaggregator_core::query::{Bucket, DataPoint, MetricResponse};
    /// use mozaggregator_core::Date;
    /// let response = MetricResponse {
    ///     buckets: vec![Bucket::Number(0), Bucket::Number(1)],
    ///     kind: "linear".into(),
    ///     description: "a \"quoted\" text".into(),
    ///     data: vec![DataPoint::new(Date::parse("20240101")?, String::new(), 2, 3, vec![1, 2])],
    /// };
    /// assert_eq!(response.to_json(), serde_json::to_vec(&response)?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_json(&self) -> Vec<u8> {
        // Entries are about 20 bytes per bucket (and 40 per statistic); one allocation fits
        // most answers.
        let stats = self
            .data
            .first()
            .and_then(|p| p.stats.as_ref())
            .map_or(0, |s| 40 * (s.values().count() + 1));
        let per_entry = 64 + 20 * self.buckets.len() + stats;
        let mut out = Out(Vec::with_capacity(64 + per_entry * (self.data.len() + 1)));
        out.raw(b"{\"buckets\":[");
        for (i, bucket) in self.buckets.iter().enumerate() {
            out.comma(i);
            match bucket {
                Bucket::Number(n) => out.u64(*n),
                Bucket::Label(label) => out.string(label),
            }
        }
        out.raw(b"],\"kind\":");
        out.string(&self.kind);
        out.raw(b",\"description\":");
        out.string(&self.description);
        out.raw(b",\"data\":[");
        for (i, point) in self.data.iter().enumerate() {
            out.comma(i);
            out.point(point);
        }
        out.raw(b"]}");
        out.0
    }
}

/// The bytes written so far.
struct Out(Vec<u8>);

impl Out {
    fn raw(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    /// A comma before every element but the first (`i == 0`).
    fn comma(&mut self, i: usize) {
        if i > 0 {
            self.0.push(b',');
        }
    }

    fn u64(&mut self, n: u64) {
        self.raw(itoa::Buffer::new().format(n).as_bytes());
    }

    /// A number, or `null` when it is missing or not finite (as serde_json writes NaN and
    /// infinities).
    fn f64(&mut self, value: Option<f64>) {
        match value.filter(|v| v.is_finite()) {
            Some(v) => self.raw(zmij::Buffer::new().format_finite(v).as_bytes()),
            None => self.raw(b"null"),
        }
    }

    /// A JSON string, escaped by serde_json (a handful per entry: not worth a second escaper).
    fn string(&mut self, value: &(impl Serialize + ?Sized)) {
        // Writing into a Vec cannot fail, and a string or date always serializes.
        if serde_json::to_writer(&mut self.0, value).is_err() {
            self.raw(b"null");
        }
    }

    /// `"name":` for a statistic's name (digits, letters, `_` and `.`, never escaped).
    fn key(&mut self, name: &str) {
        self.0.push(b'"');
        self.raw(name.as_bytes());
        self.raw(b"\":");
    }

    fn point(&mut self, p: &DataPoint) {
        self.raw(b"{\"date\":");
        self.string(&p.date);
        self.raw(b",\"label\":");
        self.string(&p.label);
        self.raw(b",\"count\":");
        self.u64(p.count);
        self.raw(b",\"sum\":");
        self.u64(p.sum);
        self.raw(b",\"histogram\":[");
        for (i, c) in p.histogram.iter().enumerate() {
            self.comma(i);
            self.u64(*c);
        }
        self.0.push(b']');
        if let Some(group) = &p.group {
            self.raw(b",\"group\":");
            self.string(group);
        }
        if let Some(stats) = &p.stats {
            self.stats(stats);
        }
        if let Some(ci) = &p.ci {
            self.ci(ci);
        }
        self.0.push(b'}');
    }

    /// `,"ci":{…}` as [`EntryCi`]'s `Serialize` writes it.
    fn ci(&mut self, ci: &EntryCi) {
        self.raw(b",\"ci\":{\"level\":");
        self.f64(Some(ci.level.level()));
        self.raw(b",\"replicates\":");
        self.u64(u64::from(u32::from(ci.replicates)));
        self.raw(b",\"pings\":");
        self.u64(ci.pings);
        self.raw(b",\"stats\":{");
        for (i, (name, interval)) in ci.stats.iter().enumerate() {
            self.comma(i);
            self.string(name);
            self.0.push(b':');
            match interval {
                Some(interval) => {
                    self.0.push(b'{');
                    for (j, (key, value)) in interval.fields().into_iter().enumerate() {
                        self.comma(j);
                        self.key(key);
                        self.f64(Some(value));
                    }
                    self.0.push(b'}');
                }
                None => self.raw(b"null"),
            }
        }
        self.raw(b"}}");
    }

    /// `,"stats":{…},"stats_buckets":{…}` as [`Summary::values_json`] and
    /// [`Summary::buckets_json`] serialize them.
    fn stats(&mut self, s: &Summary) {
        self.raw(b",\"stats\":{\"samples\":");
        self.u64(s.samples());
        for (name, value) in s.values() {
            self.0.push(b',');
            self.key(name);
            self.f64(value);
        }
        if let Some(value) = s.tmo_mean() {
            self.raw(b",\"tmo_mean\":");
            self.f64(value);
        }
        self.raw(b"},\"stats_buckets\":{");
        for (i, (name, bucket)) in s.buckets().enumerate() {
            self.comma(i);
            self.key(name);
            match bucket {
                Some((lower, upper)) => {
                    self.0.push(b'[');
                    self.u64(lower);
                    self.0.push(b',');
                    match upper {
                        Some(upper) => self.u64(upper),
                        None => self.raw(b"null"),
                    }
                    self.0.push(b']');
                }
                None => self.raw(b"null"),
            }
        }
        self.0.push(b'}');
    }
}

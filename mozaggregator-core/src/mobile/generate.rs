//! Synthetic mobile-metrics pings, deterministic for a seed: what `generate --doc-type
//! mobile_metrics` prints.
//!
//! Each ping is a GeckoView `mobile_metrics` ping with the pipeline's `meta` block, several
//! processes (`engine`, `application`, `content`, `gpu`, …), and in them histograms with only
//! `sum` and `values` — some of probes that `Histograms-2017.json` defines (exponential,
//! enumerated, boolean, flag, count, categorical), whose values sit on those definitions'
//! bucket lower bounds, and some that no definition names, kept sparse — keyed histograms,
//! numeric scalars and keyed scalars. Every generated ping aggregates without a reject under
//! default settings, with or without definitions.
//!
//! ```
//! use mozaggregator_core::generate::GenerateOptions;
//! use mozaggregator_core::mobile::MobileGenerator;
//! let options = GenerateOptions { seed: 3, channels: vec!["beta".into()], ..GenerateOptions::default() };
//! let mut g = MobileGenerator::new(options.clone()).unwrap();
//! let ping = g.ping();
//! assert!(ping.contains(r#""normalizedChannel":"beta""#));
//! assert_eq!(ping, MobileGenerator::new(options).unwrap().ping());
//! ```

use std::io::Write;

use serde_json::{json, Map, Value};

use crate::aggregate::CHANNELS;
use crate::date::Date;
use crate::error::{Error, Result};
use crate::generate::{write_lines, GenerateOptions, Rng, DEFAULT_DATE};
use crate::layout::exponential_buckets;

/// The OS of mobile-metrics pings.
pub const MOBILE_OS: &str = "Android";

/// How a catalogue histogram's values are drawn.
#[derive(Clone, Copy)]
enum Values {
    /// On the lower bounds of an exponential layout (low, high, buckets).
    Exponential(u64, u64, u32),
    /// Small integers `0..n` (enumerated, categorical).
    Below(u64),
    /// `0` or `1` (boolean).
    Boolean,
    /// The flag's one sample, at 0.
    Flag,
    /// A count histogram: `sum` only matters.
    Count,
    /// An undefined probe: sparse values of any magnitude.
    Sparse,
}

/// Histograms of the catalogue: name, values, keyed. The defined ones match their definition
/// in `Histograms-2017.json`.
const HISTOGRAMS: [(&str, Values, bool); 11] = [
    ("GC_MS", Values::Exponential(1, 10_000, 50), false),
    ("CYCLE_COLLECTOR", Values::Exponential(1, 10_000, 50), false),
    (
        "CHECKERBOARD_DURATION",
        Values::Exponential(1, 100_000, 50),
        false,
    ),
    ("HTTP_RESPONSE_VERSION", Values::Below(48), false),
    ("TELEMETRY_TEST_BOOLEAN", Values::Boolean, false),
    ("TELEMETRY_TEST_FLAG", Values::Flag, false),
    ("TELEMETRY_TEST_COUNT", Values::Count, false),
    ("TELEMETRY_TEST_CATEGORICAL", Values::Below(3), false),
    ("GECKOVIEW_PAGE_LOAD_MS", Values::Sparse, false),
    ("TELEMETRY_TEST_KEYED_COUNT", Values::Count, true),
    ("GECKOVIEW_CONTENT_WAIT_MS", Values::Sparse, true),
];

/// Numeric scalars (name, keyed).
const SCALARS: [(&str, bool); 5] = [
    ("sessions.count", false),
    ("sessions.total_time", false),
    ("gfx.webrender.enabled", false),
    ("telemetry.accumulate_clamped_values", true),
    ("media.page_count", true),
];

const PROCESSES: [&str; 6] = [
    "engine",
    "application",
    "content",
    "gpu",
    "parent",
    "dynamic",
];
const ARCHITECTURES: [&str; 3] = ["arm64-v8a", "armeabi-v7a", "x86_64"];
const APPLICATIONS: [&str; 3] = ["Focus", "Fenix", "Klar"];
const KEYS: [&str; 4] = ["key1", "key2", "http", "https"];

/// Makes synthetic mobile-metrics pings.
#[derive(Clone, Debug)]
pub struct MobileGenerator {
    rng: Rng,
    options: GenerateOptions,
    base_date: Date,
}

impl MobileGenerator {
    /// A generator. Of the options, `seed`, `submission_date` (set: `meta.submissionDate`;
    /// not set: the job must give one), `channels`, `versions` (full app versions such as
    /// `68.2.1`), `os` (only `Android`) and `build_ids` (as the pings send them) are used.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown channel, an OS other than Android, an empty version
    /// or build id, or a template (main pings only).
    pub fn new(options: GenerateOptions) -> Result<Self> {
        if let Some(bad) = options
            .channels
            .iter()
            .find(|c| !CHANNELS.contains(&c.as_str()))
        {
            return Err(Error::invalid(
                "channel",
                format!("`{bad}` is not one of {}", CHANNELS.join(", ")),
            ));
        }
        if let Some(bad) = options.os.iter().find(|o| *o != MOBILE_OS) {
            return Err(Error::invalid(
                "os",
                format!("`{bad}`: mobile-metrics pings come from {MOBILE_OS}"),
            ));
        }
        if options.versions.iter().any(String::is_empty) {
            return Err(Error::invalid("version", "an empty version"));
        }
        if options.build_ids.iter().any(String::is_empty) {
            return Err(Error::invalid("build_id", "an empty build id"));
        }
        if options.template.is_some() {
            return Err(Error::invalid(
                "template",
                "templates are main pings: not for mobile-metrics pings",
            ));
        }
        let base_date = match options.submission_date {
            Some(d) => d,
            None => Date::parse(DEFAULT_DATE)?,
        };
        Ok(Self {
            rng: Rng(options.seed ^ 0x6d6f_6269_6c65_0001),
            options,
            base_date,
        })
    }

    /// Writes `n` pings as NDJSON; returns the bytes written.
    ///
    /// # Errors
    /// Errors of `out`.
    pub fn write_ndjson(&mut self, n: u64, out: &mut dyn Write) -> std::io::Result<u64> {
        write_lines(n, out, || self.ping())
    }

    /// The next ping, as one line of JSON.
    pub fn ping(&mut self) -> String {
        let r = &mut self.rng;
        let o = &self.options;
        let channel = if o.channels.is_empty() {
            ["release", "beta", "nightly", "aurora"][r.weighted(&[50, 25, 17, 8])].to_string()
        } else {
            r.pick(&o.channels).clone()
        };
        let version = if o.versions.is_empty() {
            format!("68.{}.{}", r.below(3), r.below(2))
        } else {
            r.pick(&o.versions).clone()
        };
        let build_id = if o.build_ids.is_empty() {
            format!("{}-GeckoView", 20_190_000 + r.below(3))
        } else {
            r.pick(&o.build_ids).clone()
        };
        let mut meta = Map::new();
        if let Some(date) = o.submission_date {
            meta.insert("submissionDate".into(), json!(date.to_string()));
        }
        meta.insert("normalizedChannel".into(), json!(channel));
        meta.insert("appVersion".into(), json!(version));
        meta.insert("appBuildId".into(), json!(build_id));
        meta.insert("appName".into(), json!(r.pick(&APPLICATIONS)));
        meta.insert("docType".into(), json!("mobile-metrics"));
        meta.insert("sampleId".into(), json!(r.below(100)));
        // The OS version: text in most pings, a number in some (as real clients send it).
        let os_version = 26 + r.below(4);
        let os_version = if r.chance(30) {
            json!(os_version)
        } else {
            json!(os_version.to_string())
        };
        let arch = *r.pick(&ARCHITECTURES);
        let client_id = r.uuid();
        let seq = r.below(500);
        let metrics = self.metrics();
        let ping = json!({
            "v": 1,
            "clientId": client_id,
            "seq": seq,
            "locale": "en-US",
            "os": MOBILE_OS,
            "osversion": os_version,
            "device": "Google-Pixel 2",
            "arch": arch,
            "createdDate": self.base_date.to_string(),
            "tz": 60,
            "meta": Value::Object(meta),
            "metrics": metrics,
        });
        ping.to_string()
    }

    /// The `metrics` of a ping: 2 to 4 processes, each with some of every section.
    fn metrics(&mut self) -> Value {
        let n = 2 + self.rng.below(3) as usize;
        let mut metrics = Map::new();
        for process in PROCESSES.iter().take(n) {
            let mut histograms = Map::new();
            let mut keyed_histograms = Map::new();
            for (name, values, keyed) in HISTOGRAMS {
                if !self.rng.chance(60) {
                    continue;
                }
                if keyed {
                    let mut keys = Map::new();
                    for key in KEYS.iter().take(1 + self.rng.below(3) as usize) {
                        keys.insert((*key).into(), self.histogram(values));
                    }
                    keyed_histograms.insert(name.into(), Value::Object(keys));
                } else {
                    histograms.insert(name.into(), self.histogram(values));
                }
            }
            let mut scalars = Map::new();
            let mut keyed_scalars = Map::new();
            for (name, keyed) in SCALARS {
                if !self.rng.chance(70) {
                    continue;
                }
                if keyed {
                    let mut keys = Map::new();
                    for key in KEYS.iter().take(1 + self.rng.below(2) as usize) {
                        keys.insert(key.to_uppercase(), json!(self.rng.count()));
                    }
                    keyed_scalars.insert(name.into(), Value::Object(keys));
                } else if name.ends_with("enabled") {
                    scalars.insert(name.into(), json!(self.rng.chance(50)));
                } else {
                    scalars.insert(name.into(), json!(self.rng.count()));
                }
            }
            metrics.insert(
                (*process).into(),
                json!({
                    "histograms": histograms,
                    "keyedHistograms": keyed_histograms,
                    "scalars": scalars,
                    "keyedScalars": keyed_scalars,
                }),
            );
        }
        Value::Object(metrics)
    }

    /// One histogram: `sum` and `values` only.
    fn histogram(&mut self, values: Values) -> Value {
        let r = &mut self.rng;
        let mut out: Vec<(u64, u64)> = Vec::new();
        match values {
            Values::Exponential(low, high, n) => {
                let bounds = exponential_buckets(low, high, n).unwrap_or_default();
                for _ in 0..1 + r.below(4) {
                    if !bounds.is_empty() {
                        let bound = *r.pick(&bounds);
                        out.push((bound, r.count()));
                    }
                }
            }
            Values::Below(n) => {
                for _ in 0..1 + r.below(3) {
                    out.push((r.below(n), r.count()));
                }
            }
            Values::Boolean => out.push((r.below(2), r.count())),
            Values::Flag => out.push((0, 1)),
            Values::Count => out.push((0, r.count())),
            Values::Sparse => {
                for _ in 0..1 + r.below(4) {
                    out.push((r.count() * 3, r.count()));
                }
            }
        }
        out.sort_unstable();
        out.dedup_by_key(|(bound, _)| *bound);
        let sum: u64 = out.iter().map(|(b, n)| b.max(&1) * n).sum();
        let values: Map<String, Value> = out
            .into_iter()
            .map(|(bound, n)| (bound.to_string(), json!(n)))
            .collect();
        json!({ "sum": sum, "values": values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_outside_mobile_pings_are_refused() {
        let android = |os: &str| GenerateOptions {
            os: vec![os.into()],
            ..GenerateOptions::default()
        };
        assert!(MobileGenerator::new(android("Android")).is_ok());
        let err = MobileGenerator::new(android("Linux")).unwrap_err();
        assert!(err.to_string().contains("Android"), "{err}");
        let template = GenerateOptions {
            template: Some("{}".into()),
            ..GenerateOptions::default()
        };
        assert!(MobileGenerator::new(template).is_err());
    }
}

//! Realistic synthetic Firefox main pings, deterministic for a seed.
//!
//! Each ping looks like a real main ping (100–400 KB): an `environment` with settings, system,
//! add-ons; a `payload` with a few hundred histograms of every kind (exponential, linear,
//! enumerated, boolean, flag, count, categorical), keyed histograms, simple measurements,
//! scalars and keyed scalars in the parent, content and gpu processes, an `extension` process,
//! events, slow SQL, thread hang stats; about one ping in ten is a legacy Firefox 4x ping whose
//! content measurements are in `childPayloads`. Dimensions (channel, version, build id, OS and
//! version, architecture, application) vary over a bounded set, as in real traffic.
//!
//! With a template (a real ping), each generated ping is that ping with new dimensions, client
//! id and varied values.
//!
//! Every generated ping aggregates without a reject under default settings, and none of its
//! metrics is hidden by the HTTP API's default deny-list. [`GenerateOptions`] narrows the
//! dimensions to the channels, versions, OSes and build ids a user asks for.
//!
//! ```
//! use mozaggregator_core::generate::{GenerateOptions, Generator};
//! let options = GenerateOptions {
//!     seed: 7,
//!     submission_date: Some("20240115".parse().unwrap()),
//!     channels: vec!["beta".into()],
//!     ..GenerateOptions::default()
//! };
//! let mut g = Generator::new(options.clone()).unwrap();
//! let ping = g.ping();
//! assert!(ping.len() > 50_000);
//! assert!(ping.contains(r#""channel":"beta""#));
//! assert_eq!(ping, Generator::new(options).unwrap().ping());
//! ```

use std::fmt::Write as _;
use std::io::Write;

use serde_json::Value;

use crate::aggregate::CHANNELS;
use crate::date::Date;
use crate::error::{Error, Result};
use crate::layout::{exponential_buckets, linear_buckets};

/// The base date of pings generated without a submission date.
pub const DEFAULT_DATE: &str = "20240115";

/// Options of a [`Generator`].
#[derive(Clone, Debug, Default)]
pub struct GenerateOptions {
    /// Seed: the same seed and options give the same pings.
    pub seed: u64,
    /// When set, pings carry `meta` with this submission date (and a sample id), as pings from
    /// Mozilla's pipeline do, and build ids precede it. When not, pings are as clients send
    /// them (no `meta`) and build ids precede [`DEFAULT_DATE`].
    pub submission_date: Option<Date>,
    /// A real main ping (JSON text) to vary instead of generating from scratch.
    pub template: Option<String>,
    /// Channels each ping's channel is drawn from, uniformly; each one of nightly, aurora,
    /// beta, release. Empty: the usual mix (half release, a quarter beta, …).
    pub channels: Vec<String>,
    /// Application versions (`application.version`, such as `121.0` or `122.0b3`) each ping's
    /// version is drawn from, uniformly, whatever its channel. Empty: versions that fit the
    /// channel (`121.0` on release, `122.0b3` on beta, `123.0a1` on nightly, …).
    pub versions: Vec<String>,
    /// OS names each ping's OS is drawn from, uniformly: `Windows_NT`, `Darwin` or `Linux`
    /// (the OS version is drawn from that OS's usual versions). Empty: the usual mix.
    pub os: Vec<String>,
    /// Build ids (`YYYYMMDDhhmmss`) each ping's build id is drawn from, uniformly. Empty:
    /// build ids of the week before the submission date.
    pub build_ids: Vec<String>,
}

/// The OS names [`GenerateOptions::os`] accepts, each with the versions drawn for it.
const OSES: [(&str, &[&str]); 3] = [
    ("Windows_NT", &["10.0", "10.0", "10.0", "6.1", "6.3"]),
    ("Darwin", &["21.6.0", "22.6.0", "23.1.0"]),
    (
        "Linux",
        &["5.15.0-86-generic", "6.2.0-33-generic", "6.5.9-arch2-1"],
    ),
];

impl GenerateOptions {
    /// Checks the dimension lists: known channels and OS names, versions whose major version
    /// (before the first `.`) is a number, build ids of 14 digits starting with a date. What
    /// passes here is what the aggregation accepts.
    ///
    /// ```
    /// use mozaggregator_core::generate::GenerateOptions;
    /// let bad = GenerateOptions { channels: vec!["esr".into()], ..GenerateOptions::default() };
    /// assert_eq!(
    ///     bad.validate().unwrap_err().to_string(),
    ///     "invalid channel: `esr` is not one of nightly, aurora, beta, release"
    /// );
    /// let bad = GenerateOptions { build_ids: vec!["2024011".into()], ..GenerateOptions::default() };
    /// assert!(bad.validate().is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the first value that is wrong.
    pub fn validate(&self) -> Result<()> {
        if let Some(bad) = self
            .channels
            .iter()
            .find(|c| !CHANNELS.contains(&c.as_str()))
        {
            return Err(Error::invalid(
                "channel",
                format!("`{bad}` is not one of {}", CHANNELS.join(", ")),
            ));
        }
        for version in &self.versions {
            let major = version.split('.').next().unwrap_or("");
            if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    "version",
                    format!("`{version}` does not start with a major version number (`121.0`)"),
                ));
            }
        }
        if let Some(bad) = self
            .os
            .iter()
            .find(|o| !OSES.iter().any(|(name, _)| name == o))
        {
            let names: Vec<&str> = OSES.iter().map(|(name, _)| *name).collect();
            return Err(Error::invalid(
                "os",
                format!("`{bad}` is not one of {}", names.join(", ")),
            ));
        }
        for build_id in &self.build_ids {
            let digits = build_id.len() == 14 && build_id.bytes().all(|b| b.is_ascii_digit());
            if !digits || Date::parse(&build_id[..8]).is_err() {
                return Err(Error::invalid(
                    "build id",
                    format!("`{build_id}` is not YYYYMMDDhhmmss (14 digits, starting with a date)"),
                ));
            }
        }
        Ok(())
    }
}

/// Writes `n` lines made by `line` (each without its `\n`); returns the bytes written.
pub(crate) fn write_lines(
    n: u64,
    out: &mut dyn Write,
    mut line: impl FnMut() -> String,
) -> std::io::Result<u64> {
    let mut bytes = 0;
    for _ in 0..n {
        let mut p = line();
        p.push('\n');
        out.write_all(p.as_bytes())?;
        bytes += p.len() as u64;
    }
    Ok(bytes)
}

/// SplitMix64: small, fast, and stable forever (the output of a seed never changes).
#[derive(Clone, Debug)]
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n.max(1))) >> 64) as u64
    }

    pub(crate) fn range(&mut self, lo: u64, hi_inclusive: u64) -> u64 {
        lo + self.below(hi_inclusive - lo + 1)
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// An index drawn with the given weights.
    pub(crate) fn weighted(&mut self, weights: &[u64]) -> usize {
        let total: u64 = weights.iter().sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A count with a long tail: mostly small, sometimes large.
    pub(crate) fn count(&mut self) -> u64 {
        let magnitude = self.weighted(&[50, 30, 15, 5]);
        let top = [9, 99, 999, 9999][magnitude];
        self.range(1, top)
    }

    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next();
        let b = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The members `"name":value` of a JSON object for a random `share` (in percent) of `items`,
/// comma-separated: `value` writes the value of each chosen item.
fn members<'a, T>(
    rng: &mut Rng,
    out: &mut String,
    share: u64,
    items: impl Iterator<Item = (&'a String, T)>,
    mut value: impl FnMut(&mut Rng, &mut String, T),
) {
    let mut first = true;
    for (name, item) in items {
        if !rng.chance(share) {
            continue;
        }
        if !first {
            out.push(',');
        }
        first = false;
        push_json_str(out, name);
        out.push(':');
        value(rng, out, item);
    }
}

/// Writes `n` items, comma-separated: `item` writes the `i`th.
fn comma_separated(out: &mut String, n: u64, mut item: impl FnMut(&mut String, u64)) {
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        item(out, i);
    }
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// One histogram of the catalogue.
#[derive(Clone, Debug)]
struct Metric {
    name: String,
    histogram_type: u8,
    range: [u64; 2],
    bucket_count: u32,
    bounds: Vec<u64>,
    keys: Vec<String>,
}

const PREFIXES: [&str; 24] = [
    "GC",
    "CYCLE_COLLECTOR",
    "HTTP",
    "NETWORK",
    "FX_TAB",
    "PAGE_LOAD",
    "CACHE",
    "DNS",
    "SSL",
    "MEMORY",
    "JS",
    "GFX",
    "MEDIA",
    "DOM",
    "PLACES",
    "SEARCH",
    "STARTUP",
    "IPC",
    "TELEMETRY",
    "CANVAS",
    "WEBRTC",
    "SPDY",
    "IMAGE",
    "PWMGR",
];
const MIDDLES: [&str; 16] = [
    "SLICE",
    "PAUSE",
    "REQUEST",
    "RESPONSE",
    "PAINT",
    "COMPOSITE",
    "DECODE",
    "LOOKUP",
    "SYNC",
    "ASYNC",
    "CONTENT",
    "WORKER",
    "MAIN",
    "HANDSHAKE",
    "FLUSH",
    "RESTORE",
];
const SUFFIXES: [&str; 10] = [
    "MS",
    "TIME_MS",
    "SIZE_KB",
    "COUNT",
    "RATIO",
    "US",
    "BYTES",
    "PERCENT",
    "LATENCY_MS",
    "RESULT",
];
const KEY_POOLS: [&[&str]; 5] = [
    &[
        "google",
        "bing",
        "duckduckgo",
        "amazondotcom",
        "wikipedia",
        "ebay",
        "other",
    ],
    &[
        "urlbar",
        "searchbar",
        "contextmenu",
        "newtab",
        "abouthome",
        "system",
    ],
    &[
        "{972ce4c6-7e08-4474-a285-3208198ce6fd}",
        "uBlock0@raymondhill.net",
        "https-everywhere@eff.org",
        "jid1-MnnxcxisBPnSXQ@jetpack",
        "screenshots@mozilla.org",
    ],
    &[
        "withMarkers",
        "withJS",
        "withScreenshots",
        "withThreads",
        "withIPC",
    ],
    &[
        "content",
        "gpu",
        "socket",
        "rdd",
        "utility",
        "extension",
        "plugin",
    ],
];

/// The fixed catalogue of metrics every generated ping draws from (seed-independent, so
/// pings of different seeds share metric names, as real pings do).
#[derive(Clone, Debug)]
struct Catalogue {
    histograms: Vec<Metric>,
    keyed: Vec<Metric>,
    scalars: Vec<String>,
    keyed_scalars: Vec<(String, Vec<String>)>,
}

fn make_metric(rng: &mut Rng, name: String, keyed: bool) -> Metric {
    // Kinds by share of a real Histograms.json: exponential, linear, enumerated, boolean,
    // flag, count, categorical.
    let kind = rng.weighted(&[45, 8, 17, 12, 5, 8, 5]);
    let (histogram_type, range, bucket_count, bounds) = match kind {
        0 => {
            let low = *rng.pick(&[1, 1, 1, 10, 50, 100]);
            let high = *rng.pick(&[1000, 10_000, 60_000, 100_000, 3_000_000, 1 << 30]);
            let n = *rng.pick(&[10, 20, 30, 50, 100]);
            let bounds = exponential_buckets(low, high, n).unwrap_or_default();
            (0, [low, high], n, bounds)
        }
        1 => {
            let high = *rng.pick(&[100, 1000, 10_000]);
            let n = *rng.pick(&[10, 20, 50, 100]);
            let bounds = linear_buckets(1, high, n).unwrap_or_default();
            (1, [1, high], n, bounds)
        }
        2 => {
            let n_values = rng.range(3, 100);
            let bounds = (0..=n_values).collect();
            (1, [1, n_values], n_values as u32 + 1, bounds)
        }
        3 => (2, [1, 2], 3, vec![0, 1, 2]),
        4 => (3, [1, 2], 3, vec![0, 1, 2]),
        5 => (4, [1, 2], 3, vec![0, 1, 2]),
        _ => {
            let labels = rng.range(3, 20);
            let n = if rng.chance(50) { labels + 1 } else { 51 };
            (5, [1, 2], n as u32, (0..n).collect())
        }
    };
    let keys = if keyed {
        let pool = rng.pick(&KEY_POOLS);
        pool.iter().map(|k| k.to_string()).collect()
    } else {
        Vec::new()
    };
    Metric {
        name,
        histogram_type,
        range,
        bucket_count,
        bounds,
        keys,
    }
}

impl Catalogue {
    fn new() -> Self {
        let mut rng = Rng(0x6d6f_7a61_6767_7265);
        let name = |rng: &mut Rng, i: usize| {
            format!(
                "{}_{}_{}_{i}",
                rng.pick(&PREFIXES),
                rng.pick(&MIDDLES),
                rng.pick(&SUFFIXES)
            )
        };
        let histograms = (0..500)
            .map(|i| {
                let n = name(&mut rng, i);
                make_metric(&mut rng, n, false)
            })
            .collect();
        let keyed = (0..60)
            .map(|i| {
                let n = name(&mut rng, 1000 + i);
                make_metric(&mut rng, n, true)
            })
            .collect();
        let scalars = (0..40)
            .map(|i| {
                format!(
                    "{}.{}.{}_{i}",
                    ["browser", "dom", "gfx", "media", "telemetry", "devtools"][i % 6],
                    ["engagement", "parent", "content", "usage", "stats"][i % 5],
                    ["count", "total", "max_ticks", "events", "uri_count"][i % 4]
                )
            })
            .collect();
        let keyed_scalars = (0..10)
            .map(|i| {
                let pool = rng.pick(&KEY_POOLS);
                (
                    // Not `browser.search.*` (the API's default deny-list hides those), nor
                    // `browser.engagement.navigation*` (the aggregation skips those).
                    format!("browser.ui.interaction_{i}"),
                    pool.iter().map(|k| k.to_string()).collect(),
                )
            })
            .collect();
        Self {
            histograms,
            keyed,
            scalars,
            keyed_scalars,
        }
    }
}

/// Dimensions of one generated ping.
struct Dims {
    channel: &'static str,
    version: String,
    build_id: String,
    application: &'static str,
    architecture: &'static str,
    os: &'static str,
    os_version: &'static str,
    legacy: bool,
}

/// Makes synthetic pings. Iterating yields pings forever.
#[derive(Clone, Debug)]
pub struct Generator {
    rng: Rng,
    catalogue: Catalogue,
    submission_date: Option<Date>,
    base_date: Date,
    template: Option<Value>,
    /// Build dates: base date minus 0..7 days.
    build_dates: Vec<Date>,
    /// The dimension lists of the options (the rest is above).
    options: GenerateOptions,
}

impl Generator {
    /// A generator.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a submission date less than a week after 0000-01-01, and for
    /// options [`GenerateOptions::validate`] refuses; [`Error::Parse`] for a template that is
    /// not a JSON object.
    pub fn new(options: GenerateOptions) -> Result<Self> {
        options.validate()?;
        let base_date = match options.submission_date {
            Some(d) => d,
            None => Date::parse(DEFAULT_DATE)?,
        };
        let build_dates = (0..7)
            .map(|d| base_date.add_days(-d))
            .collect::<Result<Vec<_>>>()?;
        let template = match &options.template {
            None => None,
            Some(text) => {
                let v: Value = serde_json::from_str(text).map_err(|e| Error::Parse {
                    what: "template ping".into(),
                    reason: e.to_string(),
                })?;
                if !v.is_object() {
                    return Err(Error::Parse {
                        what: "template ping".into(),
                        reason: "not a JSON object".into(),
                    });
                }
                Some(v)
            }
        };
        Ok(Self {
            rng: Rng(options.seed ^ 0x1234_5678_9abc_def0),
            catalogue: Catalogue::new(),
            submission_date: options.submission_date,
            base_date,
            template,
            build_dates,
            options: GenerateOptions {
                template: None,
                ..options
            },
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
        let dims = self.dims();
        let client_id = self.rng.uuid();
        match self.template.take() {
            Some(template) => {
                let out = self.varied_template(&template, &dims, &client_id);
                self.template = Some(template);
                out
            }
            None => self.synthetic(&dims, &client_id),
        }
    }

    /// The dimensions of the next ping. A list of [`GenerateOptions`] replaces the usual draw
    /// of its dimension by a draw among its values; with no lists, the draws are the usual ones.
    fn dims(&mut self) -> Dims {
        let r = &mut self.rng;
        let o = &self.options;
        let legacy = r.chance(10);
        let mut channel = ["release", "beta", "nightly", "aurora"][r.weighted(&[50, 25, 17, 8])];
        if !o.channels.is_empty() {
            let chosen = r.pick(&o.channels);
            // Validated: one of CHANNELS.
            channel = CHANNELS
                .iter()
                .find(|c| *c == chosen)
                .copied()
                .unwrap_or(channel);
        }
        let major = if legacy { 45 } else { 121 } + r.below(2);
        let version = if o.versions.is_empty() {
            match channel {
                "release" => {
                    if r.chance(30) {
                        format!("{major}.0.1")
                    } else {
                        format!("{major}.0")
                    }
                }
                "beta" => format!("{}.0b{}", major + 1, r.range(1, 9)),
                "nightly" => format!("{}.0a1", major + 2),
                _ => format!("{}.0a2", major + 1),
            }
        } else {
            r.pick(&o.versions).clone()
        };
        let build_id = if o.build_ids.is_empty() {
            let day = r.weighted(&[30, 25, 15, 10, 8, 7, 5]);
            format!(
                "{}{:02}{:02}{:02}",
                self.build_dates[day],
                r.below(24),
                r.below(60),
                r.below(60)
            )
        } else {
            r.pick(&o.build_ids).clone()
        };
        let application = ["Firefox", "Fennec", "Thunderbird"][r.weighted(&[94, 3, 3])];
        let architecture = ["x86-64", "x86", "aarch64"][r.weighted(&[75, 20, 5])];
        let (os, os_versions) = if o.os.is_empty() {
            OSES[r.weighted(&[75, 12, 13])]
        } else {
            let chosen = r.pick(&o.os);
            // Validated: one of OSES.
            OSES.iter()
                .find(|(name, _)| name == chosen)
                .copied()
                .unwrap_or(OSES[0])
        };
        let os_version = *r.pick(os_versions);
        Dims {
            channel,
            version,
            build_id,
            application,
            architecture,
            os,
            os_version,
            legacy,
        }
    }

    fn head(&mut self, out: &mut String, d: &Dims, client_id: &str) {
        out.push_str("{\"type\":\"main\",\"id\":");
        let id = self.rng.uuid();
        push_json_str(out, &id);
        let _ = write!(
            out,
            ",\"creationDate\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"version\":4,\"clientId\":",
            self.base_date.year(),
            self.base_date.month(),
            self.base_date.day(),
            self.rng.below(24),
            self.rng.below(60),
            self.rng.below(60),
            self.rng.below(1000)
        );
        push_json_str(out, client_id);
        if let Some(date) = &self.submission_date {
            let sample = crc32fast::hash(client_id.as_bytes()) % 100;
            let _ = write!(
                out,
                ",\"meta\":{{\"submissionDate\":\"{date}\",\"sampleId\":{sample},\"docType\":\"main\",\"sourceVersion\":\"4\"}}"
            );
        }
        let _ = write!(
            out,
            ",\"application\":{{\"architecture\":\"{}\",\"buildId\":\"{}\",\"channel\":\"{}\",\"name\":\"{}\",\"platformVersion\":\"{}\",\"vendor\":\"Mozilla\",\"version\":\"{}\",\"displayVersion\":\"{}\",\"xpcomAbi\":\"{}-msvc\"}}",
            d.architecture, d.build_id, d.channel, d.application, d.version, d.version, d.version,
            d.architecture
        );
    }

    fn environment(&mut self, out: &mut String, d: &Dims) {
        let r = &mut self.rng;
        let _ = write!(
            out,
            ",\"environment\":{{\"build\":{{\"applicationId\":\"{{ec8030f7-c20a-464f-9b0e-13a3a9e97384}}\",\"applicationName\":\"{}\",\"architecture\":\"{}\",\"buildId\":\"{}\",\"version\":\"{}\",\"vendor\":\"Mozilla\",\"platformVersion\":\"{}\",\"xpcomAbi\":\"{}-msvc\",\"hotfixVersion\":null}}",
            d.application, d.architecture, d.build_id, d.version, d.version, d.architecture
        );
        let _ = write!(
            out,
            ",\"settings\":{{\"blocklistEnabled\":true,\"isDefaultBrowser\":{},\"defaultSearchEngine\":\"{}\",\"defaultSearchEngineData\":{{\"name\":\"Google\",\"loadPath\":\"[app]google\",\"origin\":\"default\",\"submissionURL\":\"https://www.google.com/search?client=firefox-b-d&q=\"}},\"e10sEnabled\":true,\"e10sMultiProcesses\":8,\"telemetryEnabled\":{},\"locale\":\"en-US\",\"update\":{{\"channel\":\"{}\",\"enabled\":true,\"autoDownload\":true}},\"userPrefs\":{{\"browser.cache.disk.capacity\":1048576,\"browser.newtabpage.enabled\":true,\"browser.startup.page\":{},\"network.proxy.type\":5,\"privacy.donottrackheader.enabled\":false}},\"sandbox\":{{\"effectiveContentProcessLevel\":6}},\"attribution\":{{\"source\":\"www.google.com\",\"medium\":\"referral\",\"campaign\":\"(not set)\",\"content\":\"(not set)\"}},\"intl\":{{\"requestedLocales\":[\"en-US\"],\"availableLocales\":[\"en-US\",\"en-GB\",\"de\",\"fr\"],\"appLocales\":[\"en-US\"],\"systemLocales\":[\"en-US\"],\"regionalPrefsLocales\":[\"en-US\"],\"acceptLanguages\":[\"en-US\",\"en\"]}}}}",
            r.chance(60),
            ["google", "bing", "ddg"][r.weighted(&[80, 12, 8])],
            d.channel != "release",
            d.channel,
            r.below(4)
        );
        let _ = write!(
            out,
            ",\"profile\":{{\"creationDate\":{},\"resetDate\":{}}},\"partner\":{{\"distributionId\":null,\"distributionVersion\":null,\"partnerId\":null,\"distributor\":null,\"distributorChannel\":null,\"partnerNames\":[]}}",
            16000 + r.below(3800),
            17000 + r.below(2000)
        );
        let _ = write!(
            out,
            ",\"system\":{{\"memoryMB\":{},\"virtualMaxMB\":134217728,\"cpu\":{{\"count\":{},\"cores\":{},\"vendor\":\"GenuineIntel\",\"family\":6,\"model\":{},\"stepping\":{},\"l2cacheKB\":256,\"l3cacheKB\":{},\"speedMHz\":{},\"extensions\":[\"hasMMX\",\"hasSSE\",\"hasSSE2\",\"hasSSE3\",\"hasSSSE3\",\"hasSSE4_1\",\"hasSSE4_2\",\"hasAVX\",\"hasAVX2\",\"hasAES\"]}},\"os\":{{\"name\":\"{}\",\"version\":\"{}\",\"locale\":\"en-US\",\"servicePackMajor\":0,\"servicePackMinor\":0,\"windowsBuildNumber\":{},\"installYear\":{}}},\"hdd\":{{\"profile\":{{\"model\":\"Samsung SSD 860\",\"revision\":\"RVT0\",\"type\":\"SSD\"}},\"binary\":{{\"model\":\"Samsung SSD 860\",\"revision\":\"RVT0\",\"type\":\"SSD\"}},\"system\":{{\"model\":\"Samsung SSD 860\",\"revision\":\"RVT0\",\"type\":\"SSD\"}}}}",
            [2048, 4096, 8192, 16384, 32768][r.weighted(&[5, 20, 40, 25, 10])],
            r.range(2, 16),
            r.range(2, 8),
            r.range(60, 160),
            r.below(12),
            [3072, 6144, 8192][r.weighted(&[3, 5, 2])],
            r.range(1600, 4200),
            d.os,
            d.os_version,
            r.range(7000, 22631),
            r.range(2012, 2023)
        );
        let _ = write!(
            out,
            ",\"gfx\":{{\"D2DEnabled\":true,\"DWriteEnabled\":true,\"ContentBackend\":\"Skia\",\"adapters\":[{{\"description\":\"Intel(R) UHD Graphics 620\",\"vendorID\":\"0x8086\",\"deviceID\":\"0x{:04x}\",\"subsysID\":\"{:08x}\",\"RAM\":{},\"driver\":\"igdumdim64\",\"driverVersion\":\"27.20.100.{}\",\"driverDate\":\"2-10-2021\",\"GPUActive\":true}}],\"monitors\":[{{\"screenWidth\":{},\"screenHeight\":{},\"refreshRate\":60,\"pseudoDisplay\":false,\"scale\":1}}],\"features\":{{\"compositor\":\"webrender\",\"hwCompositing\":{{\"status\":\"available\"}},\"gpuProcess\":{{\"status\":\"available\"}},\"wrQualified\":{{\"status\":\"available\"}},\"webrender\":{{\"status\":\"available\"}},\"d3d11\":{{\"status\":\"available\",\"warp\":false,\"textureSharing\":true,\"version\":45312,\"blocklisted\":false}},\"d2d\":{{\"status\":\"available\",\"version\":\"1.1\"}}}}}},\"sec\":{{\"antivirus\":[\"Windows Defender\"],\"antispyware\":null,\"firewall\":null}}}}",
            r.below(0xffff),
            r.next() & 0xffff_ffff,
            r.below(4096),
            r.range(7000, 9999),
            [1366, 1920, 2560, 3840][r.weighted(&[20, 55, 15, 10])],
            [768, 1080, 1440, 2160][r.weighted(&[20, 55, 15, 10])]
        );
        out.push_str(",\"addons\":{\"activeAddons\":{");
        let n_addons = r.range(3, 14);
        comma_separated(out, n_addons, |out, i| {
            let id = r.uuid();
            let _ = write!(
                out,
                "\"{{{id}}}\":{{\"blocklisted\":false,\"description\":\"An extension that helps with thing number {i}, with a description long enough to look real.\",\"name\":\"Extension {i}\",\"userDisabled\":false,\"appDisabled\":false,\"version\":\"{}.{}.{}\",\"scope\":1,\"type\":\"extension\",\"foreignInstall\":false,\"hasBinaryComponents\":false,\"installDay\":{},\"updateDay\":{},\"signedState\":2,\"isSystem\":false,\"isWebExtension\":true,\"multiprocessCompatible\":true}}",
                r.below(10),
                r.below(30),
                r.below(100),
                17000 + r.below(2500),
                18000 + r.below(1500)
            );
        });
        out.push_str("},\"theme\":{\"id\":\"default-theme@mozilla.org\",\"blocklisted\":false,\"name\":\"System theme — auto\",\"userDisabled\":false,\"appDisabled\":false,\"version\":\"1.3\",\"scope\":4,\"foreignInstall\":false,\"hasBinaryComponents\":false,\"installDay\":18000,\"updateDay\":18000},\"activePlugins\":[],\"activeGMPlugins\":{\"gmp-widevinecdm\":{\"version\":\"4.10.2710.0\",\"userDisabled\":false,\"applyBackgroundUpdates\":1},\"gmp-gmpopenh264\":{\"version\":\"1.8.1.2\",\"userDisabled\":false,\"applyBackgroundUpdates\":1}}},\"experiments\":{}}");
    }

    /// Writes one histogram object with plausible samples.
    fn histogram(rng: &mut Rng, out: &mut String, m: &Metric) {
        let t = m.histogram_type;
        let n = m.bounds.len();
        let _ = write!(
            out,
            "{{\"bucket_count\":{},\"histogram_type\":{t},\"range\":[{},{}],\"values\":{{",
            m.bucket_count, m.range[0], m.range[1]
        );
        let mut sum: u64 = 0;
        match t {
            2 => {
                let (a, b) = (rng.count(), if rng.chance(30) { rng.count() } else { 0 });
                let _ = write!(out, "\"0\":{a},\"1\":{b},\"2\":0");
                sum = b;
            }
            3 => {
                if rng.chance(80) {
                    out.push_str("\"0\":1,\"1\":0");
                } else {
                    out.push_str("\"0\":0,\"1\":1,\"2\":0");
                    sum = 1;
                }
            }
            4 => {
                let v = rng.count();
                let _ = write!(out, "\"0\":{v},\"1\":0");
                sum = v;
            }
            _ => {
                // A run of consecutive buckets with samples, framed by empty buckets as
                // Firefox sends them.
                let used = (rng.range(1, 12) as usize).min(n);
                let start = rng.below((n - used + 1) as u64) as usize;
                let first = start.saturating_sub(1);
                let last = (start + used).min(n - 1);
                for i in first..=last {
                    if i > first {
                        out.push(',');
                    }
                    let c = if i >= start && i < start + used {
                        rng.count()
                    } else {
                        0
                    };
                    let lo = m.bounds[i];
                    let width = m.bounds.get(i + 1).map_or(1, |hi| hi - lo).max(1);
                    sum = sum.saturating_add(c.saturating_mul(lo + rng.below(width)));
                    let _ = write!(out, "\"{lo}\":{c}");
                }
            }
        }
        if t == 0 {
            let _ = write!(
                out,
                "}},\"sum\":{sum},\"log_sum\":{:.6},\"log_sum_squares\":{:.6}}}",
                (sum as f64 + 1.0).ln(),
                (sum as f64 + 1.0).ln().powi(2)
            );
        } else {
            let _ = write!(
                out,
                "}},\"sum\":{sum},\"sum_squares_lo\":{},\"sum_squares_hi\":0}}",
                sum.saturating_mul(sum) & 0xffff_ffff
            );
        }
    }

    /// `"histograms":{…}` with a random share of the catalogue.
    fn histograms(&mut self, out: &mut String, share: u64, limit: usize) {
        out.push_str("\"histograms\":{");
        let chosen = self.catalogue.histograms.iter().take(limit);
        members(
            &mut self.rng,
            out,
            share,
            chosen.map(|m| (&m.name, m)),
            Self::histogram,
        );
        out.push('}');
    }

    fn keyed_histograms(&mut self, out: &mut String, share: u64, limit: usize) {
        out.push_str("\"keyedHistograms\":{");
        let chosen = self
            .catalogue
            .keyed
            .iter()
            .take(limit)
            .map(|m| (&m.name, m));
        members(&mut self.rng, out, share, chosen, |rng, out, m| {
            out.push('{');
            let keys = rng.range(1, m.keys.len().min(6) as u64) as usize;
            let offset = rng.below(m.keys.len() as u64) as usize;
            for k in 0..keys {
                if k > 0 {
                    out.push(',');
                }
                push_json_str(out, &m.keys[(offset + k) % m.keys.len()]);
                out.push(':');
                Self::histogram(rng, out, m);
            }
            out.push('}');
        });
        out.push('}');
    }

    fn scalars(&mut self, out: &mut String, share: u64) {
        out.push_str("\"scalars\":{");
        let chosen = self
            .catalogue
            .scalars
            .iter()
            .enumerate()
            .map(|(i, n)| (n, i));
        members(&mut self.rng, out, share, chosen, |rng, out, i| {
            // Booleans count as 0 or 1; no string scalars, which the aggregation rejects
            // (`not_numeric`). The number in their place is not drawn, so that the seed's
            // draws (and every ping of a given seed) stay what they were.
            match i % 10 {
                7 => out.push_str(if rng.chance(50) { "true" } else { "false" }),
                9 => {
                    let _ = write!(out, "{}", i % 97 + 1);
                }
                _ => {
                    let _ = write!(out, "{}", rng.count());
                }
            }
        });
        out.push_str("},\"keyedScalars\":{");
        let chosen = self
            .catalogue
            .keyed_scalars
            .iter()
            .map(|(n, keys)| (n, keys));
        members(&mut self.rng, out, share, chosen, |rng, out, keys| {
            out.push('{');
            let n = rng.range(1, keys.len().min(4) as u64) as usize;
            for (k, key) in keys.iter().take(n).enumerate() {
                if k > 0 {
                    out.push(',');
                }
                push_json_str(out, key);
                let _ = write!(out, ":{}", rng.count());
            }
            out.push('}');
        });
        out.push('}');
    }

    /// `"simpleMeasurements":{…}` with numbers (and `{"sub": number}` objects) only, which the
    /// aggregation takes whole, then the old `"UITelemetry":{…}` beside it (in real pings of
    /// that age it was inside, where its objects and arrays would be `not_numeric` rejects).
    fn simple_measurements(&mut self, out: &mut String) {
        let r = &mut self.rng;
        let _ = write!(
            out,
            "\"simpleMeasurements\":{{\"totalTime\":{},\"uptime\":{},\"start\":{},\"main\":{},\"selectProfile\":{},\"afterProfileLocked\":{},\"startupCrashDetectionBegin\":{},\"startupCrashDetectionEnd\":{},\"firstPaint\":{},\"sessionRestoreInit\":{},\"sessionRestored\":{},\"createTopLevelWindow\":{},\"firstLoadURI\":{},\"AMI_startup_begin\":{},\"XPI_startup_begin\":{},\"XPI_bootstrap_addons_begin\":{},\"XPI_bootstrap_addons_end\":{},\"XPI_startup_end\":{},\"AMI_startup_end\":{},\"XPI_finalUIStartup\":{},\"sessionRestoreInitialized\":{},\"delayedStartupStarted\":{},\"delayedStartupFinished\":{},\"sessionRestoreRestoring\":{},\"startupInterrupted\":0,\"debuggerAttached\":0,\"shutdownDuration\":{},\"savedPings\":{},\"activeTicks\":{},\"pingsOverdue\":0,\"maximalNumberOfConcurrentThreads\":{},\"js\":{{\"setProto\":{},\"customIter\":{}}},\"addonManager\":{{\"XPIDB_syncRead_MS\":{},\"XPIDB_parseDB_MS\":{},\"XPIDB_saves_total\":{},\"XPIDB_saves_late\":0,\"default_providers\":true}}}},\"UITelemetry\":{{\"toolbars\":{{\"sizemode\":\"maximized\",\"bookmarksBarEnabled\":false,\"menuBarEnabled\":false,\"titleBarEnabled\":false,\"defaultKept\":[\"back-button\",\"forward-button\",\"stop-reload-button\",\"urlbar-container\",\"downloads-button\"],\"defaultMoved\":[],\"nondefaultAdded\":[],\"defaultRemoved\":[],\"addonToolbars\":0,\"visibleTabs\":[{}],\"hiddenTabs\":[0],\"countableEvents\":{{\"__DEFAULT__\":{{\"click-builtin-item\":{{\"back-button\":{{\"left\":{}}},\"reload-button\":{{\"left\":{}}}}},\"search\":{{\"urlbar\":{}}}}}}}}},\"contextmenu\":{{}},\"UITour\":{{\"seenPageIDs\":[]}}}}",
            r.range(1000, 2_000_000),
            r.range(10, 40000),
            r.range(10, 100),
            r.range(50, 500),
            r.range(100, 900),
            r.range(100, 900),
            r.range(200, 1000),
            r.range(10_000, 80_000),
            r.range(500, 5000),
            r.range(500, 3000),
            r.range(1000, 9000),
            r.range(500, 3000),
            r.range(1000, 9000),
            r.range(200, 800),
            r.range(200, 800),
            r.range(300, 900),
            r.range(400, 1000),
            r.range(400, 1000),
            r.range(400, 1000),
            r.range(500, 1500),
            r.range(500, 1500),
            r.range(1000, 3000),
            r.range(1000, 3000),
            r.range(1000, 5000),
            r.range(100, 20_000),
            r.below(5),
            r.range(10, 50_000),
            r.range(20, 120),
            r.below(100),
            r.below(100),
            r.range(0, 5),
            r.range(1, 20),
            r.range(1, 10),
            r.range(1, 400),
            r.below(200),
            r.below(500),
            r.below(100)
        );
    }

    fn bulk(&mut self, out: &mut String) {
        let r = &mut self.rng;
        let _ = write!(
            out,
            ",\"info\":{{\"reason\":\"{}\",\"revision\":\"https://hg.mozilla.org/releases/mozilla-release/rev/{:016x}\",\"timezoneOffset\":{},\"previousBuildId\":null,\"sessionId\":\"{}\",\"subsessionId\":\"{}\",\"previousSessionId\":\"{}\",\"previousSubsessionId\":\"{}\",\"subsessionCounter\":{},\"profileSubsessionCounter\":{},\"sessionStartDate\":\"2024-01-10T00:00:00.0+01:00\",\"subsessionStartDate\":\"2024-01-14T00:00:00.0+01:00\",\"sessionLength\":{},\"subsessionLength\":{},\"addons\":\"uBlock0%40raymondhill.net:1.54.0,screenshots%40mozilla.org:39.0.1\",\"flashVersion\":null}}",
            ["shutdown", "daily", "environment-change"][r.weighted(&[60, 30, 10])],
            r.next(),
            [-480, -300, 0, 60, 120, 330][r.below(6) as usize],
            r.uuid(),
            r.uuid(),
            r.uuid(),
            r.uuid(),
            r.range(1, 20),
            r.range(1, 2000),
            r.range(10, 500_000),
            r.range(10, 86_400)
        );
        out.push_str(",\"slowSQL\":{\"mainThread\":{");
        comma_separated(out, r.range(2, 12), |out, i| {
            let _ = write!(
                out,
                "\"SELECT h.url, h.title, f.url FROM moz_places h LEFT JOIN moz_favicons f ON h.favicon_id = f.id WHERE h.frecency <> 0 AND h.id = :id_{i} /* places.sqlite */\":[{},{}]",
                r.range(1, 30),
                r.range(100, 9000)
            );
        });
        out.push_str("},\"otherThreads\":{}}");
        out.push_str(",\"threadHangStats\":[");
        comma_separated(out, r.range(1, 4), |out, t| {
            let _ = write!(out, "{{\"name\":\"Gecko_{t}\",\"activity\":{{\"values\":{{");
            comma_separated(out, 20, |out, b| {
                let _ = write!(out, "\"{}\":{}", (1u64 << b) - 1, r.below(1000));
            });
            out.push_str("}},\"hangs\":[");
            comma_separated(out, r.range(1, 6), |out, _| {
                let _ = write!(
                    out,
                    "{{\"stack\":[\"Startup::XRE_Main\",\"Timer::Fire\",\"nsThread::ProcessNextEvent\",\"js::RunScript\",\"chrome://browser/content/tabbrowser.js:{}\"],\"histogram\":{{\"values\":{{\"255\":{},\"511\":{},\"1023\":{}}}}},\"nativeStack\":[]}}",
                    r.below(9999),
                    r.below(20),
                    r.below(10),
                    r.below(5)
                );
            });
            out.push_str("]}");
        });
        out.push_str("],\"chromeHangs\":{\"memoryMap\":[],\"stacks\":[],\"durations\":[],\"systemUptime\":[],\"firefoxUptime\":[],\"annotations\":[]},\"log\":[[\"BEGIN_UPDATE\",123],[\"END_UPDATE\",456]],\"webrtc\":{\"IceCandidatesStats\":{\"webrtc\":{},\"loop\":{}}},\"fileIOReports\":{},\"lateWrites\":{\"memoryMap\":[],\"stacks\":[]},\"addonDetails\":{\"XPI\":{\"screenshots@mozilla.org\":{\"location\":\"app-system-defaults\",\"scan_items\":3,\"scan_MS\":1}}},\"UIMeasurements\":[]");
    }

    fn events(&mut self, out: &mut String) {
        out.push_str(",\"events\":[");
        comma_separated(out, self.rng.range(0, 8), |out, _| {
            let _ = write!(
                out,
                "[{},\"navigation\",\"search\",\"urlbar\",\"enter\",{{\"engine\":\"google\"}}]",
                self.rng.range(1000, 9_999_999)
            );
        });
        out.push(']');
    }

    fn synthetic(&mut self, d: &Dims, client_id: &str) -> String {
        let mut out = String::with_capacity(320 << 10);
        self.head(&mut out, d, client_id);
        self.environment(&mut out, d);
        out.push_str(",\"payload\":{\"ver\":4,");
        self.simple_measurements(&mut out);
        out.push(',');
        let share = self.rng.range(60, 98);
        self.histograms(&mut out, share, usize::MAX);
        out.push(',');
        self.keyed_histograms(&mut out, share, usize::MAX);
        out.push_str(",\"processes\":{\"parent\":{");
        self.scalars(&mut out, 70);
        self.events(&mut out);
        out.push('}');
        if !d.legacy {
            out.push_str(",\"content\":{");
            self.histograms(&mut out, share / 2, 260);
            out.push(',');
            self.keyed_histograms(&mut out, share / 3, 40);
            out.push(',');
            self.scalars(&mut out, 30);
            self.events(&mut out);
            out.push_str("},\"gpu\":{");
            self.histograms(&mut out, 5, 200);
            out.push_str(",\"keyedHistograms\":{},");
            self.scalars(&mut out, 5);
            out.push('}');
        }
        out.push_str(",\"extension\":{");
        self.histograms(&mut out, 4, 300);
        out.push_str(",\"keyedHistograms\":{},\"scalars\":{},\"keyedScalars\":{}},\"dynamic\":{\"scalars\":{},\"events\":[]}}");
        if d.legacy {
            out.push_str(",\"childPayloads\":[");
            comma_separated(&mut out, self.rng.range(1, 3), |out, _| {
                out.push('{');
                self.simple_measurements(out);
                out.push(',');
                self.histograms(out, share / 3, 260);
                out.push(',');
                self.keyed_histograms(out, share / 4, 40);
                out.push_str(",\"chromeHangs\":{},\"log\":[]}");
            });
            out.push(']');
        }
        self.bulk(&mut out);
        out.push_str("}}");
        out
    }

    fn varied_template(&mut self, template: &Value, d: &Dims, client_id: &str) -> String {
        let mut p = template.clone();
        p["clientId"] = Value::from(client_id);
        p["id"] = Value::from(self.rng.uuid());
        p["application"]["channel"] = Value::from(d.channel);
        p["application"]["version"] = Value::from(d.version.clone());
        p["application"]["buildId"] = Value::from(d.build_id.clone());
        p["application"]["name"] = Value::from(d.application);
        p["application"]["architecture"] = Value::from(d.architecture);
        p["environment"]["system"]["os"]["name"] = Value::from(d.os);
        p["environment"]["system"]["os"]["version"] = Value::from(d.os_version);
        if let Some(date) = &self.submission_date {
            let sample = crc32fast::hash(client_id.as_bytes()) % 100;
            p["meta"] = serde_json::json!({"submissionDate": date, "sampleId": sample});
        }
        let rng = &mut self.rng;
        if let Some(payload) = p.get_mut("payload") {
            vary_histograms(rng, payload.get_mut("histograms"));
            vary_keyed(rng, payload.get_mut("keyedHistograms"));
            vary_numbers(rng, payload.get_mut("simpleMeasurements"));
            if let Some(Value::Object(processes)) = payload.get_mut("processes") {
                for process in processes.values_mut() {
                    vary_histograms(rng, process.get_mut("histograms"));
                    vary_keyed(rng, process.get_mut("keyedHistograms"));
                    vary_numbers(rng, process.get_mut("scalars"));
                }
            }
            if let Some(Value::Array(children)) = payload.get_mut("childPayloads") {
                for child in children {
                    vary_histograms(rng, child.get_mut("histograms"));
                    vary_keyed(rng, child.get_mut("keyedHistograms"));
                    vary_numbers(rng, child.get_mut("simpleMeasurements"));
                }
            }
        }
        p.to_string()
    }
}

/// Scales a value by a random factor in [0.5, 2).
fn scale(v: u64, factor: u64) -> u64 {
    v.saturating_mul(factor) / 64
}

fn vary_histogram(rng: &mut Rng, h: &mut Value) {
    let factor = rng.range(32, 127);
    if let Some(Value::Object(values)) = h.get_mut("values") {
        for v in values.values_mut() {
            if let Some(n) = v.as_u64() {
                *v = Value::from(scale(n, factor));
            }
        }
    }
    if let Some(sum) = h.get("sum").and_then(Value::as_u64) {
        h["sum"] = Value::from(scale(sum, factor));
    }
}

fn vary_histograms(rng: &mut Rng, section: Option<&mut Value>) {
    if let Some(Value::Object(histograms)) = section {
        // Drop one histogram in ten, as a client that did not record it.
        histograms.retain(|_, _| !rng.chance(10));
        for h in histograms.values_mut() {
            vary_histogram(rng, h);
        }
    }
}

fn vary_keyed(rng: &mut Rng, section: Option<&mut Value>) {
    if let Some(Value::Object(keyed)) = section {
        for by_key in keyed.values_mut() {
            if let Value::Object(by_key) = by_key {
                for h in by_key.values_mut() {
                    vary_histogram(rng, h);
                }
            }
        }
    }
}

fn vary_numbers(rng: &mut Rng, section: Option<&mut Value>) {
    if let Some(Value::Object(map)) = section {
        let factor = rng.range(32, 127);
        for v in map.values_mut() {
            match v {
                Value::Number(n) if n.as_u64().is_some() => {
                    *v = Value::from(scale(n.as_u64().unwrap_or(0), factor));
                }
                Value::Object(_) => vary_numbers(rng, Some(v)),
                _ => {}
            }
        }
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        Some(self.ping())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pings_are_valid_json_of_realistic_size_and_deterministic() {
        let options = GenerateOptions {
            seed: 42,
            submission_date: Some(Date::parse("20240301").unwrap()),
            ..GenerateOptions::default()
        };
        let pings: Vec<String> = Generator::new(options.clone()).unwrap().take(30).collect();
        let again: Vec<String> = Generator::new(options).unwrap().take(30).collect();
        assert_eq!(pings, again);
        let mut legacy = 0;
        for p in &pings {
            let v: Value = serde_json::from_str(p).unwrap();
            assert!((100_000..400_000).contains(&p.len()), "{} bytes", p.len());
            assert_eq!(v["meta"]["submissionDate"], "20240301");
            let build = v["application"]["buildId"].as_str().unwrap();
            assert!(build.len() == 14 && &build[..8] <= "20240301");
            let n = v["payload"]["histograms"].as_object().unwrap().len();
            assert!(n >= 200, "{n} histograms");
            if v["payload"]["childPayloads"].is_array() {
                legacy += 1;
            }
        }
        assert!(legacy > 0 && legacy < 15, "{legacy} legacy pings");
        let other = Generator::new(GenerateOptions {
            seed: 43,
            ..GenerateOptions::default()
        })
        .unwrap()
        .ping();
        assert_ne!(other, pings[0]);
        let v: Value = serde_json::from_str(&other).unwrap();
        assert!(v.get("meta").is_none());
    }

    #[test]
    fn every_histogram_kind_is_generated() {
        let c = Catalogue::new();
        for t in 0..=5u8 {
            assert!(
                c.histograms.iter().any(|m| m.histogram_type == t),
                "type {t}"
            );
        }
        assert!(c
            .histograms
            .iter()
            .all(|m| m.bounds.len() == m.bucket_count as usize));
    }

    #[test]
    fn templates_are_varied() {
        let template = r#"{"clientId": "x", "application": {"channel": "beta"},
            "environment": {"system": {"os": {"name": "Darwin"}}},
            "payload": {"histograms": {"A": {"histogram_type": 1, "sum": 100,
                "values": {"1": 64}}}}}"#;
        let mut g = Generator::new(GenerateOptions {
            seed: 1,
            submission_date: None,
            template: Some(template.into()),
            ..GenerateOptions::default()
        })
        .unwrap();
        let a: Value = serde_json::from_str(&g.ping()).unwrap();
        let b: Value = serde_json::from_str(&g.ping()).unwrap();
        assert_ne!(a["clientId"], b["clientId"]);
        assert_ne!(a["clientId"], "x");
        assert!(a["application"]["buildId"].is_string());
        assert!(Generator::new(GenerateOptions {
            template: Some("[1]".into()),
            ..GenerateOptions::default()
        })
        .is_err());
    }

    /// The pings of `options`, aggregated under default settings into a memory store.
    fn aggregate(options: GenerateOptions, n: usize) -> (crate::Report, crate::MemoryStore) {
        use crate::store::Store;
        let mut aggregator = crate::Aggregator::new(crate::Options::default());
        let mut out = crate::Aggregates::new();
        for ping in Generator::new(options).unwrap().take(n) {
            aggregator.add_json(&mut out, ping.as_bytes());
        }
        let store = crate::MemoryStore::new();
        out.write_to(&store, |_| {}).unwrap();
        let mut report = out.report().clone();
        report.seconds = 0.0;
        let mut metrics = 0;
        store
            .scan(&crate::Selection::default(), &mut |_, _, _| {
                metrics += 1;
                Ok(())
            })
            .unwrap();
        assert!(metrics > 1000, "{metrics} series");
        (report, store)
    }

    #[test]
    fn generated_pings_aggregate_without_rejects_and_nothing_is_hidden() {
        use crate::access::{AccessPolicy, RELEASE};
        use crate::store::Store;
        // Enough pings for every kind of ping (legacy too) and every catalogue scalar.
        let options = GenerateOptions {
            seed: 3,
            submission_date: Some(Date::parse("20240115").unwrap()),
            ..GenerateOptions::default()
        };
        let (report, store) = aggregate(options, 40);
        assert_eq!(report.pings_used, 40);
        assert!(
            report.pings_rejected.is_empty(),
            "{:?}",
            report.pings_rejected
        );
        assert!(report.inputs_damaged.is_empty());
        assert!(
            report.histograms_rejected.is_empty(),
            "{:?}",
            report.histograms_rejected
        );
        assert!(
            report.scalars_rejected.is_empty(),
            "{:?}",
            report.scalars_rejected
        );
        assert!(report.scalars_used > 0);
        assert_eq!((report.bad_keys, report.non_integer_counts), (0, 0));
        assert!(
            report.unplaced_samples.is_empty(),
            "{:?}",
            report.unplaced_samples
        );
        assert!(
            report.rows_rejected.is_empty(),
            "{:?}",
            report.rows_rejected
        );
        // Nothing the API's default policy hides: no deny-listed or auth-only metric (release
        // is gated as a whole, which is not hiding a metric).
        let policy = AccessPolicy::default();
        let mut keyed_scalars = 0;
        store
            .scan(&crate::Selection::default(), &mut |target, key, _| {
                let channel = if target.channel == RELEASE {
                    "nightly"
                } else {
                    &target.channel
                };
                assert!(
                    policy.listable(&key.metric, false)
                        && policy.check(channel, &key.metric, false)
                            == crate::access::Access::Allowed,
                    "{} is hidden by default",
                    key.metric
                );
                if key.metric.starts_with("SCALARS_") && !key.label.is_empty() {
                    keyed_scalars += 1;
                }
                Ok(())
            })
            .unwrap();
        assert!(keyed_scalars > 0);
    }

    #[test]
    fn chosen_dimensions_are_honoured() {
        let options = GenerateOptions {
            seed: 9,
            submission_date: Some(Date::parse("20240115").unwrap()),
            channels: vec!["beta".into(), "nightly".into()],
            versions: vec!["130.0".into()],
            os: vec!["Darwin".into()],
            build_ids: vec!["20240110123456".into(), "20240111000000".into()],
            ..GenerateOptions::default()
        };
        let pings: Vec<Value> = Generator::new(options.clone())
            .unwrap()
            .take(40)
            .map(|p| serde_json::from_str(&p).unwrap())
            .collect();
        let mut channels = std::collections::BTreeSet::new();
        let mut build_ids = std::collections::BTreeSet::new();
        for p in &pings {
            channels.insert(p["application"]["channel"].as_str().unwrap().to_string());
            build_ids.insert(p["application"]["buildId"].as_str().unwrap().to_string());
            assert_eq!(p["application"]["version"], "130.0");
            assert_eq!(p["environment"]["system"]["os"]["name"], "Darwin");
            let os_version = p["environment"]["system"]["os"]["version"]
                .as_str()
                .unwrap();
            assert!(OSES[1].1.contains(&os_version), "{os_version}");
        }
        assert_eq!(
            channels.into_iter().collect::<Vec<_>>(),
            ["beta", "nightly"]
        );
        assert_eq!(build_ids.into_iter().collect::<Vec<_>>(), options.build_ids);
        // And they aggregate without a reject into those tables only.
        let (report, store) = aggregate(options, 20);
        assert!(report.pings_rejected.is_empty() && report.scalars_rejected.is_empty());
        use crate::store::Store;
        store
            .scan(&crate::Selection::default(), &mut |target, key, _| {
                assert!(["beta", "nightly"].contains(&target.channel.as_str()));
                assert_eq!(target.version, "130");
                assert_eq!(key.dims.os, "Darwin");
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn bad_dimensions_are_refused_with_the_value() {
        let cases: [(GenerateOptions, &str); 5] = [
            (
                GenerateOptions {
                    channels: vec!["esr".into()],
                    ..GenerateOptions::default()
                },
                "`esr`",
            ),
            (
                GenerateOptions {
                    versions: vec!["".into()],
                    ..GenerateOptions::default()
                },
                "``",
            ),
            (
                GenerateOptions {
                    versions: vec!["beta.1".into()],
                    ..GenerateOptions::default()
                },
                "`beta.1`",
            ),
            (
                GenerateOptions {
                    os: vec!["BeOS".into()],
                    ..GenerateOptions::default()
                },
                "`BeOS` is not one of Windows_NT, Darwin, Linux",
            ),
            (
                GenerateOptions {
                    build_ids: vec!["20241301000000".into()],
                    ..GenerateOptions::default()
                },
                "`20241301000000`",
            ),
        ];
        for (options, needle) in cases {
            let err = Generator::new(options).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }

    #[test]
    fn without_choices_the_usual_dimensions_vary() {
        let pings: Vec<Value> = Generator::new(GenerateOptions::default())
            .unwrap()
            .take(60)
            .map(|p| serde_json::from_str(&p).unwrap())
            .collect();
        let distinct = |f: &dyn Fn(&Value) -> &Value| {
            pings
                .iter()
                .map(|p| f(p).to_string())
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        assert!(distinct(&|p| &p["application"]["channel"]) >= 3);
        assert!(distinct(&|p| &p["environment"]["system"]["os"]["name"]) == 3);
    }
}

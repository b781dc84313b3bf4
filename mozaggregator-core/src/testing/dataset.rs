//! The original service's test data set, regenerated from its documented facts: 1152 main pings
//! over the full product of 8 binary-or-ternary dimensions, 3 pings per combination, with fixed
//! templates of histograms, keyed histograms, scalars, keyed scalars and simple measures.
//!
//! Everything is relative to a "today" date (`YYYYMMDD`) so tests are reproducible:
//! submission dates are today − 2 days and today, build ids today − 2 and today − 1 days.
//! Pings 0 and 1 of each combination are "new style" (content and gpu measurements under
//! `payload.processes`), ping 2 is "old style" (content histograms in 3 `childPayloads`).
//!
//! ```
//! use mozaggregator_core::testing::dataset;
//! let pings = dataset::pings("20240110").unwrap();
//! assert_eq!(pings.len(), dataset::NUM_PINGS);
//! assert_eq!(dataset::submission_dates("20240110").unwrap(), ["20240108", "20240110"]);
//! ```

use serde_json::{json, Map, Value};

use crate::date::Date;
use crate::error::Result;
use crate::keys::Process;

/// Channels of the data set.
pub const CHANNELS: [&str; 3] = ["nightly", "beta", "release"];
/// Versions as sent (they aggregate as `"40"` and `"41"`).
pub const VERSIONS: [&str; 2] = ["40.0b1", "41"];
/// Versions as aggregated.
pub const MAJOR_VERSIONS: [&str; 2] = ["40", "41"];
/// `application.name` values.
pub const APPLICATIONS: [&str; 2] = ["Firefox", "Fennec"];
/// `application.architecture` values.
pub const ARCHITECTURES: [&str; 2] = ["x86", "x86-64"];
/// `environment.system.os.name` values.
pub const OSES: [&str; 2] = ["Linux", "Windows_NT"];
/// `environment.system.os.version` values as sent (`"3.1.12"` aggregates as `"3.1"` on Linux).
pub const OS_VERSIONS: [&str; 2] = ["6.1", "3.1.12"];

/// Pings per combination of dimensions.
pub const PINGS_PER_DIMENSIONS: usize = 3;
/// Number of dimension combinations (build-id aggregates).
pub const NUM_COMBINATIONS: usize = 2 * 3 * 2 * 2 * 2 * 2 * 2 * 2;
/// Number of pings.
pub const NUM_PINGS: usize = NUM_COMBINATIONS * PINGS_PER_DIMENSIONS;
/// Number of submission-date aggregates (build ids merged).
pub const NUM_SUBMISSION_DATE_AGGREGATES: usize = NUM_COMBINATIONS / 2;
/// Child payloads per ping.
pub const NUM_CHILDREN_PER_PING: u64 = 3;
/// Pings of a combination that are "new style" (indices 0 and 1).
pub const NUM_AGGREGATED_CHILD_PINGS: u64 = 2;
/// The value of every scalar and simple measure.
pub const SCALAR_VALUE: u64 = 42;
/// The simple-measure label 42 falls in.
pub const SIMPLE_SCALAR_BUCKET: u64 = 35;
/// The count-histogram label 42 falls in.
pub const COUNT_SCALAR_BUCKET: u64 = 40;
/// The numeric-scalar label 42 falls in.
pub const NUMERIC_SCALAR_BUCKET: u64 = 40;
/// The `meta.sampleId` of every ping.
pub const SAMPLE_ID: u64 = 42;

/// One histogram of the templates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateHistogram {
    /// Histogram name.
    pub name: &'static str,
    /// Ping `histogram_type`.
    pub histogram_type: u8,
    /// `range`.
    pub range: [u64; 2],
    /// `bucket_count`.
    pub bucket_count: u32,
    /// `sum`.
    pub sum: u64,
    /// `values`: (bucket key, count).
    pub values: &'static [(u64, u64)],
}

impl TemplateHistogram {
    /// The histogram as ping JSON.
    pub fn to_json(&self) -> Value {
        let values: Map<String, Value> = self
            .values
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        json!({
            "histogram_type": self.histogram_type,
            "range": self.range,
            "bucket_count": self.bucket_count,
            "sum": self.sum,
            "values": values,
        })
    }

    /// True for count histograms (type 4), aggregated as `[[COUNT]]_` + name.
    pub fn is_count(&self) -> bool {
        self.histogram_type == 4
    }
}

const fn hist(
    name: &'static str,
    histogram_type: u8,
    range: [u64; 2],
    bucket_count: u32,
    sum: u64,
    values: &'static [(u64, u64)],
) -> TemplateHistogram {
    TemplateHistogram {
        name,
        histogram_type,
        range,
        bucket_count,
        sum,
        values,
    }
}

/// The histograms template (`payload.histograms`, content and gpu histograms), without its one
/// `null` entry ([`NULL_HISTOGRAM`]).
pub const HISTOGRAMS: [TemplateHistogram; 9] = [
    hist(
        "EVENTLOOP_UI_ACTIVITY_EXP_MS",
        0,
        [50, 60000],
        20,
        9362,
        &[
            (0, 0),
            (50, 18),
            (74, 16),
            (110, 16),
            (163, 8),
            (242, 5),
            (359, 2),
            (789, 1),
            (1170, 0),
        ],
    ),
    hist(
        "UPDATE_PING_COUNT_EXTERNAL",
        4,
        [1, 2],
        3,
        42,
        &[(0, 42), (1, 0)],
    ),
    hist(
        "USE_COUNTER2_PROPERTY_FILL_PAGE",
        2,
        [1, 2],
        3,
        2,
        &[(0, 0), (1, 2), (2, 0)],
    ),
    hist(
        "USE_COUNTER2_PROPERTY_FILL_DOCUMENT",
        2,
        [1, 2],
        3,
        1,
        &[(0, 0), (1, 1), (2, 0)],
    ),
    hist(
        "CONTENT_DOCUMENTS_DESTROYED",
        4,
        [1, 2],
        3,
        17,
        &[(0, 17), (1, 0)],
    ),
    hist(
        "TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED",
        4,
        [1, 2],
        3,
        19,
        &[(0, 19), (1, 0)],
    ),
    hist(
        "USE_COUNTER_PROPERTY_FILL_DOCUMENT",
        2,
        [1, 2],
        3,
        1,
        &[(0, 0), (1, 1)],
    ),
    hist(
        "TELEMETRY_TEST_CATEGORICAL",
        5,
        [1, 2],
        4,
        3,
        &[(0, 1), (1, 1), (2, 1), (3, 0)],
    ),
    hist(
        "GC_MAX_PAUSE_MS_2",
        1,
        [1, 1000],
        50,
        554,
        &[
            (0, 0),
            (1, 4),
            (22, 2),
            (43, 1),
            (63, 1),
            (272, 1),
            (292, 0),
        ],
    ),
];

/// The histogram of the template whose value is `null` (skipped, counted as rejected).
pub const NULL_HISTOGRAM: &str = "USE_COUNTER2_ISNULL_PAGE";

/// The keyed histograms template: (name, key, histogram).
pub const KEYED_HISTOGRAMS: [(&str, &str, TemplateHistogram); 1] = [(
    "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED",
    "withMarkers",
    hist(
        "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED",
        2,
        [1, 2],
        3,
        1,
        &[(0, 0), (1, 1), (2, 0)],
    ),
)];

/// Keyed histograms added to the parent payload only. The first two are skipped by name;
/// `SEARCH_COUNTS` is a count histogram stored as `[[COUNT]]_SEARCH_COUNTS`, label
/// `ddg.urlbar`, parent only.
pub const PARENT_ONLY_KEYED_HISTOGRAMS: [(&str, &str, TemplateHistogram); 3] = [
    (
        "MESSAGE_MANAGER_MESSAGE_SIZE",
        "foo",
        hist(
            "MESSAGE_MANAGER_MESSAGE_SIZE",
            0,
            [1, 1000],
            20,
            0,
            &[(0, 0)],
        ),
    ),
    (
        "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
        "foo",
        hist(
            "VIDEO_DETAILED_DROPPED_FRAMES_PROPORTION",
            0,
            [1, 1000],
            20,
            0,
            &[(0, 0)],
        ),
    ),
    (
        "SEARCH_COUNTS",
        "ddg.urlbar",
        hist("SEARCH_COUNTS", 4, [1, 2], 3, 1, &[(0, 1), (1, 0)]),
    ),
];

/// Simple measures as aggregated (metric names), each with value [`SCALAR_VALUE`].
pub const SIMPLE_MEASURES: [&str; 2] = [
    "SIMPLE_MEASURES_UPTIME",
    "SIMPLE_MEASURES_ADDONMANAGER_XPIDB_PARSEDB_MS",
];

/// Numeric scalars as aggregated: (metric, label), each with value [`SCALAR_VALUE`]. The last
/// two are private (served to authenticated users only).
pub const SCALARS: [(&str, &str); 7] = [
    ("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT", ""),
    ("SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT", ""),
    (
        "SCALARS_TELEMETRY.TEST.KEYED_RELEASE_OPTOUT",
        "SEARCH_ENTER",
    ),
    ("SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT", "FIRST"),
    ("SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT", "SECOND"),
    ("SCALARS_TELEMETRY.EVENT_COUNTS", "SOME#EVENT#HAPPENED"),
    (
        "SCALARS_TELEMETRY.DYNAMIC_EVENT_COUNTS",
        "SOME#DYNAMIC#EVENT",
    ),
];

/// Scalars per process section that are skipped by name (`browser.engagement.navigation*`).
pub const IGNORED_SCALARS_PER_SECTION: u64 = 3;
/// Scalar values per process section that are not numbers (strings).
pub const STRING_SCALARS_PER_SECTION: u64 = 2;

/// The original's `expected_count`: the `count` of one series of one build-id aggregate
/// (3 pings) for `process`; histograms and scalars differ for content because old-style pings
/// carry 3 child payloads of histograms but no content scalars.
pub fn expected_count(process: Process, scalar: bool) -> u64 {
    let pings = PINGS_PER_DIMENSIONS as u64;
    match (process, scalar) {
        (Process::Parent, _) => pings,
        (Process::Gpu, _) => NUM_AGGREGATED_CHILD_PINGS,
        (Process::Content, true) => NUM_AGGREGATED_CHILD_PINGS,
        (Process::Content, false) => {
            (pings - NUM_AGGREGATED_CHILD_PINGS) * NUM_CHILDREN_PER_PING
                + NUM_AGGREGATED_CHILD_PINGS
        }
    }
}

/// The `count` of a simple measure of one build-id aggregate: parent 3, content 9, gpu 0.
pub fn expected_simple_measure_count(process: Process) -> u64 {
    let pings = PINGS_PER_DIMENSIONS as u64;
    match process {
        Process::Parent => pings,
        Process::Content => pings * NUM_CHILDREN_PER_PING,
        Process::Gpu => 0,
    }
}

/// The two submission dates as pings and URLs spell them, `[today − 2 days, today]`.
///
/// # Errors
/// [`crate::Error::Invalid`] when `today` is not a `YYYYMMDD` date.
pub fn submission_dates(today: &str) -> Result<[String; 2]> {
    let today = Date::parse(today)?;
    Ok([today.add_days(-2)?.to_string(), today.to_string()])
}

/// The two build ids as sent (`YYYYMMDD000000`), `[today − 2 days, today − 1 day]`.
///
/// # Errors
/// As [`submission_dates`].
pub fn build_ids(today: &str) -> Result<[String; 2]> {
    let today = Date::parse(today)?;
    Ok([
        format!("{}000000", today.add_days(-2)?),
        format!("{}000000", today.add_days(-1)?),
    ])
}

fn histograms_json() -> Value {
    let mut m: Map<String, Value> = HISTOGRAMS
        .iter()
        .map(|h| (h.name.to_string(), h.to_json()))
        .collect();
    m.insert(NULL_HISTOGRAM.to_string(), Value::Null);
    Value::Object(m)
}

fn keyed_json(parent: bool) -> Value {
    let extra = if parent {
        &PARENT_ONLY_KEYED_HISTOGRAMS[..]
    } else {
        &[]
    };
    let mut m = Map::new();
    for (name, key, h) in KEYED_HISTOGRAMS.iter().chain(extra) {
        m.insert(name.to_string(), json!({ *key: h.to_json() }));
    }
    Value::Object(m)
}

fn simple_measurements_json() -> Value {
    json!({"uptime": SCALAR_VALUE, "addonManager": {"XPIDB_parseDB_MS": SCALAR_VALUE}})
}

fn scalars_json() -> Value {
    json!({
        "browser.engagement.total_uri_count": SCALAR_VALUE,
        "browser.engagement.tab_open_event_count": SCALAR_VALUE,
        "browser.engagement.navigation": SCALAR_VALUE,
        "browser.engagement.navigation.test": SCALAR_VALUE,
        "telemetry.test.string_kind": "IGNORED_STRING",
    })
}

fn keyed_scalars_json() -> Value {
    json!({
        "telemetry.test.keyed_release_optout": {"search_enter": SCALAR_VALUE},
        "telemetry.test.keyed_unsigned_int": {"first": SCALAR_VALUE, "second": SCALAR_VALUE},
        "browser.engagement.navigation.searchbar": {"first": SCALAR_VALUE, "second": SCALAR_VALUE},
        "fake.keyed.string": {"first": "IGNORE_ME"},
        "telemetry.event_counts": {"some#event#happened": SCALAR_VALUE},
        "telemetry.dynamic_event_counts": {"some#dynamic#event": SCALAR_VALUE},
    })
}

/// A deterministic uuid-shaped client id for ping number `n`.
fn client_id(n: usize) -> String {
    let x = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        (n as u64) & 0xfff,
        n
    )
}

/// The 1152 pings of the data set, as JSON text, in the original's order (the product of the
/// dimensions in the order of the constants above, 3 pings per combination).
///
/// # Errors
/// [`crate::Error::Invalid`] when `today` is not a `YYYYMMDD` date.
pub fn pings(today: &str) -> Result<Vec<String>> {
    let submission_dates = submission_dates(today)?;
    let build_ids = build_ids(today)?;
    let histograms = histograms_json();
    let keyed_parent = keyed_json(true);
    let keyed = keyed_json(false);
    let sm = simple_measurements_json();
    let scalars = scalars_json();
    let keyed_scalars = keyed_scalars_json();
    let process = json!({
        "histograms": histograms,
        "keyedHistograms": keyed,
        "scalars": scalars,
        "keyedScalars": keyed_scalars,
    });
    // The payloads do not depend on the dimensions: serialize each style once.
    let payload = |new_style: bool| {
        let child = if new_style {
            json!({"simpleMeasurements": sm})
        } else {
            json!({"simpleMeasurements": sm, "histograms": histograms, "keyedHistograms": keyed})
        };
        let mut processes = json!({
            "parent": {"scalars": scalars, "keyedScalars": keyed_scalars}
        });
        if new_style {
            processes["content"] = process.clone();
            processes["gpu"] = process.clone();
        }
        json!({
            "simpleMeasurements": sm,
            "histograms": histograms,
            "keyedHistograms": keyed_parent,
            "processes": processes,
            "childPayloads": vec![child; NUM_CHILDREN_PER_PING as usize],
        })
        .to_string()
    };
    let (new_payload, old_payload) = (payload(true), payload(false));
    let mut out = Vec::with_capacity(NUM_PINGS);
    for submission_date in &submission_dates {
        for channel in CHANNELS {
            for version in VERSIONS {
                for build_id in &build_ids {
                    for application in APPLICATIONS {
                        for arch in ARCHITECTURES {
                            for os in OSES {
                                for os_version in OS_VERSIONS {
                                    for i in 0..PINGS_PER_DIMENSIONS {
                                        let new_style = (i as u64) < NUM_AGGREGATED_CHILD_PINGS;
                                        let head = json!({
                                            "clientId": client_id(out.len()),
                                            "meta": {
                                                "submissionDate": submission_date,
                                                "sampleId": SAMPLE_ID,
                                            },
                                            "application": {
                                                "channel": channel,
                                                "version": version,
                                                "buildId": build_id,
                                                "name": application,
                                                "architecture": arch,
                                            },
                                            "environment": {
                                                "system": {"os": {"name": os, "version": os_version}},
                                                "settings": {
                                                    "telemetryEnabled": false,
                                                    "e10sEnabled": true,
                                                },
                                            },
                                        })
                                        .to_string();
                                        let body = if new_style {
                                            &new_payload
                                        } else {
                                            &old_payload
                                        };
                                        // `head` is a JSON object: splice the payload in.
                                        let head = head.strip_suffix('}').unwrap_or(&head);
                                        out.push(format!("{head},\"payload\":{body}}}"));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

//! End to end in core: the original service's test data set, aggregated by the ingest job and
//! written to a SQLite store, answers metric queries with the values the original service's
//! tests expected (mozaggregator/tests in mozilla/python_mozaggregator), before any HTTP layer.

use std::sync::Arc;

use mozaggregator_core::testing::dataset;
use mozaggregator_core::{
    Aggregates, Aggregator, BucketLayout, Dimension, Filter, Histogram, Options, Prefix,
    SeriesQuery, SqliteStore, Store,
};

const TODAY: &str = "20240110";

fn store(options: Options) -> (tempfile::TempDir, SqliteStore) {
    let mut aggregator = Aggregator::new(options);
    let mut aggregates = Aggregates::new();
    for ping in dataset::pings(TODAY).unwrap() {
        aggregator.add_json(&mut aggregates, ping.as_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("a.sqlite")).unwrap();
    for date in aggregates.submission_dates().unwrap() {
        for (channel, version) in aggregates.channel_versions(date) {
            store
                .write(&aggregates.batch_part(date, &channel, &version).unwrap())
                .unwrap();
        }
    }
    (dir, store)
}

fn query(store: &SqliteStore, prefix: Prefix, metric: &str, filter: Filter) -> Vec<Histogram> {
    let date = match prefix {
        Prefix::BuildId => dataset::build_ids(TODAY).unwrap()[1][..8].parse().unwrap(),
        Prefix::SubmissionDate | Prefix::MobileMetrics => TODAY.parse().unwrap(),
    };
    store
        .query(&SeriesQuery {
            prefix,
            channel: "nightly".into(),
            version: "41".into(),
            dates: vec![date],
            metric: metric.into(),
            filter,
        })
        .unwrap()
        .into_iter()
        .map(|row| row.histogram)
        .collect()
}

fn at(h: &Histogram, bound: u64) -> u64 {
    h.counts()[BucketLayout::new(h.layout()).exact_index(bound).unwrap()]
}

#[test]
fn queries_give_the_original_services_numbers() {
    let (_dir, store) = store(Options::default());
    for prefix in Prefix::ALL {
        // 32 aggregate keys per date: 10 histograms each (parent 3, content 5, gpu 2).
        let h = &query(&store, prefix, "EVENTLOOP_UI_ACTIVITY_EXP_MS", Filter::All)[0];
        assert_eq!((h.count(), h.sum()), (320, 2_995_840));
        for (bound, n) in [
            (50, 5760),
            (74, 5120),
            (110, 5120),
            (163, 2560),
            (242, 1600),
        ] {
            assert_eq!(at(h, bound), n);
        }
        assert_eq!((at(h, 359), at(h, 789), at(h, 532)), (640, 320, 0));

        let h = &query(&store, prefix, "TELEMETRY_TEST_CATEGORICAL", Filter::All)[0];
        assert_eq!((h.count(), h.sum()), (320, 960));
        assert_eq!(&h.counts()[..4], &[320, 320, 320, 0]);

        let h = &query(
            &store,
            prefix,
            "USE_COUNTER2_PROPERTY_FILL_PAGE",
            Filter::All,
        )[0];
        assert_eq!(
            (h.count(), h.sum(), h.counts()),
            (320, 640, &[0, 640, 0][..])
        );

        // (metric, count, sum, the one bucket that holds every sample)
        for (metric, count, sum, bucket) in [
            ("[[COUNT]]_UPDATE_PING_COUNT_EXTERNAL", 320, 13_440, 28),
            ("[[COUNT]]_CONTENT_DOCUMENTS_DESTROYED", 320, 5_440, 17),
            ("SIMPLE_MEASURES_UPTIME", 384, 16_128, 15),
            ("SCALARS_BROWSER.ENGAGEMENT.TOTAL_URI_COUNT", 224, 9_408, 28),
        ] {
            let h = &query(&store, prefix, metric, Filter::All)[0];
            assert_eq!(
                (h.count(), h.sum(), h.counts()[bucket]),
                (count, sum, count),
                "{metric}"
            );
        }

        // Process splits (32 keys): histograms 96 / 160 / 64, scalars 96 / 64 / 64, simple
        // measures 96 / 288 / none.
        for (metric, expected) in [
            ("GC_MAX_PAUSE_MS_2", [96, 160, 64]),
            (
                "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
                [96 * 2, 64 * 2, 64 * 2],
            ),
            ("SIMPLE_MEASURES_UPTIME", [96, 288, 0]),
        ] {
            for (child, n) in ["parent", "content", "gpu"].iter().zip(expected) {
                let rows = query(&store, prefix, metric, Filter::eq(Dimension::Child, *child));
                let total: u64 = rows.iter().map(Histogram::count).sum();
                assert_eq!(total, n, "{metric} child={child}");
            }
        }
        // Every other filter halves the count; os=Linux&osVersion=3.1 quarters it.
        let h = &query(
            &store,
            prefix,
            "GC_MAX_PAUSE_MS_2",
            Filter::eq(Dimension::Application, "Firefox"),
        )[0];
        assert_eq!(h.count(), 160);
        let h = &query(
            &store,
            prefix,
            "GC_MAX_PAUSE_MS_2",
            Filter::eq(Dimension::Os, "Linux").and(Filter::eq(Dimension::OsVersion, "3.1")),
        )[0];
        assert_eq!(h.count(), 80);
        // Keyed histograms and scalars: one row per label.
        let rows = query(
            &store,
            prefix,
            "DEVTOOLS_PERFTOOLS_RECORDING_FEATURES_USED",
            Filter::All,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].counts(), &[0, 320, 0]);
        let rows = query(
            &store,
            prefix,
            "SCALARS_TELEMETRY.TEST.KEYED_UNSIGNED_INT",
            Filter::All,
        );
        assert_eq!(rows.len(), 2, "FIRST and SECOND");
        // GC_MAX_PAUSE_MS_2 keeps every sample under the ping's own (linear) layout.
        let h = &query(&store, prefix, "GC_MAX_PAUSE_MS_2", Filter::All)[0];
        assert_eq!((h.count(), h.sum()), (320, 177_280));
        for (bound, n) in [(1, 1280), (22, 640), (43, 320), (63, 320), (272, 320)] {
            assert_eq!(at(h, bound), n);
        }
    }
}

#[test]
fn with_definitions_the_original_layout_rule_drops_what_it_dropped() {
    let Some(definitions) = crate::common::subset_definitions() else {
        return;
    };
    let (_dir, store) = store(Options {
        prefer_definitions: true,
        definitions: Arc::new(definitions),
        ..Options::default()
    });
    // Under the exponential definition only keys 0 and 1 of the linear data are bounds: the
    // original service's answer, "only bucket 1 = 1280".
    let h = &query(&store, Prefix::BuildId, "GC_MAX_PAUSE_MS_2", Filter::All)[0];
    assert_eq!((h.count(), h.sum()), (320, 177_280));
    assert_eq!(h.layout().bucket_count(), 50);
    assert_eq!(at(h, 1), 1280);
    assert_eq!(h.samples(), 1280);
}

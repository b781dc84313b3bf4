//! The service-level metric query rules (docs/api.md, "Metric queries") against a MemoryStore.

use mozaggregator_core::definitions::{Definition, Definitions};
use mozaggregator_core::query::{ApiFilterOptions, Bucket, MetricQuery, MetricResponse};
use mozaggregator_core::*;

const D1: &str = "20150601";
const D2: &str = "20150602";

fn key(metric: &str, label: &str, process: Process, os: &str) -> SeriesKey {
    SeriesKey {
        metric: metric.into(),
        label: label.into(),
        process,
        dims: Dims {
            application: "Firefox".into(),
            architecture: "x86".into(),
            os: os.into(),
            os_version: "6.1".into(),
        },
    }
}

/// A content-process series on Linux, no label.
fn content(metric: &str) -> SeriesKey {
    key(metric, "", Process::Content, "Linux")
}

fn hist(spec: LayoutSpec, counts: &[u64], sum: u64, count: u64) -> Histogram {
    let mut c = vec![0; spec.len()];
    c[..counts.len()].copy_from_slice(counts);
    Histogram::from_parts(spec, c, sum, count).unwrap()
}

fn scalar(value: u64, times: u64) -> Histogram {
    let mut h = Histogram::empty(LayoutSpec::scalar());
    for _ in 0..times {
        h.record(value).unwrap();
    }
    h
}

fn write(store: &MemoryStore, date: &str, rows: Vec<(SeriesKey, Histogram)>) {
    let target = Target {
        prefix: Prefix::BuildId,
        channel: "nightly".into(),
        version: "42".into(),
        date: date.parse().unwrap(),
    };
    let mut batch = Batch::new(date.parse().unwrap());
    batch.tables.insert(target, rows);
    store.write(&batch).unwrap();
}

/// The answer to `q` on `store` (found).
fn answer(store: &MemoryStore, defs: &Definitions, q: MetricQuery) -> MetricResponse {
    q.run(store, defs).unwrap().unwrap()
}

fn query(metric: &str, dates: &[&str], filter: Filter) -> MetricQuery {
    MetricQuery {
        prefix: Prefix::BuildId,
        channel: "nightly".into(),
        version: "42".into(),
        dates: dates.iter().map(|d| d.parse().unwrap()).collect(),
        metric: metric.into(),
        filter,
    }
}

fn def(name: &str, kind: Kind, layout: BucketLayout, description: &str) -> Definition {
    Definition {
        name: name.into(),
        kind,
        layout,
        description: description.into(),
        keyed: false,
    }
}

fn nums(v: &[u64]) -> Vec<Bucket> {
    v.iter().copied().map(Bucket::Number).collect()
}

#[test]
fn scalars_and_simple_measures_use_fixed_labels() {
    let store = MemoryStore::new();
    let mut sm = Histogram::empty(LayoutSpec::simple_measure());
    sm.record(42).unwrap();
    write(
        &store,
        D1,
        vec![
            (
                key("SCALARS_A.B", "", Process::Parent, "Linux"),
                scalar(42, 3),
            ),
            (content("SCALARS_A.B"), scalar(42, 2)),
            (
                key("SIMPLE_MEASURES_UPTIME", "", Process::Parent, "Linux"),
                sm,
            ),
        ],
    );
    let mut defs = Definitions::new();
    defs.insert(def(
        "SCALARS_A.B",
        Kind::Exponential,
        BucketLayout::new(LayoutSpec::scalar()),
        "A scalar",
    ));
    let r = answer(&store, &defs, query("SCALARS_A.B", &[D1], Filter::All));
    assert_eq!(r.kind, "exponential");
    assert_eq!(r.description, "A scalar");
    assert_eq!(r.buckets, nums(&LayoutSpec::scalar().bounds()));
    assert_eq!(r.data.len(), 1);
    assert_eq!((r.data[0].count, r.data[0].sum), (5, 210));
    assert_eq!(r.data[0].histogram[28], 5);

    let r = answer(
        &store,
        &defs,
        query("SIMPLE_MEASURES_UPTIME", &[D1], Filter::All),
    );
    assert_eq!(r.buckets.len(), 50);
    assert_eq!(r.data[0].histogram[15], 1);
    assert_eq!(r.description, "");

    // A filter narrows the merge.
    let f = Filter::from_param("child", &["false"]).unwrap();
    let r = answer(&store, &defs, query("SCALARS_A.B", &[D1], f));
    assert_eq!(r.data[0].count, 3);
    // Data without a definition is still served, with an empty description.
    let r = answer(
        &store,
        &Definitions::new(),
        query("SCALARS_A.B", &[D1], Filter::All),
    );
    assert_eq!(r.description, "");
}

#[test]
fn nothing_matching_is_not_found() {
    let store = MemoryStore::new();
    write(
        &store,
        D1,
        vec![(
            key("SCALARS_A.B", "", Process::Parent, "Linux"),
            scalar(1, 1),
        )],
    );
    let defs = Definitions::new();
    assert!(query("SCALARS_NONE", &[D1], Filter::All)
        .run(&store, &defs)
        .unwrap()
        .is_none());
    assert!(query("SCALARS_A.B", &[D2], Filter::All)
        .run(&store, &defs)
        .unwrap()
        .is_none());
    let gpu = Filter::eq(Dimension::Child, "gpu");
    assert!(query("SCALARS_A.B", &[D1], gpu)
        .run(&store, &defs)
        .unwrap()
        .is_none());
    // An unknown date next to a known one contributes nothing.
    let r = answer(&store, &defs, query("SCALARS_A.B", &[D2, D1], Filter::All));
    assert_eq!(r.data.len(), 1);
}

#[test]
fn count_histograms_from_store_or_definition() {
    let store = MemoryStore::new();
    write(
        &store,
        D1,
        vec![(
            key("[[COUNT]]_PING_COUNT", "", Process::Parent, "Linux"),
            scalar(42, 4),
        )],
    );
    // Known as count only because the store holds [[COUNT]]_M.
    let r = answer(
        &store,
        &Definitions::new(),
        query("PING_COUNT", &[D1], Filter::All),
    );
    assert_eq!(r.kind, "count");
    assert_eq!(r.buckets.len(), 100);
    assert_eq!(r.data[0].histogram[28], 4);
    assert_eq!(r.data[0].sum, 168);
    // Known from the definition: same answer, with its description.
    let mut defs = Definitions::new();
    defs.insert(def(
        "PING_COUNT",
        Kind::Count,
        BucketLayout::count(),
        "Pings",
    ));
    let r2 = answer(&store, &defs, query("PING_COUNT", &[D1], Filter::All));
    assert_eq!(
        (r2.kind.as_str(), r2.description.as_str()),
        ("count", "Pings")
    );
    assert_eq!(r2.data, r.data);
}

#[test]
fn kind_follows_definition_only_when_layouts_agree() {
    let store = MemoryStore::new();
    let linear = LayoutSpec::linear(1, 1000, 50).unwrap();
    write(
        &store,
        D1,
        vec![(
            key("GC_MS", "", Process::Parent, "Linux"),
            hist(linear, &[0, 4, 2], 554, 1),
        )],
    );
    let mut defs = Definitions::new();
    defs.insert(def(
        "GC_MS",
        Kind::Exponential,
        BucketLayout::exponential(1, 10000, 50).unwrap(),
        "GC",
    ));
    let r = answer(&store, &defs, query("GC_MS", &[D1], Filter::All));
    assert_eq!(
        r.kind, "linear",
        "the stored layout wins when the definition disagrees"
    );
    assert_eq!(r.buckets, nums(&linear.bounds()));
    assert_eq!(&r.data[0].histogram[..3], &[0, 4, 2]);
    assert_eq!(r.description, "GC");

    // Enumerated definition, declared by the ping as linear: same bounds → enumerated.
    let declared = LayoutSpec::from_ping(1, 1, 10, 11).unwrap();
    write(
        &store,
        D2,
        vec![(
            key("ENUM", "", Process::Parent, "Linux"),
            hist(declared, &[1], 0, 1),
        )],
    );
    defs.insert(def(
        "ENUM",
        Kind::Enumerated,
        BucketLayout::enumerated(10).unwrap(),
        "",
    ));
    let r = answer(&store, &defs, query("ENUM", &[D2], Filter::All));
    assert_eq!(r.kind, "enumerated");
    assert_eq!(r.buckets.len(), 11);
}

#[test]
fn flags_and_categoricals() {
    let store = MemoryStore::new();
    write(
        &store,
        D1,
        vec![
            (
                key("F", "", Process::Parent, "Linux"),
                hist(LayoutSpec::flag(), &[0, 3, 0], 3, 3),
            ),
            (
                key("CAT", "", Process::Parent, "Linux"),
                hist(LayoutSpec::categorical(4).unwrap(), &[1, 1, 1, 0], 3, 1),
            ),
            (
                key("CAT_NODEF", "", Process::Parent, "Linux"),
                hist(LayoutSpec::categorical(4).unwrap(), &[1, 2, 3, 4], 3, 1),
            ),
        ],
    );
    let mut defs = Definitions::new();
    defs.insert(def("F", Kind::Flag, BucketLayout::flag(), ""));
    let labels = vec!["CommonLabel".to_string(), "Label2".into(), "Label3".into()];
    defs.insert(def(
        "CAT",
        Kind::Categorical,
        BucketLayout::categorical(labels, None).unwrap(),
        "",
    ));
    let r = answer(&store, &defs, query("F", &[D1], Filter::All));
    assert_eq!(
        (r.kind.as_str(), r.buckets.clone()),
        ("flag", nums(&[0, 1]))
    );
    assert_eq!(r.data[0].histogram, vec![0, 3, 0]);

    let r = answer(&store, &defs, query("CAT", &[D1], Filter::All));
    assert_eq!(r.kind, "categorical");
    let names: Vec<Bucket> = ["CommonLabel", "Label2", "Label3", "spill"]
        .iter()
        .map(|s| Bucket::Label(s.to_string()))
        .collect();
    assert_eq!(r.buckets, names);
    assert_eq!(r.data[0].histogram, vec![1, 1, 1, 0]);
    let json = serde_json::to_string(&r.buckets).unwrap();
    assert_eq!(json, r#"["CommonLabel","Label2","Label3","spill"]"#);

    let r = answer(&store, &defs, query("CAT_NODEF", &[D1], Filter::All));
    assert_eq!(
        (r.kind.as_str(), r.buckets.clone()),
        ("categorical", nums(&[0, 1, 2, 3]))
    );
}

#[test]
fn the_layout_with_the_most_histograms_is_served() {
    let store = MemoryStore::new();
    let a = LayoutSpec::exponential(1, 1000, 10).unwrap();
    let b = LayoutSpec::exponential(1, 5000, 20).unwrap();
    write(
        &store,
        D1,
        vec![
            (key("M", "", Process::Parent, "Linux"), hist(a, &[1], 1, 2)),
            (key("M", "", Process::Parent, "Darwin"), hist(b, &[1], 1, 3)),
        ],
    );
    write(
        &store,
        D2,
        vec![(key("M", "", Process::Parent, "Linux"), hist(a, &[1], 1, 2))],
    );
    let r = answer(
        &store,
        &Definitions::new(),
        query("M", &[D1, D2], Filter::All),
    );
    assert_eq!(r.buckets.len(), 10, "layout a has 4 histograms, b has 3");
    assert_eq!(r.data.len(), 2);
    assert!(r
        .data
        .iter()
        .all(|p| p.histogram.len() == 10 && p.count == 2));
}

#[test]
fn keyed_metrics_give_one_point_per_date_and_label_in_date_order() {
    let store = MemoryStore::new();
    for d in [D1, D2] {
        write(
            &store,
            d,
            vec![
                (
                    key("SCALARS_K", "FIRST", Process::Parent, "Linux"),
                    scalar(42, 1),
                ),
                (
                    key("SCALARS_K", "SECOND", Process::Parent, "Linux"),
                    scalar(42, 1),
                ),
            ],
        );
    }
    let defs = Definitions::new();
    let r = answer(&store, &defs, query("SCALARS_K", &[D2, D1], Filter::All));
    let got: Vec<(String, &str)> = r
        .data
        .iter()
        .map(|p| (p.date.to_string(), p.label.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (D2.to_string(), "FIRST"),
            (D2.to_string(), "SECOND"),
            (D1.to_string(), "FIRST"),
            (D1.to_string(), "SECOND")
        ]
    );
    let f = Filter::eq(Dimension::Label, "SECOND");
    let r = answer(&store, &defs, query("SCALARS_K", &[D1, D2], f));
    assert_eq!(r.data.len(), 2);
}

#[test]
fn use_counters_are_composed_with_their_denominator() {
    let store = MemoryStore::new();
    let boolean = LayoutSpec::boolean();
    // D1: counter and both denominators; D2: denominators only.
    write(
        &store,
        D1,
        vec![
            (
                content("USE_COUNTER2_X_PAGE"),
                hist(boolean, &[0, 640, 0], 640, 320),
            ),
            (
                content("USE_COUNTER2_X_DOCUMENT"),
                hist(boolean, &[0, 320, 0], 320, 320),
            ),
            (
                content("[[COUNT]]_TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED"),
                scalar(19, 320),
            ),
            (
                content("[[COUNT]]_CONTENT_DOCUMENTS_DESTROYED"),
                scalar(17, 320),
            ),
        ],
    );
    write(
        &store,
        D2,
        vec![
            (
                content("[[COUNT]]_TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED"),
                scalar(19, 10),
            ),
            (
                content("[[COUNT]]_CONTENT_DOCUMENTS_DESTROYED"),
                scalar(17, 10),
            ),
        ],
    );
    let defs = Definitions::new();
    let r = answer(
        &store,
        &defs,
        query("USE_COUNTER2_X_PAGE", &[D1, D2], Filter::All),
    );
    assert_eq!(
        (r.kind.as_str(), r.buckets.clone()),
        ("boolean", nums(&[0, 1, 2]))
    );
    assert_eq!(r.data[0].histogram, vec![19 * 320 - 640, 640, 0]);
    assert_eq!((r.data[0].sum, r.data[0].count), (640, 320));
    // Counter missing on D2: [den_sum, 0, 0], sum 0, count = den count.
    assert_eq!(r.data[1].histogram, vec![190, 0, 0]);
    assert_eq!(
        (r.data[1].sum, r.data[1].count, r.data[1].label.as_str()),
        (0, 10, "")
    );

    let r = answer(
        &store,
        &defs,
        query("USE_COUNTER2_X_DOCUMENT", &[D1], Filter::All),
    );
    assert_eq!(r.data[0].histogram, vec![17 * 320 - 320, 320, 0]);

    // A counter that never appears: the denominator alone.
    let r = answer(
        &store,
        &defs,
        query("USE_COUNTER2_ABSENT_DOCUMENT", &[D1], Filter::All),
    );
    assert_eq!(r.data[0].histogram, vec![17 * 320, 0, 0]);
    assert_eq!((r.data[0].sum, r.data[0].count), (0, 320));

    // The same filter applies to the denominator: nothing on Darwin at all → not found.
    let f = Filter::eq(Dimension::Os, "Darwin");
    assert!(query("USE_COUNTER2_X_PAGE", &[D1], f)
        .run(&store, &defs)
        .unwrap()
        .is_none());
}

#[test]
fn use_counter_arithmetic_saturates() {
    let store = MemoryStore::new();
    let boolean = LayoutSpec::boolean();
    write(
        &store,
        D1,
        vec![
            (
                content("USE_COUNTER2_Y_PAGE"),
                hist(boolean, &[0, 50, 60], 110, 5),
            ),
            (
                content("[[COUNT]]_TOP_LEVEL_CONTENT_DOCUMENTS_DESTROYED"),
                scalar(10, 1),
            ),
        ],
    );
    let r = answer(
        &store,
        &Definitions::new(),
        query("USE_COUNTER2_Y_PAGE", &[D1], Filter::All),
    );
    assert_eq!(r.data[0].histogram, vec![0, 50, 60]);
    // Only the counter, no denominator: served as it is.
    let store = MemoryStore::new();
    write(
        &store,
        D1,
        vec![(
            content("USE_COUNTER2_Z_PAGE"),
            hist(boolean, &[1, 2, 3], 5, 6),
        )],
    );
    let r = answer(
        &store,
        &Definitions::new(),
        query("USE_COUNTER2_Z_PAGE", &[D1], Filter::All),
    );
    assert_eq!(r.data[0].histogram, vec![1, 2, 3]);
    assert_eq!((r.data[0].sum, r.data[0].count), (5, 6));
}

#[test]
fn api_filter_options() {
    let mut o = FilterOptions::default();
    for m in ["GC_MS", "[[COUNT]]_GC_MS", "SEARCH_COUNTS", "SCALARS_X"] {
        o.metric.insert(m.into());
    }
    let api = ApiFilterOptions::from_options(&o, |m| m != "SEARCH_COUNTS").unwrap();
    assert_eq!(api.metric, vec!["GC_MS", "SCALARS_X"]);
    assert_eq!(
        serde_json::to_string(&api).unwrap(),
        r#"{"metric":["GC_MS","SCALARS_X"]}"#
    );
    assert!(ApiFilterOptions::from_options(&FilterOptions::default(), |_| true).is_none());
}

//! Parsing the metric routes' query parameters into a filter (docs/api.md): one equality per
//! filter given, OR within a repeated filter, AND across filters.

use mozaggregator_core::filter::{parse_child, FILTER_PARAMS};
use mozaggregator_core::params::{Accepts, MetricParams, ParsedParams};
use mozaggregator_core::{Dimension, Error, Filter, Process, RowDims};

/// The metric route's parsing, as the HTTP API does it.
fn parse<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> mozaggregator_core::Result<Parsed> {
    let p = ParsedParams::from_pairs(pairs, Accepts::METRIC)?;
    Ok(Parsed {
        filter: p.params.filter(),
        unknown: p.unknown,
        params: p.params,
    })
}

#[derive(Debug)]
struct Parsed {
    filter: Filter,
    unknown: Vec<String>,
    params: MetricParams,
}

fn row<'a>(os: &'a str, child: Process, label: &'a str) -> RowDims<'a> {
    RowDims {
        metric: "GC_MS",
        application: "Firefox",
        architecture: "x86-64",
        os,
        os_version: "6.1",
        child,
        label,
    }
}

#[test]
fn no_filter_parameters_match_everything() {
    let p = parse([
        ("metric", "GC_MS"),
        ("version", "42"),
        ("dates", "20150601,20150602"),
    ])
    .unwrap();
    assert_eq!(p.filter, Filter::All);
    assert!(p.unknown.is_empty());
    assert_eq!(p.params.metric.as_deref(), Some("GC_MS"));
    assert_eq!(p.params.version.as_deref(), Some("42"));
    assert_eq!(p.params.dates.as_deref(), Some("20150601,20150602"));
    assert!(p.filter.matches(&row("Linux", Process::Gpu, "x")));
}

#[test]
fn every_filter_parameter_becomes_an_equality() {
    let p = parse([
        ("label", "FIRST"),
        ("osVersion", "6.1"),
        ("child", "gpu"),
        ("os", "Windows_NT"),
        ("architecture", "x86"),
        ("application", "Firefox"),
    ])
    .unwrap();
    let expected = Filter::And(vec![
        Filter::eq(Dimension::Application, "Firefox"),
        Filter::eq(Dimension::Architecture, "x86"),
        Filter::eq(Dimension::Os, "Windows_NT"),
        Filter::eq(Dimension::OsVersion, "6.1"),
        Filter::eq(Dimension::Child, "gpu"),
        Filter::eq(Dimension::Label, "FIRST"),
    ]);
    assert_eq!(p.filter, expected);
    assert!(p.params.metric.is_none() && p.params.version.is_none() && p.params.dates.is_none());
    let nf = p.filter.normal_form();
    assert!(nf.exact);
    assert_eq!(nf.allowed.len(), 6);
}

#[test]
fn single_filter_is_a_plain_equality() {
    let p = parse([("os", "Linux")]).unwrap();
    assert_eq!(p.filter, Filter::eq(Dimension::Os, "Linux"));
    assert!(p.filter.matches(&row("Linux", Process::Parent, "")));
    assert!(!p.filter.matches(&row("Darwin", Process::Parent, "")));
}

#[test]
fn child_accepts_names_and_legacy_booleans() {
    for (value, process) in [
        ("content", Process::Content),
        ("parent", Process::Parent),
        ("gpu", Process::Gpu),
        ("true", Process::Content),
        ("false", Process::Parent),
    ] {
        assert_eq!(parse_child(value).unwrap(), process, "{value}");
        let p = parse([("child", value)]).unwrap();
        assert_eq!(
            p.filter,
            Filter::eq(Dimension::Child, process.as_str()),
            "{value}"
        );
        assert!(p.filter.matches(&row("Linux", process, "")), "{value}");
    }
}

#[test]
fn invalid_child_is_an_error() {
    for value in ["", "True", "extension", "1", "Content"] {
        let err = parse([("child", value)]).unwrap_err();
        assert!(
            matches!(err, Error::Invalid { what: "child", .. }),
            "{value}: {err:?}"
        );
    }
}

#[test]
fn unknown_keys_are_reported_once_in_request_order() {
    let p = parse([
        ("zeta", "1"),
        ("os", "Linux"),
        ("alpha", "2"),
        ("zeta", "3"),
        ("OS", "Darwin"),
        ("channel", "nightly"),
    ])
    .unwrap();
    assert_eq!(p.unknown, ["zeta", "alpha", "OS", "channel"]);
    assert_eq!(p.filter, Filter::eq(Dimension::Os, "Linux"));
    // New routes' parameters are unknown where the route does not take them.
    let labels = ParsedParams::from_pairs([("top", "3"), ("page", "2")], Accepts::LABELS).unwrap();
    assert_eq!(labels.unknown, ["top"]);
    let metric = ParsedParams::from_pairs(
        [("top", "3"), ("page", "2"), ("b.os", "x")],
        Accepts::METRIC,
    )
    .unwrap();
    assert_eq!(metric.unknown, ["page", "b.os"]);
}

#[test]
fn a_repeated_filter_is_an_or_and_other_keys_keep_their_first_value() {
    let p = parse([
        ("os", "Linux"),
        ("os", "Darwin"),
        ("os", "Linux"),
        ("metric", "A"),
        ("metric", "B"),
    ])
    .unwrap();
    assert_eq!(p.filter, Filter::is_in(Dimension::Os, ["Darwin", "Linux"]));
    assert!(p.filter.matches(&row("Darwin", Process::Parent, "")));
    assert!(!p.filter.matches(&row("Windows_NT", Process::Parent, "")));
    assert!(p.filter.normal_form().exact);
    assert_eq!(p.params.metric.as_deref(), Some("A"));
}

#[test]
fn empty_label_selects_unkeyed_series() {
    let p = parse([("label", "")]).unwrap();
    assert!(p.filter.matches(&row("Linux", Process::Parent, "")));
    assert!(!p.filter.matches(&row("Linux", Process::Parent, "FIRST")));
}

#[test]
fn filter_parameters() {
    let names: Vec<&str> = FILTER_PARAMS.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        names,
        [
            "application",
            "architecture",
            "os",
            "osVersion",
            "child",
            "label"
        ]
    );
    for key in ["channel", "osversion", "", "prefix", "Metric"] {
        let p = parse([(key, "x")]).unwrap();
        assert_eq!(p.unknown, [key], "{key}");
    }
}

#[test]
fn side_b_overrides_and_star_removes_a_filter() {
    let p = ParsedParams::from_pairs(
        [
            ("os", "Linux"),
            ("child", "parent"),
            ("b.os", "*"),
            ("b.child", "content"),
            ("b.child", "gpu"),
            ("b.version", "43"),
        ],
        Accepts::COMPARE,
    )
    .unwrap();
    let b = p.params.overridden_by(&p.b);
    assert_eq!(
        b.filter(),
        Filter::is_in(Dimension::Child, ["content", "gpu"])
    );
    assert_eq!(b.version.as_deref(), Some("43"));
    assert_eq!(
        p.params.filter(),
        Filter::eq(Dimension::Os, "Linux").and(Filter::eq(Dimension::Child, "parent"))
    );
}

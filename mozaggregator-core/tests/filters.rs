//! Parsing the metric route's query parameters into a filter (SPEC §5).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use mozaggregator_core::filter::{is_allowed_param, parse_child, FILTER_PARAMS};
use mozaggregator_core::{Dimension, Error, Filter, ParsedFilter, Process, RowDims};

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
    let p = ParsedFilter::from_params([
        ("metric", "GC_MS"),
        ("version", "42"),
        ("dates", "20150601,20150602"),
    ])
    .unwrap();
    assert_eq!(p.filter, Filter::All);
    assert!(p.unknown.is_empty());
    assert_eq!(p.metric.as_deref(), Some("GC_MS"));
    assert_eq!(p.version.as_deref(), Some("42"));
    assert_eq!(p.dates.as_deref(), Some("20150601,20150602"));
    assert!(p.filter.matches(&row("Linux", Process::Gpu, "x")));
}

#[test]
fn every_filter_parameter_becomes_an_equality() {
    let p = ParsedFilter::from_params([
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
    assert!(p.metric.is_none() && p.version.is_none() && p.dates.is_none());
    let nf = p.filter.normal_form();
    assert!(nf.exact);
    assert_eq!(nf.allowed.len(), 6);
}

#[test]
fn single_filter_is_a_plain_equality() {
    let p = ParsedFilter::from_params([("os", "Linux")]).unwrap();
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
        let p = ParsedFilter::from_params([("child", value)]).unwrap();
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
        let err = ParsedFilter::from_params([("child", value)]).unwrap_err();
        assert!(
            matches!(err, Error::Invalid { what: "child", .. }),
            "{value}: {err:?}"
        );
    }
}

#[test]
fn unknown_keys_are_reported_once_in_request_order() {
    let p = ParsedFilter::from_params([
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
}

#[test]
fn first_value_of_a_repeated_key_counts() {
    let p = ParsedFilter::from_params([
        ("os", "Linux"),
        ("os", "Darwin"),
        ("metric", "A"),
        ("metric", "B"),
    ])
    .unwrap();
    assert_eq!(p.filter, Filter::eq(Dimension::Os, "Linux"));
    assert_eq!(p.metric.as_deref(), Some("A"));
}

#[test]
fn empty_label_selects_unkeyed_series() {
    let p = ParsedFilter::from_params([("label", "")]).unwrap();
    assert!(p.filter.matches(&row("Linux", Process::Parent, "")));
    assert!(!p.filter.matches(&row("Linux", Process::Parent, "FIRST")));
}

#[test]
fn allowed_parameters() {
    for key in [
        "application",
        "architecture",
        "os",
        "osVersion",
        "child",
        "label",
        "dates",
        "version",
        "metric",
    ] {
        assert!(is_allowed_param(key), "{key}");
    }
    for key in ["channel", "osversion", "", "prefix", "Metric"] {
        assert!(!is_allowed_param(key), "{key}");
    }
    assert_eq!(FILTER_PARAMS.len(), 6);
}

"""Store: SQLite and memory, channels/dates/filters/query with the HTTP API's rules."""

from __future__ import annotations

import json

import pytest

from mozaggregator import Aggregator, Definitions, QueryResult, Store
from pings import ping


def filled(store):
    agg = Aggregator()
    agg.add_pings([
        ping(),
        ping(**{"application.buildId": "20231231000000",
                "environment.system.os": {"name": "Windows_NT", "version": "10.0"}}),
        ping(**{"application.channel": "beta", "application.version": "119.0"}),
        ping(**{"meta.submissionDate": "20240103"}),
    ])
    agg.write(store)
    return store


@pytest.fixture(params=["memory", "sqlite"])
def store(request, tmp_path):
    if request.param == "memory":
        return filled(Store.memory())
    return filled(Store.open(tmp_path / "aggregates.sqlite"))


def test_channels_and_dates(store):
    assert store.channels("build_id") == ["beta", "nightly"]
    assert store.channels("submission_date") == ["beta", "nightly"]
    assert store.dates("submission_date", "nightly") == [
        {"date": "20240103", "version": "120"}, {"date": "20240102", "version": "120"}]
    assert store.dates("build_id", "nightly") == [
        {"date": "20240101", "version": "120"}, {"date": "20231231", "version": "120"}]
    assert store.dates("build_id", "aurora") == []


def test_filters_as_the_api_serves_them(store):
    f = store.filters("nightly", "120")
    assert f["os"] == ["Linux,6.5", "Windows_NT,10.0"]
    assert f["child"] == ["parent", "content"]
    assert f["application"] == ["Firefox"] and f["architecture"] == ["x86-64"]
    assert "TAB_COUNT" in f["metric"] and "[[COUNT]]_TAB_COUNT" not in f["metric"]
    assert "GC_MS" in f["metric"]
    assert store.filters("nightly", "99") is None


def test_query_merges_matching_series(store):
    q = store.query("build_id", "nightly", "120", ["20240101", "20231231"], "GC_MS")
    assert isinstance(q, QueryResult)
    assert q.kind == "exponential" and q.description == "" and q.metric == "GC_MS"
    assert q.buckets[:10] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 10]
    by_date = {d["date"]: d for d in q.data}
    assert [d["date"] for d in q.data] == ["20240101", "20231231"]
    # 20240101: two pings (submission dates 02 and 03), parent + content each
    assert by_date["20240101"]["count"] == 4 and by_date["20240101"]["sum"] == 2 * (28 + 1)
    assert by_date["20231231"]["count"] == 2
    assert list(q.data[0]) == ["date", "label", "count", "sum", "histogram"]
    parent = store.query("build_id", "nightly", "120", "20240101", "GC_MS", child="parent")
    assert parent.data[0]["count"] == 2 and parent.data[0]["histogram"][9] == 4
    legacy = store.query("build_id", "nightly", "120", "20240101", "GC_MS", child="false")
    assert legacy.data == parent.data
    linux = store.query("build_id", "nightly", "120", "20240101,20231231", "GC_MS", os="Linux")
    assert [d["date"] for d in linux.data] == ["20240101"]
    both = store.query("build_id", "nightly", "120", ["20240101", "20231231"], "GC_MS",
                       os=["Linux", "Windows_NT"], osVersion=["6.5", "10.0"])
    assert both.data == q.data


def test_query_serves_count_histograms_scalars_and_labels(store):
    count = store.query("submission_date", "nightly", "120", ["20240102"], "TAB_COUNT")
    assert count.kind == "count"
    assert count.data[0]["sum"] == 2 * 42
    assert count.buckets[count.data[0]["histogram"].index(2)] == 40
    scalar = store.query("submission_date", "nightly", "120", ["20240102"],
                         "SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT")
    assert scalar.kind == "exponential" and scalar.data[0]["sum"] == 6
    keyed = store.query("submission_date", "nightly", "120", ["20240102"], "SEARCH_DURATION")
    assert [d["label"] for d in keyed.data] == ["google"]
    assert store.query("submission_date", "nightly", "120", ["20240102"], "SEARCH_DURATION",
                       label="google").data == keyed.data


def test_query_errors(store):
    with pytest.raises(KeyError):
        store.query("build_id", "nightly", "120", ["20240101"], "NO_SUCH_METRIC")
    with pytest.raises(KeyError):
        store.query("build_id", "nightly", "120", ["19990101"], "GC_MS")
    with pytest.raises(ValueError):
        store.query("build_id", "nightly", "120", ["20240101"], "GC_MS", colour="red")
    with pytest.raises(ValueError):
        store.query("builds", "nightly", "120", ["20240101"], "GC_MS")
    with pytest.raises(ValueError):
        store.channels("by_build")
    with pytest.raises(TypeError):
        store.query("build_id", "nightly", "120", ["20240101"], "GC_MS", os=5)


def test_to_dict_is_the_wire_format(store):
    q = store.query("build_id", "nightly", "120", ["20240101"], "GC_MS")
    d = q.to_dict()
    assert list(d) == ["buckets", "kind", "description", "data"]
    assert json.loads(json.dumps(d)) == d
    assert "GC_MS" in repr(q)


def test_definitions_give_descriptions_and_categorical_labels(tmp_path):
    defs_file = tmp_path / "Histograms.json"
    defs_file.write_text(json.dumps({
        "GC_MS": {"kind": "exponential", "low": 1, "high": 10000, "n_buckets": 50,
                  "description": "Time spent running JS GC (ms)"},
        "TAB_COUNT": {"kind": "count", "description": "Tabs"},
        "SEARCH_DURATION": {"kind": "categorical", "labels": ["a", "b", "c"],
                            "keyed": True, "description": "labels"},
    }))
    defs = Definitions(defs_file)
    agg = Aggregator()
    agg.add_ping(ping(**{"payload.keyedHistograms.SEARCH_DURATION.google": {
        "histogram_type": 5, "range": [1, 50], "bucket_count": 51, "sum": 3,
        "values": {"0": 2, "2": 1, "3": 4}}}))
    store = Store.open(tmp_path / "s.sqlite", definitions=defs)
    agg.write(store)
    q = store.query("build_id", "nightly", "120", ["20240101"], "GC_MS")
    assert q.description == "Time spent running JS GC (ms)"
    assert store.query("build_id", "nightly", "120", ["20240101"], "TAB_COUNT").description == "Tabs"
    cat = store.query("build_id", "nightly", "120", ["20240101"], "SEARCH_DURATION")
    assert cat.kind == "categorical" and cat.buckets == ["a", "b", "c", "spill"]
    assert cat.data[0]["histogram"] == [2, 0, 1, 4]
    # without definitions the same rows are served over their stored layout
    plain = Store.open(tmp_path / "s.sqlite")
    assert plain.query("build_id", "nightly", "120", ["20240101"], "GC_MS").description == ""


def test_sqlite_store_persists(tmp_path):
    path = tmp_path / "persist.sqlite"
    filled(Store.open(path))
    again = Store.open(str(path))
    assert again.channels("build_id") == ["beta", "nightly"]
    assert "persist.sqlite" in repr(again)


def test_memory_store_starts_empty():
    s = Store.memory()
    assert s.channels("submission_date") == []
    assert s.dates("submission_date", "nightly") == []
    assert repr(s) == 'Store(":memory:")'


def test_export_rows_select_tables(store):
    rows = store.export()
    assert rows and {r["prefix"] for r in rows} == {"build_id", "submission_date"}
    beta = store.export(channel="beta")
    assert beta and {r["channel"] for r in beta} == {"beta"}
    assert store.export("build_id", "nightly", "120") == [
        r for r in rows if (r["prefix"], r["channel"], r["version"]) == ("build_id", "nightly", "120")]
    assert store.export(version="99") == []
    with pytest.raises(ValueError):
        store.export("bogus")

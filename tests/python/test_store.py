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
    defs = Definitions(histograms=defs_file)
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
    assert store.export("build_id", channel="nightly", version="120") == [
        r for r in rows if (r["prefix"], r["channel"], r["version"]) == ("build_id", "nightly", "120")]
    assert store.export(version="99") == []
    with pytest.raises(ValueError):
        store.export("bogus")


# --- issue 16: malformed dates, versions as numbers, ergonomics --------------------------------


@pytest.mark.parametrize("bad", [["banana"], ["2024-01-13"], "banana", "20240101,2024-01-13",
                                 ["20241301"]])
def test_a_malformed_date_is_a_value_error_naming_it(store, bad):
    with pytest.raises(ValueError) as e:
        store.query("submission_date", "nightly", "120", bad, "GC_MS")
    named = [d for d in (bad if isinstance(bad, list) else bad.split(",")) if d != "20240101"][0]
    assert named in str(e.value)


def test_dates_list_higher_versions_first_as_numbers(tmp_path):
    for s in (Store.memory(), Store.open(tmp_path / "v.sqlite")):
        agg = Aggregator()
        agg.add_pings([ping(**{"application.version": f"{v}.0"}) for v in (47, 48, 123, 124)])
        agg.write(s)
        assert [d["version"] for d in s.dates("submission_date", "nightly")] == [
            "124", "123", "48", "47"]
        # the notebook idiom picks the highest version
        assert s.dates("submission_date", "nightly")[0]["version"] == "124"


def test_int_versions_and_date_objects_are_accepted(store):
    import datetime

    by_str = store.query("build_id", "nightly", "120", ["20240101"], "GC_MS").data
    assert store.query("build_id", "nightly", 120, [datetime.date(2024, 1, 1)], "GC_MS").data \
        == by_str
    assert store.query("build_id", "nightly", 120, datetime.date(2024, 1, 1), "GC_MS").data \
        == by_str
    assert store.query("build_id", "nightly", 120,
                       [datetime.datetime(2024, 1, 1, 12, 0)], "GC_MS").data == by_str
    assert store.filters("nightly", 120) == store.filters("nightly", "120")
    with pytest.raises(TypeError):
        store.query("build_id", "nightly", 120.5, ["20240101"], "GC_MS")
    with pytest.raises(TypeError):
        store.query("build_id", "nightly", "120", [20240101], "GC_MS")


def test_os_values_from_filters_are_accepted_back(store):
    os_values = store.filters("nightly", "120")["os"]
    assert os_values == ["Linux,6.5", "Windows_NT,10.0"]
    dates = ["20240101", "20231231"]
    whole = {(d["date"], d["count"]) for d in store.query("build_id", "nightly", "120", dates,
                                                            "GC_MS").data}
    for value in os_values:
        by_pair = store.query("build_id", "nightly", "120", dates, "GC_MS", os=value).data
        by_name = store.query("build_id", "nightly", "120", dates, "GC_MS",
                              os=value.split(",")[0]).data
        assert by_pair == by_name and by_pair
    both = store.query("build_id", "nightly", "120", dates, "GC_MS", os=os_values).data
    assert {(d["date"], d["count"]) for d in both} == whole
    with pytest.raises(KeyError):
        store.query("build_id", "nightly", "120", dates, "GC_MS", os="Linux,99")


def test_close_and_context_manager(tmp_path):
    path = tmp_path / "c.sqlite"
    with Store.open(path) as s:
        filled(s)
        assert not s.closed
        assert s.channels("build_id") == ["beta", "nightly"]
    assert s.closed and "closed" in repr(s)
    with pytest.raises(ValueError, match="closed"):
        s.channels("build_id")
    agg = Aggregator()
    agg.add_ping(ping())
    with pytest.raises(ValueError, match="closed"):
        agg.write(s)
    s.close()  # twice is fine
    m = Store.memory()
    m.close()
    with pytest.raises(ValueError, match="closed"):
        m.dates("build_id", "nightly")
    with pytest.raises(ValueError, match="closed"):
        with m:
            pass
    # the file is released: it can be removed and created anew
    path.unlink()
    assert Store.open(path).channels("build_id") == []


def test_open_in_a_missing_directory_names_the_errno(tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "a.sqlite"
    with pytest.raises(FileNotFoundError) as e:
        Store.open(missing)
    assert e.value.errno == 2
    assert "Errno None" not in str(e.value) and "[Errno 2]" in str(e.value)
    assert str(missing) in str(e.value)

"""The Aggregator: pings in (str, bytes, dict), report, aggregates, merge, pickle, write."""

from __future__ import annotations

import json
import pickle

import pytest

import mozaggregator
from mozaggregator import Aggregator, Store
from pings import ping

EXPORT_FIELDS = [
    "prefix", "channel", "version", "date", "metric", "label", "process", "application",
    "architecture", "os", "os_version", "kind", "buckets", "histogram", "sum", "count",
]


def series(agg, prefix):
    return {(r["metric"], r["label"], r["process"]): r for r in agg.aggregates(prefix)}


def test_one_ping_gives_both_families_with_the_export_fields():
    agg = Aggregator()
    agg.add_ping(ping())
    rows = agg.aggregates()
    assert rows and all(list(r) == EXPORT_FIELDS for r in rows)
    assert {r["prefix"] for r in rows} == {"build_id", "submission_date"}
    build = series(agg, "build_id")
    sub = series(agg, "submission_date")
    assert set(build) == set(sub)
    gc = build[("GC_MS", "", "parent")]
    assert (gc["channel"], gc["version"], gc["date"]) == ("nightly", "120", "20240101")
    assert sub[("GC_MS", "", "parent")]["date"] == "20240102"
    assert (gc["application"], gc["architecture"], gc["os"], gc["os_version"]) == (
        "Firefox", "x86-64", "Linux", "6.5")
    assert gc["buckets"] == mozaggregator.exponential_buckets(1, 10000, 50)
    assert gc["histogram"][8] == 1 and gc["histogram"][9] == 2 and sum(gc["histogram"]) == 3
    assert (gc["sum"], gc["count"]) == (28, 1)
    content = build[("GC_MS", "", "content")]
    assert (content["histogram"][1], content["sum"]) == (1, 1)
    count = build[("[[COUNT]]_TAB_COUNT", "", "parent")]
    assert count["sum"] == 42 and count["buckets"][count["histogram"].index(1)] == 40
    keyed = build[("SEARCH_DURATION", "google", "parent")]
    assert keyed["buckets"] == mozaggregator.linear_buckets(1, 100, 10)
    uptime = build[("SIMPLE_MEASURES_UPTIME", "", "parent")]
    assert uptime["buckets"][uptime["histogram"].index(1)] == 35
    scalar = build[("SCALARS_BROWSER.ENGAGEMENT.TAB_OPEN_EVENT_COUNT", "", "parent")]
    assert (scalar["sum"], scalar["count"]) == (3, 1)
    assert agg.submission_dates() == ["20240102"]


def test_str_bytes_and_dict_pings_aggregate_alike():
    doc = ping()
    a, b, c = Aggregator(), Aggregator(), Aggregator()
    a.add_ping(doc)
    b.add_ping(json.dumps(doc))
    c.add_ping(json.dumps(doc).encode())
    assert a.aggregates() == b.aggregates() == c.aggregates()
    assert a.report()["pings_used"] == b.report()["pings_used"] == c.report()["pings_used"] == 1


def test_add_pings_equals_add_ping_in_a_loop():
    docs = [ping(**{"application.buildId": f"2024010{d}000000"}) for d in range(1, 8)]
    docs += [json.dumps(d) for d in docs]
    one, many = Aggregator(), Aggregator()
    for d in docs:
        one.add_ping(d)
    many.add_pings(iter(docs))
    assert one.aggregates() == many.aggregates()
    assert one.report() == many.report()
    assert many.report()["pings_used"] == len(docs)
    many.add_pings([])
    assert many.report()["pings_read"] == len(docs)


def test_bad_pings_are_counted_not_raised():
    agg = Aggregator()
    agg.add_pings(["not json", b"\xff\xfe", "[1, 2]", {"application": {}},
                   ping(**{"application.channel": "esr"})])
    report = agg.report()
    assert report["pings_read"] == 5 and report["pings_used"] == 0
    assert report["pings_rejected"]["invalid_json"] == 1
    assert report["pings_rejected"]["invalid_utf8"] == 1
    assert sum(report["pings_rejected"].values()) == 5
    assert agg.aggregates() == []


def test_a_ping_of_another_type_is_a_type_error():
    agg = Aggregator()
    for bad in (5, None, [ping()], 3.5):
        with pytest.raises(TypeError):
            agg.add_ping(bad)
    with pytest.raises(TypeError):
        agg.add_pings([ping(), 7])
    with pytest.raises(TypeError):
        agg.add_pings(42)


def test_options_channels_and_submission_date():
    only_beta = Aggregator(channels=["beta"])
    only_beta.add_pings([ping(), ping(**{"application.channel": "beta"})])
    assert only_beta.report()["pings_used"] == 1
    assert only_beta.report()["pings_rejected"] == {"channel_not_selected": 1}
    assert {r["channel"] for r in only_beta.aggregates()} == {"beta"}

    dated = Aggregator(submission_date="20240305")
    no_meta = ping(meta=None)
    dated.add_pings([no_meta, ping()])
    assert dated.report()["pings_used"] == 1
    assert dated.report()["pings_rejected"] == {"other_submission_date": 1}
    assert dated.submission_dates() == ["20240305"]

    undated = Aggregator()
    undated.add_ping(no_meta)
    assert undated.report()["pings_rejected"] == {"missing_submission_date": 1}

    full = Aggregator(full_os_version=True)
    full.add_ping(ping())
    assert {r["os_version"] for r in full.aggregates()} == {"6.5.0"}


def test_options_versions_keep_those_major_versions_and_count_the_others():
    pings = [ping(**{"application.version": v}) for v in ["121.0", "122.0b3", "121.0.1", "9.0"]]
    some = Aggregator(versions=["121", "9"])
    some.add_pings(pings)
    assert some.report()["pings_used"] == 3
    assert some.report()["pings_rejected"] == {"version_not_selected": 1}
    assert {r["version"] for r in some.aggregates()} == {"121", "9"}
    every = Aggregator()
    every.add_pings(pings)
    assert every.report()["pings_used"] == 4
    # the selection survives pickling, as Spark moves aggregators
    back = pickle.loads(pickle.dumps(some))
    back.add_ping(ping(**{"application.version": "122.0"}))
    assert back.report()["pings_rejected"] == {"version_not_selected": 2}


@pytest.mark.parametrize("kwargs, words", [
    ({"channels": ["esr"]}, "`esr` is not one of nightly, aurora, beta, release"),
    ({"channels": []}, "no channel given"),
    ({"versions": []}, "no version given"),
    ({"versions": ["121.0"]}, "`121.0` is not a major version: give `121`"),
    ({"submission_date": "2024-01-02"}, "not a YYYYMMDD date"),
    ({"submission_date": "20150231"}, "not a YYYYMMDD date"),
    ({"prefer_definitions": True}, "no definitions to prefer"),
])
def test_bad_options_are_value_errors(kwargs, words):
    # The core's Options::validate, the same rule and words as the CLI's.
    with pytest.raises(ValueError, match=words):
        Aggregator(**kwargs)


def test_merge_equals_aggregating_everything_at_once():
    docs = [ping(**{"application.buildId": f"2024010{d}000000",
                    "payload.simpleMeasurements.uptime": d * 10}) for d in range(1, 9)]
    whole = Aggregator()
    whole.add_pings(docs)
    a, b, c = Aggregator(), Aggregator(), Aggregator()
    a.add_pings(docs[:3])
    b.add_pings(docs[3:5])
    c.add_pings(docs[5:])
    c.merge(b)
    a.merge(c)
    assert a.aggregates() == whole.aggregates()
    assert a.report() == whole.report()
    # the merged-in aggregator is unchanged
    assert b.report()["pings_used"] == 2
    # merging the empty aggregator changes nothing; merging with itself doubles
    a.merge(Aggregator())
    assert a.aggregates() == whole.aggregates()
    a.merge(a)
    assert [r["count"] for r in a.aggregates()] == [2 * r["count"] for r in whole.aggregates()]


def test_pickle_round_trip_keeps_aggregates_report_and_options():
    agg = Aggregator(channels=["nightly"], submission_date="20240102", full_os_version=True)
    agg.add_pings([ping(), "garbage"])
    back = pickle.loads(pickle.dumps(agg))
    assert type(back) is Aggregator
    assert back.aggregates() == agg.aggregates()
    assert back.report() == agg.report()
    back.add_ping(ping(**{"application.channel": "beta"}))
    assert back.report()["pings_rejected"]["channel_not_selected"] == 1
    assert {r["os_version"] for r in back.aggregates()} == {"6.5.0"}
    assert Aggregator.from_bytes(agg.to_bytes()).aggregates() == agg.aggregates()


def test_from_bytes_rejects_garbage():
    with pytest.raises(ValueError):
        Aggregator.from_bytes(b"definitely not aggregates")


def test_write_into_a_store_and_idempotence():
    agg = Aggregator()
    agg.add_pings([ping(), ping()])
    store = Store.memory()
    first = agg.write(store)
    n = len(agg.aggregates())
    assert first["rows_written"] == n and first["targets_written"] == 2
    assert first["targets_skipped"] == [] and first["rows_rejected"] == {}
    assert agg.report()["series_written"] == n
    again = agg.write(store)
    assert again["rows_written"] == 0 and len(again["targets_skipped"]) == 2
    q = store.query("submission_date", "nightly", "120", ["20240102"], "GC_MS", child="parent")
    assert q.data[0]["count"] == 2 and q.data[0]["sum"] == 56


def test_a_write_on_more_threads_stores_what_one_thread_stores():
    agg = Aggregator()
    agg.add_pings([ping(), ping(), ping(**{"application.channel": "beta"})])
    stores = {}
    for threads in (1, 2, 0):
        copy = Aggregator.from_bytes(agg.to_bytes())
        stores[threads] = Store.memory()
        written = copy.write(stores[threads], threads=threads)
        assert written["rows_written"] == len(agg.aggregates()) > 0
        assert copy.report()["series_written"] == written["rows_written"]
    rows = {t: list(s.export()) for t, s in stores.items()}
    assert rows[2] == rows[1] and rows[0] == rows[1] and len(rows[1]) > 0
    with pytest.raises((ValueError, OverflowError, TypeError)):
        agg.write(Store.memory(), threads=-1)


def test_rows_a_store_refuses_are_counted():
    agg = Aggregator()
    agg.add_ping(ping(**{"payload.histograms.BAD NAME": BASE_GC()}))
    names = {r["metric"] for r in agg.aggregates()}
    assert "BAD NAME" not in names
    written = agg.write(Store.memory())
    assert written["rows_rejected"] == {"bad_metric_name": 2}


def BASE_GC():
    return {"histogram_type": 0, "range": [1, 10000], "bucket_count": 50, "sum": 1,
            "values": {"1": 1}}


def test_prefer_definitions_uses_the_definition_layout(tmp_path):
    defs_file = tmp_path / "Histograms.json"
    defs_file.write_text(json.dumps({"GC_MS": {
        "kind": "exponential", "low": 1, "high": 1000, "n_buckets": 20,
        "description": "GC time"}}))
    defs = mozaggregator.Definitions(histograms=defs_file)
    by_ping, by_defs = Aggregator(definitions=defs), Aggregator(definitions=defs,
                                                                 prefer_definitions=True)
    by_ping.add_ping(ping())
    by_defs.add_ping(ping())
    gc_ping = series(by_ping, "build_id")[("GC_MS", "", "parent")]
    gc_defs = series(by_defs, "build_id")[("GC_MS", "", "parent")]
    assert gc_ping["buckets"] == mozaggregator.exponential_buckets(1, 10000, 50)
    assert gc_defs["buckets"] == mozaggregator.exponential_buckets(1, 1000, 20)
    # definitions survive pickling (reloaded from their file)
    back = pickle.loads(pickle.dumps(by_defs))
    back.add_ping(ping())
    assert series(back, "build_id")[("GC_MS", "", "parent")]["count"] == 2


def test_repr_mentions_counts():
    agg = Aggregator()
    agg.add_ping(ping())
    assert "1 pings used of 1 read" in repr(agg)

"""Mobile-metrics pings (``doc_type="mobile_metrics"``): the CLI and the Python module make the
same rows, the shared sample ping makes the rows its metrics say (with its rejects), the
aggregator pickles with its doc type, and mobile rows stay out of desktop reads."""

from __future__ import annotations

import json
import pickle

import pytest

from conftest import counters
from mozaggregator import Aggregator, Store


def test_the_cli_job_used_every_generated_ping_and_rejected_the_bad_ones(mobile_run):
    report = mobile_run.report
    assert report["pings_used"] == 300
    assert report["pings_rejected"] == {"invalid_json": 1, "missing_channel": 1}
    assert report["histograms_rejected"] == {} and report["scalars_rejected"] == {}
    rows = mobile_run.rows
    assert rows and all(r["prefix"] == "mobile_metrics" for r in rows)
    assert {r["date"] for r in rows} == {"20240115", "20240116"}
    assert all(r["build_id"].endswith("-GeckoView") for r in rows)
    assert {r["kind"] for r in rows} >= {"sparse", "exponential"}
    # Every ping's measurements are counted once per row key: the counts add up to what the
    # pings hold.
    total = 0
    for path in mobile_run.files[:2]:
        for line in path.read_text().splitlines():
            for sections in json.loads(line)["metrics"].values():
                total += len(sections["histograms"]) + len(sections["scalars"])
                total += sum(len(k) for k in sections["keyedHistograms"].values())
                total += sum(len(k) for k in sections["keyedScalars"].values())
    assert sum(r["count"] for r in rows) == total


def test_python_aggregates_the_same_rows_as_the_cli(mobile_run):
    aggregator = Aggregator(doc_type="mobile_metrics")
    aggregator.add_files([str(p) for p in mobile_run.files])
    # The same pings read, used and rejected (the CLI's report also counts its writes).
    read = {k: v for k, v in counters(aggregator.report()).items() if "written" not in k}
    assert read == {k: v for k, v in counters(mobile_run.report).items() if "written" not in k}
    assert aggregator.aggregates() == mobile_run.rows
    store = Store.memory()
    written = aggregator.write(store)
    assert written["rows_written"] == len(mobile_run.rows)
    assert store.export(doc_type="mobile_metrics") == mobile_run.rows
    assert store.export(doc_type="mobile-metrics", channel="beta") == [
        r for r in mobile_run.rows if r["channel"] == "beta"]
    # Desktop reads never see mobile rows.
    assert store.export() == [] and store.channels("build_id") == []
    # The same write again changes nothing.
    again = Aggregator(doc_type="mobile_metrics")
    again.add_files([str(p) for p in mobile_run.files])
    assert again.write(store)["targets_written"] == 0
    assert Store.open(mobile_run.db).export(doc_type="mobile_metrics") == mobile_run.rows


def test_the_shared_sample_ping_makes_its_rows_and_counts_its_string_scalars(shared_data):
    ping = json.loads((shared_data / "pings" / "mobile-metrics.1.sample.pass.json").read_text())
    ping["meta"] = {"submissionDate": "20240102", "normalizedChannel": "nightly",
                    "appVersion": "68.0a1", "appBuildId": "20190101-GeckoView", "appName": "Fenix"}
    aggregator = Aggregator(doc_type="mobile_metrics")
    aggregator.add_ping(ping)
    report = aggregator.report()
    assert (report["pings_used"], report["scalars_rejected"]) == (1, {"not_numeric": 2})
    rows = {(r["metric"], r["label"], r["process"]): r for r in aggregator.aggregates()}
    assert set(rows) == {
        ("TELEMETRY_TEST_HISTOGRAM", "", "engine"),
        ("TELEMETRY_TEST_KEYED_HISTOGRAM", "key1", "engine"),
        ("TELEMETRY_TEST_KEYED_HISTOGRAM", "key2", "engine"),
        ("SCALARS_TELEMETRY_TEST_SCALAR.UINT_KIND", "", "engine"),
        ("SCALARS_TELEMETRY_TEST_SCALAR.KEYED_UINT_KIND", "KEY1", "engine"),
        ("SCALARS_TELEMETRY_TEST_SCALAR.KEYED_UINT_KIND", "KEY2", "engine"),
        ("SCALARS_SESSIONS.COUNT", "", "application"),
        ("SCALARS_SESSIONS.TOTAL_TIME", "", "application"),
    }
    h = rows[("TELEMETRY_TEST_HISTOGRAM", "", "engine")]
    assert (h["buckets"], h["histogram"], h["sum"], h["count"]) == ([10, 15], [2, 1], 38, 1)
    assert h["kind"] == "sparse" and h["build_id"] == "20190101-GeckoView"
    assert rows[("SCALARS_SESSIONS.TOTAL_TIME", "", "application")]["sum"] == 422
    empty = rows[("TELEMETRY_TEST_KEYED_HISTOGRAM", "key2", "engine")]
    assert (empty["count"], empty["sum"], empty["histogram"]) == (1, 0, [])


def test_the_aggregator_pickles_with_its_doc_type_and_merges(mobile_run):
    a = Aggregator(doc_type="mobile_metrics")
    a.add_files([str(mobile_run.files[0])])
    state = a.__reduce__()[1][0]
    assert state[0] == 4 and state[-1] == "mobile_metrics"
    b = pickle.loads(pickle.dumps(a))
    assert b.aggregates() == a.aggregates()
    c = Aggregator(doc_type="mobile_metrics")
    c.add_files([str(mobile_run.files[1]), str(mobile_run.files[2])])
    b.merge(pickle.loads(pickle.dumps(c)))
    assert b.aggregates() == mobile_run.rows
    assert b.report()["pings_used"] == 300
    restored = Aggregator.from_bytes(b.to_bytes(), doc_type="mobile_metrics")
    assert restored.aggregates() == mobile_run.rows


def test_mobile_options_that_cannot_work_are_value_errors():
    with pytest.raises(ValueError, match="doc_type"):
        Aggregator(doc_type="crash")
    with pytest.raises(ValueError, match="mobile_metrics"):
        Aggregator(doc_type="mobile_metrics", replicates=10)
    with pytest.raises(ValueError, match="prefix"):
        Store.memory().export("build_id", doc_type="mobile_metrics")
    with pytest.raises(ValueError, match="prefix"):
        Aggregator(doc_type="mobile_metrics").aggregates("build_id")


def test_pandas_frames_of_mobile_rows_keep_the_build_id(mobile_run):
    pytest.importorskip("pandas", reason="pandas is not installed")
    frame = Store.open(mobile_run.db).to_pandas(doc_type="mobile_metrics")
    assert list(frame.columns[:5]) == ["prefix", "channel", "version", "date", "build_id"]
    assert len(frame) == len(mobile_run.rows)
    assert frame["build_id"].tolist() == [r["build_id"] for r in mobile_run.rows]

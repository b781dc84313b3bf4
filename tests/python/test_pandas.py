"""pandas helpers, and that pandas and pyspark are optional."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mozaggregator import Aggregator, Store
from pings import ping

pd = pytest.importorskip("pandas")


def test_aggregates_to_pandas():
    agg = Aggregator()
    agg.add_pings([ping(), ping()])
    df = agg.to_pandas()
    assert list(df.columns) == ["prefix", "channel", "version", "date", "metric", "label",
                                "process", "application", "architecture", "os", "os_version",
                                "kind", "buckets", "histogram", "sum", "count"]
    assert len(df) == len(agg.aggregates())
    sub = agg.to_pandas("submission_date")
    assert set(sub["prefix"]) == {"submission_date"}
    gc = sub[(sub.metric == "GC_MS") & (sub.process == "parent")].iloc[0]
    assert (gc["sum"], gc["count"]) == (56, 2)


def test_store_to_pandas(tmp_path):
    agg = Aggregator()
    agg.add_pings([ping(), ping(**{"application.channel": "beta"})])
    store = Store.open(tmp_path / "s.sqlite")
    agg.write(store)
    df = store.to_pandas("build_id", channel="beta")
    assert set(df["channel"]) == {"beta"} and set(df["prefix"]) == {"build_id"}
    assert len(df) == len(store.export("build_id", channel="beta"))
    assert len(store.to_pandas()) == len(agg.aggregates())


def test_query_to_pandas():
    agg = Aggregator()
    agg.add_pings([ping(), ping(**{"meta.submissionDate": "20240103"})])
    store = Store.memory()
    agg.write(store)
    q = store.query("submission_date", "nightly", "120", ["20240102", "20240103"], "GC_MS")
    df = q.to_pandas()
    assert list(df.columns[:4]) == ["date", "label", "count", "sum"]
    assert list(df.columns[4:]) == q.buckets
    assert list(df["date"]) == ["20240102", "20240103"]
    assert df.loc[0, 10] == q.data[0]["histogram"][9]


def test_without_pandas_and_pyspark():
    code = r"""
import sys
sys.modules["pandas"] = None
sys.modules["pyspark"] = None
import mozaggregator, mozaggregator.spark
agg = mozaggregator.Aggregator()
try:
    agg.to_pandas()
except ImportError as e:
    print("pandas:", e)
try:
    mozaggregator.spark.aggregate(None)
except ImportError as e:
    print("spark:", e)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("pandas:") and "pip install" in lines[0]
    assert lines[1].startswith("spark:") and "pip install" in lines[1]

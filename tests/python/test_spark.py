"""PySpark: aggregating an RDD (or a DataFrame column) in local[2] mode equals aggregating the
same pings in one process."""

from __future__ import annotations

import json
import os
import sys
import time

import pytest

from conftest import counters, require_java
from mozaggregator import Aggregator, Store
from mozaggregator import spark as mzs
from pings import ping

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed")


@pytest.fixture(scope="module")
def session():
    from pyspark.sql import SparkSession

    require_java()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    started = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("mozaggregator-tests")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.driver.memory", "1g")
        .config("spark.python.worker.reuse", "true")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    print(f"\nspark session started in {time.perf_counter() - started:.1f} s")
    yield spark
    spark.stop()


def varied_pings(n):
    out = []
    for i in range(n):
        out.append(ping(**{
            "application.buildId": f"202401{i % 5 + 1:02d}000000",
            "application.channel": ["nightly", "beta", "release"][i % 3],
            "meta.submissionDate": f"2024010{i % 2 + 6}",
            "payload.simpleMeasurements.uptime": i,
            "payload.histograms.GC_MS.sum": i,
        }))
    return out


def test_rdd_aggregation_equals_local(session):
    docs = [json.dumps(p) for p in varied_pings(400)] + ["not json", "{}"]
    local = Aggregator()
    local.add_pings(docs)
    rdd = session.sparkContext.parallelize(docs, 7)
    started = time.perf_counter()
    result = mzs.aggregate(rdd)
    print(f"\nspark aggregate of {len(docs)} pings in 7 partitions: "
          f"{time.perf_counter() - started:.1f} s")
    assert isinstance(result, Aggregator)
    assert result.aggregates() == local.aggregates()
    assert result.report() == local.report()
    assert result.report()["pings_rejected"] == local.report()["pings_rejected"] != {}


def test_spark_job_equals_the_cli(session, cli_run):
    """The same generated pings, aggregated by a Spark job and by `mozaggregator aggregate`."""
    lines = [line for f in cli_run.files for line in f.read_text().splitlines()]
    rdd = session.sparkContext.parallelize(lines, 4)
    started = time.perf_counter()
    result = mzs.aggregate(rdd)
    print(f"\nspark aggregate of {len(lines)} generated pings: "
          f"{time.perf_counter() - started:.1f} s")
    assert result.aggregates() == cli_run.rows
    result.write(Store.memory())
    files = {"files_read", "input_bytes"}  # an RDD of strings reads no files
    assert {k: v for k, v in counters(result.report()).items() if k not in files} == {
        k: v for k, v in counters(cli_run.report).items() if k not in files}
    from_files = mzs.aggregate_files(session.sparkContext, cli_run.files)
    assert from_files.aggregates() == cli_run.rows
    from_files.write(Store.memory())
    assert counters(from_files.report()) == counters(cli_run.report)


def test_dataframe_column_and_options(session):
    docs = [json.dumps(p) for p in varied_pings(60)]
    df = session.createDataFrame([(d, i) for i, d in enumerate(docs)], ["ping", "n"])
    local = Aggregator(channels=["beta"], submission_date="20240106")
    local.add_pings(docs)
    result = mzs.aggregate(df, column="ping", channels=["beta"], submission_date="20240106")
    assert result.aggregates() == local.aggregates()
    assert result.report()["pings_used"] == local.report()["pings_used"] > 0
    with pytest.raises(ValueError):
        mzs.aggregate(df)
    with pytest.raises(ValueError):
        mzs.aggregate(df, column="ping", channels=["esr"])


def test_versions_option_reaches_every_partition(session):
    mixed = [json.dumps(ping(**{"application.version": v}))
             for v in ["120.0a1", "121.0", "121.0b2"] * 4]
    local = Aggregator(versions=["121"])
    local.add_pings(mixed)
    result = mzs.aggregate(session.sparkContext.parallelize(mixed, 3), versions=["121"])
    assert result.aggregates() == local.aggregates()
    assert result.report()["pings_rejected"] == {"version_not_selected": 4}
    assert {r["version"] for r in result.aggregates()} == {"121"}
    with pytest.raises(ValueError, match="not a major version"):
        mzs.aggregate(session.sparkContext.parallelize(mixed, 3), versions=["121.0"])


def test_dict_pings_definitions_and_write(session, tmp_path):
    defs = tmp_path / "Histograms.json"
    defs.write_text(json.dumps({"GC_MS": {"kind": "exponential", "high": 1000,
                                          "n_buckets": 20, "description": "GC"}}))
    docs = varied_pings(30)
    rdd = session.sparkContext.parallelize(docs, 3)
    result = mzs.aggregate(rdd, definitions_paths={"histograms": str(defs)},
                           prefer_definitions=True)
    gc = [r for r in result.aggregates("build_id") if r["metric"] == "GC_MS"]
    assert gc and all(len(r["buckets"]) == 20 for r in gc)
    db = tmp_path / "spark.sqlite"
    written = mzs.write(result, db)
    assert written["targets_written"] > 0 and written["rows_rejected"] == {}
    store = Store.open(db)
    assert store.channels("submission_date") == ["beta", "nightly", "release"]
    q = store.query("build_id", "beta", "120", ["20240101"], "GC_MS", child="parent")
    rows = [r for r in result.aggregates("build_id") if (r["channel"], r["date"], r["metric"],
            r["process"]) == ("beta", "20240101", "GC_MS", "parent")]
    assert q.data[0]["count"] == sum(r["count"] for r in rows) > 0
    assert q.data[0]["sum"] == sum(r["sum"] for r in rows)
    with pytest.raises(ValueError):
        mzs.aggregate(rdd, definitions_paths={"histogram": str(defs)})


def test_empty_rdd(session):
    result = mzs.aggregate(session.sparkContext.emptyRDD())
    assert result.aggregates() == [] and result.report()["pings_read"] == 0
    result = mzs.aggregate(session.sparkContext.parallelize([], 2))
    assert result.aggregates() == []


def test_aggregate_files_on_executors(session, tmp_path):
    docs = [json.dumps(p) for p in varied_pings(90)]
    for i in range(3):
        (tmp_path / f"part-{i}.ndjson").write_text("\n".join(docs[i * 30:(i + 1) * 30]))
    local = Aggregator()
    local.add_pings(docs)
    result = mzs.aggregate_files(session.sparkContext, sorted(tmp_path.glob("*.ndjson")))
    assert result.aggregates() == local.aggregates()
    assert result.report()["files_read"] == 3
    assert mzs.aggregate_files(session.sparkContext, []).aggregates() == []


def test_mobile_pings_aggregate_in_spark_as_in_one_process(session, mobile_run):
    pings = [line for path in mobile_run.files for line in path.read_text().splitlines()]
    local = Aggregator(doc_type="mobile_metrics")
    local.add_pings(pings)
    rdd = session.sparkContext.parallelize(pings, 4)
    merged = mzs.aggregate(rdd, doc_type="mobile_metrics")
    assert counters(merged.report()) == counters(local.report())
    assert merged.aggregates() == local.aggregates() == mobile_run.rows
    on_files = mzs.aggregate_files(session.sparkContext, mobile_run.files,
                                   doc_type="mobile_metrics")
    assert on_files.aggregates() == mobile_run.rows

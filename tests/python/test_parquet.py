"""The Parquet export (`mozaggregator export --format parquet`) read by pyarrow, DuckDB and
PySpark, and `Store.export(...).to_arrow()`: each gives exactly the rows of the NDJSON export, in
the columns of the original's `aggregates_poc/v1` (plus `kind`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from conftest import require_java, run_cli
from mozaggregator import ExportRows, Store

pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed")

#: Partition columns, in directory nesting order.
PARTITIONS = ["metric", "aggregate_type", "period"]

COLUMNS = [
    "period", "aggregate_type", "submission_date", "channel", "version", "build_id",
    "application", "architecture", "os", "os_version", "metric", "key", "process_type",
    "count", "sum", "histogram", "kind",
]


def poc_row(row: dict) -> dict:
    """An NDJSON export row in the Parquet data set's columns."""
    build = row["prefix"] == "build_id"
    return {
        "period": row["date"][:6],
        "aggregate_type": row["prefix"],
        "submission_date": None if build else row["date"],
        "channel": row["channel"],
        "version": row["version"],
        # Mobile rows carry their build id as the pings sent it.
        "build_id": row["date"] if build else row.get("build_id"),
        "application": row["application"],
        "architecture": row["architecture"],
        "os": row["os"],
        "os_version": row["os_version"],
        "metric": row["metric"],
        "key": row["label"],
        "process_type": row["process"],
        "count": row["count"],
        "sum": row["sum"],
        "histogram": {str(b): c for b, c in zip(row["buckets"], row["histogram"]) if c},
        "kind": row["kind"],
    }


def normalized(row: dict) -> dict:
    """A row as a reader gives it: every column, the histogram map as a dict."""
    out = {c: row[c] for c in COLUMNS}
    h = out["histogram"]
    out["histogram"] = dict(h) if not isinstance(h, dict) else h
    return out


def key(row: dict) -> str:
    return repr(sorted((k, sorted(v.items()) if isinstance(v, dict) else v)
                       for k, v in row.items()))


def same_rows(got: list[dict], want: list[dict]) -> None:
    assert len(got) == len(want)
    assert sorted(map(key, got)) == sorted(map(key, want))


@pytest.fixture(scope="module")
def expected(cli_run) -> list[dict]:
    rows = [poc_row(r) for r in cli_run.rows]
    assert len(rows) > 1000
    assert any(r["build_id"] for r in rows) and any(r["submission_date"] for r in rows)
    return rows


@pytest.fixture(scope="module")
def dataset(cli, cli_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "aggregates"
    run_cli(cli, "export", "--db", cli_run.db, "--format", "parquet", "--out", out)
    return out


def test_layout_is_hive_partitioned_by_metric_aggregate_type_and_period(dataset, cli_run):
    files = sorted(p.relative_to(dataset) for p in dataset.rglob("*.parquet"))
    assert files
    for f in files:
        assert [part.split("=")[0] for part in f.parts[:3]] == PARTITIONS, f
        assert f.parts[3].startswith("part-")
    metrics = {r["metric"] for r in cli_run.rows}
    dirs = {f.parts[0] for f in files}
    assert len(dirs) == len(metrics)
    counted = [m for m in metrics if m.startswith("[[COUNT]]_")]
    if counted:  # Hive's escapes: `[` and `]` are %5B and %5D
        assert f"metric=%5B%5BCOUNT%5D%5D_{counted[0][len('[[COUNT]]_'):]}" in dirs


def test_pyarrow_reads_exactly_the_ndjson_rows(dataset, expected):
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(
        pa.schema([(c, pa.string()) for c in PARTITIONS]), flavor="hive")
    table = ds.dataset(dataset, format="parquet", partitioning=partitioning).to_table()
    histogram = table.schema.field("histogram").type
    assert (histogram.key_type, histogram.item_type) == (pa.string(), pa.int64())
    same_rows([normalized(r) for r in table.to_pylist()], expected)


def test_duckdb_reads_exactly_the_ndjson_rows(dataset, expected):
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    types = ", ".join(f"'{c}': VARCHAR" for c in PARTITIONS)
    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{dataset}/**/*.parquet', hive_partitioning = true, "
        f"hive_types = {{{types}}})")
    names = [d[0] for d in relation.description]
    rows = [dict(zip(names, values)) for values in relation.fetchall()]
    same_rows([normalized(r) for r in rows], expected)


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    from pyspark.sql import SparkSession

    require_java()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mozaggregator-parquet-tests")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.driver.memory", "1g")
        # Partition values stay strings (`period=202401` is not a number), as in the original.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_reads_exactly_the_ndjson_rows(spark, dataset, expected):
    frame = spark.read.parquet(str(dataset))
    types = dict(frame.dtypes)
    assert types["period"] == "string" and types["histogram"] == "map<string,bigint>"
    rows = [normalized(r.asDict()) for r in frame.collect()]
    same_rows(rows, expected)


def test_to_arrow_is_the_ndjson_rows_in_order(cli_run, expected):
    rows = Store.open(cli_run.db).export()
    assert isinstance(rows, ExportRows)
    table = rows.to_arrow()
    assert table.column_names == COLUMNS
    assert [normalized(r) for r in table.to_pylist()] == expected
    # the capsule interface, for any Arrow reader
    reader = pa.RecordBatchReader.from_stream(rows)
    assert reader.read_all().num_rows == len(expected)


def test_to_arrow_of_a_selection_and_of_an_empty_store(cli_run):
    store = Store.open(cli_run.db)
    table = store.export("build_id").to_arrow()
    assert set(table.column("aggregate_type").to_pylist()) == {"build_id"}
    assert table.column("submission_date").null_count == table.num_rows > 0
    empty = Store.memory().export().to_arrow()
    assert (empty.num_rows, empty.column_names) == (0, COLUMNS)


def test_export_rows_still_behave_as_the_list_of_dicts(cli_run):
    rows = Store.open(cli_run.db).export()
    assert rows == cli_run.rows and rows == Store.open(cli_run.db).export()
    assert len(rows) == len(cli_run.rows)
    assert rows[0] == cli_run.rows[0] and rows[-1] == cli_run.rows[-1]
    assert rows[1:3] == cli_run.rows[1:3]
    assert list(rows) == cli_run.rows
    assert repr(Store.memory().export()) == "[]"
    with pytest.raises(IndexError):
        Store.memory().export()[0]


def test_to_pandas_and_to_polars_go_through_arrow(cli_run, expected):
    pytest.importorskip("pandas", reason="pandas is not installed")
    rows = Store.open(cli_run.db).export()
    frame = rows.to_pandas()
    assert list(frame.columns) == COLUMNS and len(frame) == len(expected)
    assert dict(frame["histogram"].iloc[0]) == expected[0]["histogram"]
    polars = pytest.importorskip("polars", reason="polars is not installed")
    pl = rows.to_polars()
    assert isinstance(pl, polars.DataFrame)
    assert pl.columns == COLUMNS and pl.height == len(expected)


def test_query_to_arrow_is_the_data(cli_run):
    row = next(r for r in cli_run.rows
               if r["prefix"] == "submission_date" and r["kind"] == "exponential")
    store = Store.open(cli_run.db)
    q = store.query("submission_date", row["channel"], row["version"], [row["date"]],
                    row["metric"])
    table = q.to_arrow()
    assert table.column_names == ["date", "label", "count", "sum", *map(str, q.buckets)]
    got = table.to_pylist()
    assert len(got) == len(q.data) > 0
    for entry, r in zip(q.data, got):
        assert (r["date"], r["label"], r["count"], r["sum"]) == (
            entry["date"], entry["label"], entry["count"], entry["sum"])
        assert [r[str(b)] for b in q.buckets] == entry["histogram"]
    frame = q.to_pandas()
    assert list(frame.columns) == ["date", "label", "count", "sum", *q.buckets]
    grouped = store.query("submission_date", row["channel"], row["version"], [row["date"]],
                          row["metric"], group_by="os")
    assert "group" in grouped.to_arrow().column_names


# --- Mobile rows (`export --doc-type mobile_metrics --format parquet`) ------------------------


@pytest.fixture(scope="module")
def mobile_expected(mobile_run) -> list[dict]:
    rows = [poc_row(r) for r in mobile_run.rows]
    assert rows and all(r["aggregate_type"] == "mobile_metrics" and r["build_id"] for r in rows)
    return rows


@pytest.fixture(scope="module")
def mobile_dataset(cli, mobile_run, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "mobile"
    run_cli(cli, "export", "--db", mobile_run.db, "--doc-type", "mobile_metrics",
            "--format", "parquet", "--out", out)
    return out


def test_mobile_rows_are_partitioned_as_their_own_aggregate_type(mobile_dataset, mobile_run):
    files = sorted(p.relative_to(mobile_dataset) for p in mobile_dataset.rglob("*.parquet"))
    assert {f.parts[1] for f in files} == {"aggregate_type=mobile_metrics"}
    assert len({f.parts[0] for f in files}) == len({r["metric"] for r in mobile_run.rows})


def test_readers_get_exactly_the_mobile_ndjson_rows(spark, mobile_dataset, mobile_expected):
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(
        pa.schema([(c, pa.string()) for c in PARTITIONS]), flavor="hive")
    table = ds.dataset(mobile_dataset, format="parquet", partitioning=partitioning).to_table()
    same_rows([normalized(r) for r in table.to_pylist()], mobile_expected)
    duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed")
    types = ", ".join(f"'{c}': VARCHAR" for c in PARTITIONS)
    relation = duckdb.sql(
        f"SELECT * FROM read_parquet('{mobile_dataset}/**/*.parquet', hive_partitioning = true, "
        f"hive_types = {{{types}}})")
    names = [d[0] for d in relation.description]
    same_rows([normalized(dict(zip(names, v))) for v in relation.fetchall()], mobile_expected)
    frame = spark.read.parquet(str(mobile_dataset))
    same_rows([normalized(r.asDict()) for r in frame.collect()], mobile_expected)


def test_mobile_to_arrow_is_the_ndjson_rows_in_order(mobile_run, mobile_expected):
    table = Store.open(mobile_run.db).export(doc_type="mobile_metrics").to_arrow()
    assert table.column_names == COLUMNS
    assert [normalized(r) for r in table.to_pylist()] == mobile_expected

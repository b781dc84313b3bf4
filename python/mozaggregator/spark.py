"""Distributed aggregation with PySpark: each partition is aggregated by the native
``Aggregator``, and the partial aggregates are merged across the cluster.

pyspark is optional (``pip install 'mozaggregator[spark]'``): this module imports without it,
and its functions raise ImportError when it is missing. Executors need ``mozaggregator``
installed in the Python that Spark runs there (set ``PYSPARK_PYTHON``).

A sketch (it needs a running Spark; see docs/python.md for a complete example)::

    from pyspark.sql import SparkSession
    from mozaggregator import spark as mzs

    session = SparkSession.builder.master("local[2]").getOrCreate()
    pings = session.sparkContext.textFile("pings/*.ndjson")   # one JSON ping per line
    aggregates = mzs.aggregate(pings, submission_date="20240102")
    print(aggregates.report()["pings_used"])
    mzs.write(aggregates, "aggregates.sqlite")
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

from mozaggregator._native import Aggregator, Definitions, Store

__all__ = ["aggregate", "aggregate_files", "write"]


def _require_pyspark() -> Any:
    try:
        import pyspark
    except ImportError as err:
        raise ImportError(
            "mozaggregator.spark needs pyspark, which is not installed: "
            "pip install 'mozaggregator[spark]' (or pip install pyspark)"
        ) from err
    return pyspark


def _options(
    channels: Optional[Sequence[str]],
    versions: Optional[Sequence[str]],
    submission_date: Optional[str],
    definitions_paths: Optional[Mapping[str, Any]],
    prefer_definitions: bool,
    full_os_version: bool,
    replicates: Optional[int],
    doc_type: str = "main",
) -> dict[str, Any]:
    options: dict[str, Any] = {
        "channels": list(channels) if channels is not None else None,
        "versions": list(versions) if versions is not None else None,
        "submission_date": submission_date,
        "prefer_definitions": prefer_definitions,
        "full_os_version": full_os_version,
        "replicates": replicates,
        "doc_type": doc_type,
    }
    if definitions_paths is not None:
        unknown = set(definitions_paths) - {"histograms", "scalars"}
        if unknown:
            raise ValueError(
                f"definitions_paths: unknown keys {sorted(unknown)} (use histograms, scalars)"
            )
        options["definitions_paths"] = dict(definitions_paths)
    return options


def _new_aggregator(options: Mapping[str, Any]) -> Aggregator:
    options = dict(options)
    paths = options.pop("definitions_paths", None)
    definitions = Definitions(**paths) if paths is not None else None
    return Aggregator(definitions=definitions, **options)


def _aggregate_partition(options: Mapping[str, Any]):
    def run(pings: Iterable[Any]) -> Iterator[Aggregator]:
        aggregator = _new_aggregator(options)
        aggregator.add_pings(pings)
        yield aggregator

    return run


def _merge(a: Aggregator, b: Aggregator) -> Aggregator:
    a.merge(b)
    return a


def aggregate(
    data: Any,
    *,
    column: Optional[str] = None,
    channels: Optional[Sequence[str]] = None,
    versions: Optional[Sequence[str]] = None,
    submission_date: Optional[str] = None,
    definitions_paths: Optional[Mapping[str, Any]] = None,
    prefer_definitions: bool = False,
    full_os_version: bool = False,
    replicates: Optional[int] = None,
    doc_type: str = "main",
    depth: int = 2,
) -> Aggregator:
    """Aggregates the pings of a Spark RDD (or of one column of a DataFrame).

    ``data`` is an RDD whose elements are pings as ``Aggregator.add_ping`` takes them (JSON
    ``str``, JSON ``bytes`` or ``dict``), or a DataFrame with such a ``column``. Each partition
    is aggregated by a native ``Aggregator`` (``mapPartitions``), and the partial aggregates —
    pickled in their compact byte form — are merged with ``treeReduce`` of the given
    ``depth``. The options are those of ``Aggregator`` (``replicates=R`` included: every
    partition splits its pings into the same R groups); ``definitions_paths`` holds the paths
    ``Definitions`` takes (``{"histograms": path, "scalars": path or [paths]}``), which every
    executor reads, so they must be readable there. ``doc_type="mobile_metrics"`` aggregates
    mobile-metrics pings into the mobile family instead (docs/ingest.md, "Mobile pings").

    Returns an ``Aggregator`` in the driver holding the build-id and submission-date aggregates
    and the merged report of every partition: inspect it (``report()``, ``aggregates()``,
    ``to_pandas()``) or store it (``write(aggregates, path)`` or ``aggregates.write(store)``).
    """
    _require_pyspark()
    options = _options(
        channels,
        versions,
        submission_date,
        definitions_paths,
        prefer_definitions,
        full_os_version,
        replicates,
        doc_type,
    )
    # Check the options in the driver, where a mistake is cheap to report.
    _new_aggregator(options)
    rdd = data
    if column is not None:
        rdd = data.select(column).rdd.map(lambda row: row[0])
    elif hasattr(data, "rdd") and hasattr(data, "select"):
        raise ValueError("aggregate(): pass the name of the column holding the pings")
    if rdd.getNumPartitions() == 0:
        return _new_aggregator(options)
    return rdd.mapPartitions(_aggregate_partition(options)).treeReduce(_merge, depth=depth)


def _aggregate_files_partition(options: Mapping[str, Any]):
    def run(paths: Iterable[str]) -> Iterator[Aggregator]:
        aggregator = _new_aggregator(options)
        paths = list(paths)
        if paths:
            aggregator.add_files(paths, threads=1)
        yield aggregator

    return run


def aggregate_files(
    spark_context: Any,
    paths: Sequence[Any],
    *,
    partitions: Optional[int] = None,
    channels: Optional[Sequence[str]] = None,
    versions: Optional[Sequence[str]] = None,
    submission_date: Optional[str] = None,
    definitions_paths: Optional[Mapping[str, Any]] = None,
    prefer_definitions: bool = False,
    full_os_version: bool = False,
    replicates: Optional[int] = None,
    doc_type: str = "main",
    depth: int = 2,
) -> Aggregator:
    """Aggregates ping files on the executors: the ``paths`` (files or directories, as
    ``Aggregator.add_files`` takes them; they must be readable on every executor, e.g. on
    shared storage) are spread over ``partitions`` tasks (default: one per path, at most
    ``spark_context.defaultParallelism * 4``), each reading its files natively with
    ``add_files``. Options and result as ``aggregate``.
    """
    _require_pyspark()
    options = _options(
        channels,
        versions,
        submission_date,
        definitions_paths,
        prefer_definitions,
        full_os_version,
        replicates,
        doc_type,
    )
    _new_aggregator(options)
    paths = [str(p) for p in paths]
    if not paths:
        return _new_aggregator(options)
    if partitions is None:
        partitions = min(len(paths), max(1, spark_context.defaultParallelism * 4))
    rdd = spark_context.parallelize(paths, partitions)
    return rdd.mapPartitions(_aggregate_files_partition(options)).treeReduce(
        _merge, depth=depth
    )


def write(aggregates: Aggregator, db_path: Any) -> dict[str, Any]:
    """Writes aggregates (from ``aggregate``) into the store at ``db_path`` — a SQLite file
    (created if needed) or a ``postgres://`` URL — and returns the write report of
    ``Aggregator.write``. Writing the same submission date twice changes nothing the second
    time."""
    return aggregates.write(Store.open(db_path))

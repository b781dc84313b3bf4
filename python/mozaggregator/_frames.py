"""The pandas helpers of the package: the ``.to_pandas()`` and ``*_frame`` methods of
``Aggregator``, ``Store`` and ``QueryResult``, and ``comparison_frame`` (pandas is optional).

The native classes give plain data (lists and dicts); :func:`attach` adds these methods to them
when ``mozaggregator`` is imported, so the native layer never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Optional, Sequence, Union

if TYPE_CHECKING:  # pragma: no cover
    from mozaggregator._native import Aggregator, ExportRows, QueryResult, Store

#: Columns of ``Aggregator.aggregates()`` rows, in the CLI ``export`` order.
AGGREGATE_COLUMNS = [
    "prefix",
    "channel",
    "version",
    "date",
    "metric",
    "label",
    "process",
    "application",
    "architecture",
    "os",
    "os_version",
    "kind",
    "buckets",
    "histogram",
    "sum",
    "count",
]


def require_pandas() -> Any:
    """Imports pandas, or raises ImportError saying how to install it."""
    try:
        import pandas
    except ImportError as err:  # pragma: no cover - exercised by a test with pandas hidden
        raise ImportError(
            "to_pandas() needs pandas, which is not installed: "
            "pip install 'mozaggregator[pandas]' (or pip install pandas)"
        ) from err
    return pandas


def aggregates_frame(rows: Iterable[Mapping[str, Any]]) -> Any:
    """One DataFrame row per aggregate series, with the CLI ``export`` columns."""
    pd = require_pandas()
    rows = list(rows)
    columns = list(AGGREGATE_COLUMNS)
    if rows and "build_id" in rows[0]:
        # Mobile rows (``doc_type="mobile_metrics"``) carry their build id after the date.
        columns.insert(columns.index("date") + 1, "build_id")
    return pd.DataFrame(rows, columns=columns)


def query_frame(result: Any) -> Any:
    """A ``QueryResult`` as a DataFrame: one row per (date, label) with ``count`` and ``sum``,
    then one column per bucket (named by the bucket's lower bound or label)."""
    pd = require_pandas()
    buckets = list(result.buckets)
    records = []
    for entry in result.data:
        record = {
            "date": entry["date"],
            "label": entry["label"],
            "count": entry["count"],
            "sum": entry["sum"],
        }
        record.update(zip(buckets, entry["histogram"]))
        records.append(record)
    return pd.DataFrame(records, columns=["date", "label", "count", "sum", *buckets])


def records_frame(rows: Iterable[Mapping[str, Any]]) -> Any:
    """A list of dicts (``QueryResult.stats()``) as a DataFrame, columns in first-seen order."""
    pd = require_pandas()
    return pd.DataFrame(list(rows))


#: The interval columns of ``comparison_frame`` for ``compare(..., ci=…)``.
CI_COLUMNS = ["lower", "upper", "relative_lower", "relative_upper", "excludes_zero"]


def comparison_frame(comparison: Mapping[str, Any]) -> Any:
    """``compare(a, b)`` as a pandas DataFrame: one row per statistic (``samples``, ``pings``,
    ``mean``, each percentile) with columns ``a``, ``b``, ``absolute`` and ``relative``.

    With ``compare(..., ci=…)`` also ``lower`` and ``upper`` (the interval of ``absolute``),
    ``relative_lower``, ``relative_upper`` and ``excludes_zero`` (of ``absolute``'s
    interval); ``None`` for ``samples`` and ``pings``, which have no interval."""
    pd = require_pandas()
    with_ci = "ci" in comparison
    records = []
    for name, delta in comparison["deltas"].items():
        if name in ("samples", "pings", "mean"):
            a, b = comparison["a"][name], comparison["b"][name]
        else:
            a, b = comparison["a"]["percentiles"][name], comparison["b"]["percentiles"][name]
        record = {"stat": name, "a": a, "b": b,
                  "absolute": delta["absolute"], "relative": delta["relative"]}
        if with_ci:
            ci = delta.get("ci") or {}
            absolute, relative = ci.get("absolute") or {}, ci.get("relative") or {}
            record.update(lower=absolute.get("lower"), upper=absolute.get("upper"),
                          relative_lower=relative.get("lower"),
                          relative_upper=relative.get("upper"),
                          excludes_zero=absolute.get("excludes_zero"))
        records.append(record)
    columns = ["stat", "a", "b", "absolute", "relative", *(CI_COLUMNS if with_ci else [])]
    return pd.DataFrame(records, columns=columns).set_index("stat")


def buckets_frame(result: Any, values: Iterable[Iterable[float]]) -> Any:
    """Per-bucket values of a ``QueryResult`` (proportions, CDF) as a DataFrame: one row per
    (date, label), then one column per bucket (named by its lower bound or label)."""
    pd = require_pandas()
    buckets = list(result.buckets)
    records = []
    for entry, row in zip(result.data, values):
        record = {"date": entry["date"], "label": entry["label"]}
        record.update(zip(buckets, row))
        records.append(record)
    return pd.DataFrame(records, columns=["date", "label", *buckets])


# The methods attached to the native classes.


def _aggregator_to_pandas(self: Aggregator, prefix: Optional[str] = None) -> Any:
    """``aggregates(prefix)`` as a pandas DataFrame (``ImportError`` without pandas)."""
    require_pandas()
    return aggregates_frame(self.aggregates(prefix))


def _store_to_pandas(
    self: Store,
    prefix: Optional[str] = None,
    *,
    channel: Optional[str] = None,
    version: Optional[str] = None,
    doc_type: str = "main",
) -> Any:
    """``export(prefix, channel=…, version=…, doc_type=…)`` as a pandas DataFrame
    (``ImportError`` without pandas)."""
    require_pandas()
    rows = self.export(prefix, channel=channel, version=version, doc_type=doc_type)
    return aggregates_frame(rows)


def _result_to_pandas(self: QueryResult) -> Any:
    """``data`` as a pandas DataFrame: one row per (date, label) with ``date``, ``label``
    (``group`` when grouped), ``count``, ``sum``, then one column per bucket (named by its
    lower bound or label). Built through ``to_arrow()`` when pyarrow is installed.
    ``ImportError`` without pandas."""
    require_pandas()
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return query_frame(self)
    frame = self.to_arrow().to_pandas()
    buckets = list(self.buckets)
    frame.columns = [*frame.columns[: len(frame.columns) - len(buckets)], *buckets]
    return frame


def _result_stats_frame(
    self: QueryResult,
    stats: Union[str, Sequence[str], None] = None,
    *,
    method: str = "interp",
    ci: Union[float, str, None] = None,
) -> Any:
    """``stats(...)`` as a pandas DataFrame (``ImportError`` without pandas); with ``ci``, the
    ``<stat>_lower`` and ``<stat>_upper`` columns of the intervals."""
    require_pandas()
    return records_frame(self.stats(stats, method=method, ci=ci))  # type: ignore[arg-type]


def _result_proportions_frame(self: QueryResult) -> Any:
    """``proportions()`` as a pandas DataFrame: one row per (date, label), one column per
    bucket (``ImportError`` without pandas)."""
    return buckets_frame(self, self.proportions())


def _result_cdf_frame(self: QueryResult) -> Any:
    """``cdf()`` as a pandas DataFrame: one row per (date, label), one column per bucket
    (``ImportError`` without pandas)."""
    return buckets_frame(self, self.cdf())


def require_polars() -> Any:
    """Imports polars, or raises ImportError saying how to install it."""
    try:
        import polars
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "to_polars() needs polars, which is not installed: pip install polars"
        ) from err
    return polars


def _rows_to_pandas(self: ExportRows) -> Any:
    """``to_arrow()`` as a pandas DataFrame (the Parquet export's columns; ``histogram`` as
    lists of ``(bucket, count)`` pairs). ``ImportError`` without pandas or pyarrow."""
    require_pandas()
    return self.to_arrow().to_pandas()


def _rows_to_polars(self: ExportRows) -> Any:
    """``to_arrow()`` as a polars DataFrame (``ImportError`` without polars or pyarrow)."""
    polars = require_polars()
    return polars.from_arrow(self.to_arrow())


def attach(aggregator: type, query_result: type, store: type, export_rows: type) -> None:
    """Adds the pandas methods to the native classes (called once by ``mozaggregator``)."""
    for cls, name, function in [
        (aggregator, "to_pandas", _aggregator_to_pandas),
        (store, "to_pandas", _store_to_pandas),
        (export_rows, "to_pandas", _rows_to_pandas),
        (export_rows, "to_polars", _rows_to_polars),
        (query_result, "to_pandas", _result_to_pandas),
        (query_result, "stats_frame", _result_stats_frame),
        (query_result, "proportions_frame", _result_proportions_frame),
        (query_result, "cdf_frame", _result_cdf_frame),
    ]:
        function.__name__ = name
        function.__qualname__ = f"{cls.__name__}.{name}"
        setattr(cls, name, function)
